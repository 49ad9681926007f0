// RUN: squant-opt %s -squant-to-lut -split-input-file -verify-diagnostics | FileCheck %s
// RUN: squant-opt %s -squant-to-lut="float-lut" -split-input-file 2>/dev/null | FileCheck %s --check-prefix=FLOAT

// CHECK-LABEL: func @stretched_2bit
// CHECK-SAME: (%[[Q:.*]]: tensor<8x64xi8>, %[[S:.*]]: tensor<8x2xf32>)
func.func @stretched_2bit(%q: tensor<8x64xi8>, %s: tensor<8x2xf32>) -> tensor<8x64xf32> {
  /// Rule 1 with e = 1: T = 2q + 1, s_table = 0.5 s, idx = q + 2.
  // CHECK-DAG: %[[OFF:.*]] = arith.constant dense<2> : tensor<8x64xi8>
  // CHECK-DAG: %[[HALF:.*]] = arith.constant dense<5.000000e-01> : tensor<8x2xf32>
  // CHECK-DAG: %[[T:.*]] = arith.constant dense<[-3, -1, 1, 3]> : tensor<4xi8>
  // CHECK-DAG: %[[IDX:.*]] = arith.addi %[[Q]], %[[OFF]] : tensor<8x64xi8>
  // CHECK-DAG: %[[ST:.*]] = arith.mulf %[[S]], %[[HALF]] : tensor<8x2xf32>
  // CHECK: squant.lut_dequantize %[[IDX]], %[[T]] scales(%[[ST]]) scheme <bits = 2, axis = 1, group_size = 32>
  %w = squant.dequantize %q, %s scheme <stretched, bits = 2, axis = 1, group_size = 32> : tensor<8x64xi8>, tensor<8x2xf32> -> tensor<8x64xf32>
  return %w : tensor<8x64xf32>
}

// -----

// CHECK-LABEL: func @stretched_constant_scales
func.func @stretched_constant_scales(%q: tensor<2x4xi8>) -> tensor<2x4xf32> {
  /// Constant scales: s_table is folded.
  // CHECK: arith.constant dense<{{\[}}[5.000000e-01], [1.250000e-01]]> : tensor<2x1xf32>
  %s = arith.constant dense<[[1.0], [0.25]]> : tensor<2x1xf32>
  %w = squant.dequantize %q, %s scheme <stretched, bits = 1, axis = 1, group_size = 4> : tensor<2x4xi8>, tensor<2x1xf32> -> tensor<2x4xf32>
  return %w : tensor<2x4xf32>
}

// -----

// CHECK-LABEL: func @symmetric_unsigned_4bit
// CHECK-SAME: (%[[Q:.*]]: tensor<8x64xi8>, %[[S:.*]]: tensor<8xf32>)
func.func @symmetric_unsigned_4bit(%q: tensor<8x64xi8>, %s: tensor<8xf32>) -> tensor<8x64xf32> {
  /// Unsigned codes index the table directly; T = q - 8, s_table = s.
  // CHECK: %[[T:.*]] = arith.constant dense<[-8, -7, -6, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7]> : tensor<16xi8>
  // CHECK: squant.lut_dequantize %[[Q]], %[[T]] scales(%[[S]]) scheme <bits = 4, axis = 0>
  %w = squant.dequantize %q, %s scheme <symmetric, bits = 4, storage = unsigned, axis = 0> : tensor<8x64xi8>, tensor<8xf32> -> tensor<8x64xf32>
  return %w : tensor<8x64xf32>
}

// -----

// CHECK-LABEL: func @asymmetric_shared_zero_point
func.func @asymmetric_shared_zero_point(%q: tensor<8x64xi8>, %s: tensor<8x2xf32>) -> tensor<8x64xf32> {
  /// One constant zero point (3) for all groups: T = q - 3.
  // CHECK: arith.constant dense<[-3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]> : tensor<16xi8>
  // CHECK: squant.lut_dequantize
  %z = arith.constant dense<3> : tensor<8x2xi8>
  %w = squant.dequantize %q, %s, %z scheme <asymmetric, bits = 4, storage = unsigned, axis = 1, group_size = 32> : tensor<8x64xi8>, tensor<8x2xf32>, tensor<8x2xi8> -> tensor<8x64xf32>
  return %w : tensor<8x64xf32>
}

// -----

