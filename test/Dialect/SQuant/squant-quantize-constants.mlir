// RUN: squant-opt %s -squant-quantize-constants -split-input-file -verify-diagnostics | FileCheck %s
// RUN: squant-opt %s -squant-quantize-constants="pack=msb_first" -split-input-file -verify-diagnostics | FileCheck %s --check-prefix=PACK
// RUN: squant-opt %s -squant-quantize-constants="scheme=symmetric bits=4 group-size=2" -split-input-file -verify-diagnostics | FileCheck %s --check-prefix=OPT

// CHECK-LABEL: func @fold_choose_and_quantize_not_dequantize
func.func @fold_choose_and_quantize_not_dequantize() -> tensor<1x4xf32> {
  /// choose_qparams and quantize fold; dequantize stays so the weight stays
  /// quantized for the rewrites that follow.
  // CHECK-DAG: %[[S:.*]] = arith.constant dense<0.266666681> : tensor<1xf32>
  // CHECK-DAG: %[[Z:.*]] = arith.constant dense<-4> : tensor<1xi8>
  // CHECK-DAG: %[[Q:.*]] = arith.constant dense<{{\[}}[-8, -2, 3, 7]]> : tensor<1x4xi8>
  // CHECK: squant.dequantize %[[Q]], %[[S]], %[[Z]]
  %w = arith.constant dense<[[-1.0, 0.5, 2.0, 3.0]]> : tensor<1x4xf32>
  %s, %zp = squant.choose_qparams %w scheme <asymmetric, bits = 4, axis = 0> : tensor<1x4xf32> -> tensor<1xf32>, tensor<1xi8>
  %q = squant.quantize %w, %s, %zp scheme <asymmetric, bits = 4, axis = 0> : tensor<1x4xf32>, tensor<1xf32>, tensor<1xi8> -> tensor<1x4xi8>
  %d = squant.dequantize %q, %s, %zp scheme <asymmetric, bits = 4, axis = 0> : tensor<1x4xi8>, tensor<1xf32>, tensor<1xi8> -> tensor<1x4xf32>
  return %d : tensor<1x4xf32>
}

// -----

// CHECK-LABEL: func @weight_with_scheme_attribute
// OPT-LABEL: func @weight_with_scheme_attribute
func.func @weight_with_scheme_attribute(%x: tensor<4xf32>, %acc: tensor<2xf32>) -> tensor<2xf32> {
  /// The attribute's scheme wins over the options: stretched 2-bit per row.
  /// Row 0: mean|x| = 1, max_val = min(2 * 1, 1.5), s = 1; x = -1 is a tie
  /// (v = -1.5 -> -2). Row 1: mean 1.75, max_val = min(3.5, 3), s = 2.
  // CHECK-DAG: %[[Q:.*]] = arith.constant dense<{{\[}}[0, -2, 0, -2], [0, 0, -1, -2]]> : tensor<2x4xi8>
  // CHECK-DAG: %[[S:.*]] = arith.constant dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>
  // CHECK: %[[D:.*]] = squant.dequantize %[[Q]], %[[S]] scheme <stretched, bits = 2, axis = 0>
  // CHECK: linalg.matvec ins(%[[D]], %{{.*}} : tensor<2x4xf32>, tensor<4xf32>)
  // OPT: scheme <stretched, bits = 2, axis = 0>
  %w = arith.constant {squant.scheme = #squant.affine<stretched, bits = 2, axis = 0>}
      dense<[[1.0, -1.0, 0.5, -1.5], [2.0, 1.0, -1.0, -3.0]]> : tensor<2x4xf32>
  %y = linalg.matvec ins(%w, %x : tensor<2x4xf32>, tensor<4xf32>) outs(%acc : tensor<2xf32>) -> tensor<2xf32>
  return %y : tensor<2xf32>
}

// -----

// CHECK-LABEL: func @kn_weight_by_options
// OPT-LABEL: func @kn_weight_by_options
func.func @kn_weight_by_options(%x: tensor<1x4xf32>, %acc: tensor<1x2xf32>) -> tensor<1x2xf32> {
  /// A [K, N] weight: the option's groups run along K = axis 0.
  /// Without a scheme (first RUN) nothing changes.
  // CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<1x4xf32>, tensor<4x2xf32>)
  // CHECK-NOT: squant.dequantize
  // OPT-DAG: %[[S:.*]] = arith.constant dense<{{\[}}[0.266666681, 0.533333361], [0.533333361, 0.266666681]]> : tensor<2x2xf32>
  // OPT: squant.dequantize %{{.*}}, %[[S]] scheme <symmetric, bits = 4, axis = 0, group_size = 2> : tensor<4x2xi8>, tensor<2x2xf32> -> tensor<4x2xf32>
  %w = arith.constant dense<[[1.0, 4.0], [-2.0, -1.0], [4.0, 2.0], [-1.0, 0.5]]> : tensor<4x2xf32>
  %y = linalg.matmul ins(%x, %w : tensor<1x4xf32>, tensor<4x2xf32>) outs(%acc : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

// CHECK-LABEL: func @packed_codes
func.func @packed_codes(%x: tensor<8xf32>, %acc: tensor<1xf32>) -> tensor<1xf32> {
  /// With pack=msb_first the codes are stored as bytes (q[2j] << 4 |
  /// q[2j+1]) and unpacked for the dequantize.
  // CHECK: squant.dequantize %{{.*}}, %{{.*}}, %{{.*}} scheme <float_zero_point
  // PACK-LABEL: func @packed_codes
  // PACK: %[[P:.*]] = arith.constant dense<{{\[}}[{{.*}}]]> : tensor<1x4xi8>
  // PACK: %[[U:.*]] = squant.unpack %[[P]] layout <order = msb_first, bits = 4, storage = unsigned> : tensor<1x4xi8> -> tensor<1x8xi8>
  // PACK: squant.dequantize %[[U]]
  %w = arith.constant {squant.scheme = #squant.affine<float_zero_point, bits = 4, storage = unsigned, axis = 1, group_size = 4>}
      dense<[[0.1, 0.2, 0.3, 0.4, -0.1, -0.2, -0.3, -0.4]]> : tensor<1x8xf32>
  %y = linalg.matvec ins(%w, %x : tensor<1x8xf32>, tensor<8xf32>) outs(%acc : tensor<1xf32>) -> tensor<1xf32>
  return %y : tensor<1xf32>
}

// -----

func.func @error_non_finite_weight(%x: tensor<2xf32>, %acc: tensor<1xf32>) -> tensor<1xf32> {
  /// D5: a non-finite weight is an error at the constant.
  // expected-error@+1 {{weight has a non-finite value at flat index 1; squant quantizes finite weights only}}
  %w = arith.constant {squant.scheme = #squant.affine<symmetric, bits = 4, axis = 0>} dense<[[1.0, 0x7F800000]]> : tensor<1x2xf32>
  %y = linalg.matvec ins(%w, %x : tensor<1x2xf32>, tensor<2xf32>) outs(%acc : tensor<1xf32>) -> tensor<1xf32>
  return %y : tensor<1xf32>
}

