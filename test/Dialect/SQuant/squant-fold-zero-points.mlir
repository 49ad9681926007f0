// RUN: squant-opt %s -squant-fold-zero-points -split-input-file | FileCheck %s
// RUN: squant-opt %s -squant-fold-zero-points="allow-inexact" -split-input-file | FileCheck %s --check-prefix=INEXACT

// CHECK-LABEL: func @stretched_dynamic_scale
// CHECK-SAME: (%[[Q:.*]]: tensor<8x64xi8>, %[[S:.*]]: tensor<8x2xf32>)
func.func @stretched_dynamic_scale(%q: tensor<8x64xi8>, %s: tensor<8x2xf32>) -> tensor<8x64xf32> {
  /// b = 0.5 s, computed once per group on the [8, 2] scale tensor.
  // CHECK: %[[HALF:.*]] = arith.constant dense<5.000000e-01> : tensor<8x2xf32>
  // CHECK: %[[B:.*]] = arith.mulf %[[S]], %[[HALF]] : tensor<8x2xf32>
  // CHECK: squant.fma_dequantize %[[Q]], %[[S]], %[[B]] form(<bits = 2, axis = 1, group_size = 32>)
  // CHECK-NOT: squant.dequantize
  %w = squant.dequantize %q, %s scheme <stretched, bits = 2, axis = 1, group_size = 32> : tensor<8x64xi8>, tensor<8x2xf32> -> tensor<8x64xf32>
  return %w : tensor<8x64xf32>
}

// -----

// CHECK-LABEL: func @stretched_constant_scale
func.func @stretched_constant_scale(%q: tensor<2x4xi8>) -> tensor<2x4xf32> {
  /// Constant scales: the bias is folded at compile time.
  // CHECK: %[[B:.*]] = arith.constant dense<{{\[}}[0.958333313], [5.000000e-01]]> : tensor<2x1xf32>
  // CHECK: squant.fma_dequantize %{{.*}}, %{{.*}}, %[[B]]
  %s = arith.constant dense<[[1.91666663], [1.0]]> : tensor<2x1xf32>
  %w = squant.dequantize %q, %s scheme <stretched, bits = 2, axis = 1, group_size = 4> : tensor<2x4xi8>, tensor<2x1xf32> -> tensor<2x4xf32>
  return %w : tensor<2x4xf32>
}

// -----

// CHECK-LABEL: func @symmetric_signed
func.func @symmetric_signed(%q: tensor<8x64xi8>, %s: tensor<8xf32>) -> tensor<8x64xf32> {
  /// zp = 0: b = 0.
  // CHECK: %[[Z:.*]] = arith.constant dense<0.000000e+00> : tensor<8xf32>
  // CHECK: squant.fma_dequantize %{{.*}}, %{{.*}}, %[[Z]] form(<bits = 4, axis = 0>)
  %w = squant.dequantize %q, %s scheme <symmetric, bits = 4, axis = 0> : tensor<8x64xi8>, tensor<8xf32> -> tensor<8x64xf32>
  return %w : tensor<8x64xf32>
}

// -----

// CHECK-LABEL: func @symmetric_unsigned
func.func @symmetric_unsigned(%q: tensor<8x64xi8>, %s: tensor<f32>) -> tensor<8x64xf32> {
  /// zp = 2^(b-1) = 8: b = -8 s, exact (a power-of-two scaling).
  // CHECK: %[[M8:.*]] = arith.constant dense<-8.000000e+00> : tensor<f32>
  // CHECK: %[[B:.*]] = arith.mulf %{{.*}}, %[[M8]] : tensor<f32>
  // CHECK: squant.fma_dequantize %{{.*}}, %{{.*}}, %[[B]] form(<bits = 4, storage = unsigned>)
  %w = squant.dequantize %q, %s scheme <symmetric, bits = 4, storage = unsigned> : tensor<8x64xi8>, tensor<f32> -> tensor<8x64xf32>
  return %w : tensor<8x64xf32>
}

// -----