// CHECK-LABEL: func @negative_stretched_8bit
func.func @negative_stretched_8bit(%q: tensor<8x64xi8>, %s: tensor<8x2xf32>) -> tensor<8x64xf32> {
  /// T = 2q + 1 needs +-255 at 8 bits.
  // CHECK: squant.dequantize
  // expected-remark@+1 {{not rewritten to a lookup table: table entry -255 for code -128 does not fit in int8}}
  %w = squant.dequantize %q, %s scheme <stretched, bits = 8, axis = 1, group_size = 32> : tensor<8x64xi8>, tensor<8x2xf32> -> tensor<8x64xf32>
  return %w : tensor<8x64xf32>
}

// -----

// CHECK-LABEL: func @negative_per_group_zero_points
// FLOAT-LABEL: func @negative_per_group_zero_points
func.func @negative_per_group_zero_points(%q: tensor<2x4xi8>) -> tensor<2x4xf32> {
  /// Different zero points per group: no single int8 table. With float-lut
  /// every group gets its own float table (rule 2), exact by construction.
  // CHECK: squant.dequantize
  // FLOAT: %[[T:.*]] = arith.constant dense<{{\[}}[-1.000000e+00, -5.000000e-01, 0.000000e+00, 5.000000e-01], [-2.500000e-01, 0.000000e+00, 2.500000e-01, 5.000000e-01]]> : tensor<2x4xf32>
  // FLOAT: squant.lut_dequantize %{{.*}}, %[[T]] scheme <bits = 2, lut_axis = 0> : tensor<2x4xi8>, tensor<2x4xf32> -> tensor<2x4xf32>
  %s = arith.constant dense<[0.5, 0.25]> : tensor<2xf32>
  %z = arith.constant dense<[2, 1]> : tensor<2xi8>
  // expected-remark@+1 {{not rewritten to a lookup table: zero points differ across groups (an int8 table needs one zero point for all groups)}}
  %w = squant.dequantize %q, %s, %z scheme <asymmetric, bits = 2, storage = unsigned, axis = 0> : tensor<2x4xi8>, tensor<2xf32>, tensor<2xi8> -> tensor<2x4xf32>
  return %w : tensor<2x4xf32>
}

// -----

// CHECK-LABEL: func @negative_tinygemm
// FLOAT-LABEL: func @negative_tinygemm
func.func @negative_tinygemm(%q: tensor<1x4xi8>) -> tensor<1x4xf32> {
  /// A float zero point has no integer table; the float table uses the
  /// two-rounding sequence fl(fl((q - 2) s) + zp): fl(-1 + fl(1.1)) is
  /// 0.100000024.
  // CHECK: squant.dequantize
  // FLOAT: arith.constant dense<{{\[}}[0.100000024, 6.000000e-01, 1.100000e+00, 1.600000e+00]]> : tensor<1x4xf32>
  // FLOAT: squant.lut_dequantize
  %s = arith.constant dense<[0.5]> : tensor<1xf32>
  %z = arith.constant dense<[1.1]> : tensor<1xf32>
  // expected-remark@+1 {{not rewritten to a lookup table: a float zero point gives no integer table (z/s is not an integer in general)}}
  %w = squant.dequantize %q, %s, %z scheme <float_zero_point, bits = 2, storage = unsigned, axis = 0> : tensor<1x4xi8>, tensor<1xf32>, tensor<1xf32> -> tensor<1x4xf32>
  return %w : tensor<1x4xf32>
}

// -----

// CHECK-LABEL: func @negative_dynamic_zero_point
func.func @negative_dynamic_zero_point(%q: tensor<8x64xi8>, %s: tensor<8x2xf32>, %z: tensor<8x2xi8>) -> tensor<8x64xf32> {
  // CHECK: squant.dequantize
  // expected-remark@+1 {{not rewritten to a lookup table: the zero point is not a compile-time constant}}
  %w = squant.dequantize %q, %s, %z scheme <asymmetric, bits = 4, axis = 1, group_size = 32> : tensor<8x64xi8>, tensor<8x2xf32>, tensor<8x2xi8> -> tensor<8x64xf32>
  return %w : tensor<8x64xf32>
}

// -----

// CHECK-LABEL: func @negative_bf16
func.func @negative_bf16(%q: tensor<8x64xi8>, %s: tensor<8x2xbf16>) -> tensor<8x64xbf16> {
  // CHECK: squant.dequantize
  // expected-remark@+1 {{not rewritten to a lookup table: the int8 table form computes in f32, the scheme in a narrower float type}}
  %w = squant.dequantize %q, %s scheme <stretched, bits = 2, axis = 1, group_size = 32> : tensor<8x64xi8>, tensor<8x2xbf16> -> tensor<8x64xbf16>
  return %w : tensor<8x64xbf16>
}