// CHECK-LABEL: func @negative_int_asymmetric
// INEXACT-LABEL: func @negative_int_asymmetric
func.func @negative_int_asymmetric(%q: tensor<8x64xi8>, %s: tensor<8x2xf32>, %z: tensor<8x2xi8>) -> tensor<8x64xf32> {
  /// fl(-zp s) is rounded: a standalone dequantize keeps its exact form
  /// unless allow-inexact asks for the fold.
  // CHECK: squant.dequantize
  // CHECK-NOT: squant.fma_dequantize
  // INEXACT: %[[ZF:.*]] = arith.uitofp %{{.*}} : tensor<8x2xi8> to tensor<8x2xf32>
  // INEXACT: %[[NEG:.*]] = arith.negf %[[ZF]] : tensor<8x2xf32>
  // INEXACT: %[[B:.*]] = arith.mulf %[[NEG]], %{{.*}} : tensor<8x2xf32>
  // INEXACT: squant.fma_dequantize %{{.*}}, %{{.*}}, %[[B]] form(<bits = 4, storage = unsigned, axis = 1, group_size = 32>)
  %w = squant.dequantize %q, %s, %z scheme <asymmetric, bits = 4, storage = unsigned, axis = 1, group_size = 32> : tensor<8x64xi8>, tensor<8x2xf32>, tensor<8x2xi8> -> tensor<8x64xf32>
  return %w : tensor<8x64xf32>
}

// -----

// CHECK-LABEL: func @negative_tinygemm
// INEXACT-LABEL: func @negative_tinygemm
func.func @negative_tinygemm(%q: tensor<8x64xi8>, %s: tensor<8x2xbf16>, %z: tensor<8x2xbf16>) -> tensor<8x64xbf16> {
  /// tinygemm's reference rounds twice: inexact, folded only on request
  /// into b = fma(s, -8, zp).
  // CHECK: squant.dequantize
  // INEXACT: %[[M8:.*]] = arith.constant dense<-8.000000e+00> : tensor<8x2xbf16>
  // INEXACT: %[[B:.*]] = math.fma %{{.*}}, %[[M8]], %{{.*}} : tensor<8x2xbf16>
  // INEXACT: squant.fma_dequantize %{{.*}}, %{{.*}}, %[[B]]
  %w = squant.dequantize %q, %s, %z scheme <float_zero_point, bits = 4, storage = unsigned, axis = 1, group_size = 32> : tensor<8x64xi8>, tensor<8x2xbf16>, tensor<8x2xbf16> -> tensor<8x64xbf16>
  return %w : tensor<8x64xbf16>
}

// -----

// CHECK-LABEL: func @negative_stretched_subnormal_eps
func.func @negative_stretched_subnormal_eps(%q: tensor<8x64xi8>, %s: tensor<8x2xf32>) -> tensor<8x64xf32> {
  /// eps / 1.5 < 2^-125: a subnormal scale could make 0.5 s inexact.
  // CHECK: squant.dequantize
  // CHECK-NOT: squant.fma_dequantize
  %w = squant.dequantize %q, %s scheme <stretched, bits = 2, axis = 1, group_size = 32, eps = 1.0e-38 : f32> : tensor<8x64xi8>, tensor<8x2xf32> -> tensor<8x64xf32>
  return %w : tensor<8x64xf32>
}

// -----

// CHECK-LABEL: func @negative_stretched_subnormal_constant
func.func @negative_stretched_subnormal_constant(%q: tensor<1x4xi8>) -> tensor<1x4xf32> {
  /// A constant subnormal scale with its lowest bit set: 0.5 s rounds.
  // CHECK: squant.dequantize
  %s = arith.constant dense<[[4.20389539E-45]]> : tensor<1x1xf32>
  %w = squant.dequantize %q, %s scheme <stretched, bits = 2, axis = 1, group_size = 4, eps = 1.0e-45 : f32> : tensor<1x4xi8>, tensor<1x1xf32> -> tensor<1x4xf32>
  return %w : tensor<1x4xf32>
}
