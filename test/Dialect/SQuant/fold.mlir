// RUN: squant-opt %s -canonicalize="test-convergence" -split-input-file | FileCheck %s

// Folders evaluate squant ops on constants with the reference library:
// compile-time weight quantization, bit-exact with the spec. The expected
// values are the hand-derived ones of unittests/Reference.

// CHECK-LABEL: func @fold_asymmetric_int4
func.func @fold_asymmetric_int4() -> (tensor<1xf32>, tensor<1xi8>, tensor<1x4xi8>, tensor<1x4xf32>) {
  %w = arith.constant dense<[[-1.0, 0.5, 2.0, 3.0]]> : tensor<1x4xf32>
  // s = fl(4/15), zp = -4; q = [-8, -2, 3, 7]; w = (q - zp) * s.
  // CHECK-DAG: arith.constant dense<0.266666681> : tensor<1xf32>
  // CHECK-DAG: arith.constant dense<-4> : tensor<1xi8>
  // CHECK-DAG: arith.constant dense<{{\[}}[-8, -2, 3, 7]]> : tensor<1x4xi8>
  // CHECK-DAG: arith.constant dense<{{\[}}[-1.06666672, 0.533333361, 1.86666679, 2.9333334]]> : tensor<1x4xf32>
  // CHECK-NOT: squant.
  %s, %zp = squant.choose_qparams %w scheme <asymmetric, bits = 4, axis = 0> : tensor<1x4xf32> -> tensor<1xf32>, tensor<1xi8>
  %q = squant.quantize %w, %s, %zp scheme <asymmetric, bits = 4, axis = 0> : tensor<1x4xf32>, tensor<1xf32>, tensor<1xi8> -> tensor<1x4xi8>
  %d = squant.dequantize %q, %s, %zp scheme <asymmetric, bits = 4, axis = 0> : tensor<1x4xi8>, tensor<1xf32>, tensor<1xi8> -> tensor<1x4xf32>
  return %s, %zp, %q, %d : tensor<1xf32>, tensor<1xi8>, tensor<1x4xi8>, tensor<1x4xf32>
}

// -----

// CHECK-LABEL: func @fold_stretched_2bit_groups
func.func @fold_stretched_2bit_groups() -> (tensor<2x1xf32>, tensor<2x8xf32>) {
  // Row 0 is the hand-derived group (s = fl(2.875 / 1.5)); row 1 is all
  // zeros: s = 2^-23 / 1.5 and every weight dequantizes to +0.5 s.
  %w = arith.constant dense<[[1.0, -2.0, 3.0, -4.0, 0.5, 0.0, 0.0, 1.0],
                             [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]]> : tensor<2x8xf32>
  // CHECK-DAG: arith.constant dense<{{\[}}[1.91666663], [7.9472862E-8]]> : tensor<2x1xf32>
  // CHECK-DAG: arith.constant dense<{{\[}}[0.958333313, -2.875000e+00, 2.875000e+00, -2.875000e+00, 0.958333313, 0.958333313, 0.958333313, 0.958333313], [3.9736431E-8, 3.9736431E-8, 3.9736431E-8, 3.9736431E-8, 3.9736431E-8, 3.9736431E-8, 3.9736431E-8, 3.9736431E-8]]> : tensor<2x8xf32>
  %s = squant.choose_qparams %w scheme <stretched, bits = 2, axis = 1, group_size = 8> : tensor<2x8xf32> -> tensor<2x1xf32>
  %q = squant.quantize %w, %s scheme <stretched, bits = 2, axis = 1, group_size = 8> : tensor<2x8xf32>, tensor<2x1xf32> -> tensor<2x8xi8>
  %d = squant.dequantize %q, %s scheme <stretched, bits = 2, axis = 1, group_size = 8> : tensor<2x8xi8>, tensor<2x1xf32> -> tensor<2x8xf32>
  return %s, %d : tensor<2x1xf32>, tensor<2x8xf32>
}

// -----

// CHECK-LABEL: func @fold_stretched_ties
func.func @fold_stretched_ties() -> tensor<4xi8> {
  // s = 1: x = 0 and s round to q = 0, -s to q = -2, a tiny negative to 0.
  %w = arith.constant dense<[0.0, 1.0, -1.0, -1.49011612E-8]> : tensor<4xf32>
  %s = arith.constant dense<1.0> : tensor<f32>
  // CHECK: arith.constant dense<[0, 0, -2, 0]> : tensor<4xi8>
  %q = squant.quantize %w, %s scheme <stretched, bits = 2> : tensor<4xf32>, tensor<f32> -> tensor<4xi8>
  return %q : tensor<4xi8>
}

// -----

// CHECK-LABEL: func @fold_tinygemm_bf16
func.func @fold_tinygemm_bf16() -> (tensor<1xbf16>, tensor<1xbf16>, tensor<1x4xbf16>) {
  // Every op rounds to bf16 (through fp32).
  %w = arith.constant dense<[[-0.30078125, 0.10009765625, 0.69921875, 1.203125]]> : tensor<1x4xbf16>
  // CHECK-DAG: arith.constant dense<1.000980e-01> : tensor<1xbf16>
  // CHECK-DAG: arith.constant dense<5.000000e-01> : tensor<1xbf16>
  // CHECK-DAG: arith.constant dense<{{\[}}[-3.007810e-01, 9.960930e-02, 6.992180e-01, 1.203130e+00]]> : tensor<1x4xbf16>
  %s, %z = squant.choose_qparams %w scheme <float_zero_point, bits = 4, storage = unsigned, axis = 0> : tensor<1x4xbf16> -> tensor<1xbf16>, tensor<1xbf16>
  %q = squant.quantize %w, %s, %z scheme <float_zero_point, bits = 4, storage = unsigned, axis = 0> : tensor<1x4xbf16>, tensor<1xbf16>, tensor<1xbf16> -> tensor<1x4xi8>
  %d = squant.dequantize %q, %s, %z scheme <float_zero_point, bits = 4, storage = unsigned, axis = 0> : tensor<1x4xi8>, tensor<1xbf16>, tensor<1xbf16> -> tensor<1x4xbf16>
  return %s, %z, %d : tensor<1xbf16>, tensor<1xbf16>, tensor<1x4xbf16>
}

// -----

// CHECK-LABEL: func @fold_unsigned_codes_in_i8
func.func @fold_unsigned_codes_in_i8() -> tensor<2xf32> {
  // Unsigned 8-bit codes 200 and 255 live in i8 as -56 and -1; the scheme's
  // storage says how to read them.
  %q = arith.constant dense<[-56, -1]> : tensor<2xi8>
  %s = arith.constant dense<0.5> : tensor<f32>
  // CHECK: arith.constant dense<[3.600000e+01, 6.350000e+01]> : tensor<2xf32>
  %d = squant.dequantize %q, %s scheme <symmetric, bits = 8, storage = unsigned> : tensor<2xi8>, tensor<f32> -> tensor<2xf32>
  return %d : tensor<2xf32>
}

// -----

// CHECK-LABEL: func @fold_dense_resource
func.func @fold_dense_resource() -> tensor<2xi8> {
  // [1.0, -2.0] as a dense_resource blob. s = fl(2 / 7.5), r = fl(1 / s) is
  // just below 3.75: 1 * r rounds to 4 and fl(-2 * r) = -7.4999995 to -7
  // (the reciprocal keeps the negative extreme off its tie, section 3).
  %w = arith.constant dense_resource<weights> : tensor<2xf32>
  %s = squant.choose_qparams %w scheme <symmetric, bits = 4> : tensor<2xf32> -> tensor<f32>
  // CHECK: arith.constant dense<[4, -7]> : tensor<2xi8>
  %q = squant.quantize %w, %s scheme <symmetric, bits = 4> : tensor<2xf32>, tensor<f32> -> tensor<2xi8>
  return %q : tensor<2xi8>
}
{-#
  dialect_resources: {
    builtin: {
      weights: "0x040000000000803F000000C0"
    }
  }
#-}

// -----

// CHECK-LABEL: func @fold_pack_unpack
func.func @fold_pack_unpack() -> (tensor<1x2xi8>, tensor<1x2xi8>, tensor<1x5xi8>) {
  %q = arith.constant dense<[[1, 2, 3, 15]]> : tensor<1x4xi8>
  // lsb_first: 0x21, 0xF3; msb_first: 0x12, 0x3F.
  // CHECK-DAG: arith.constant dense<{{\[}}[33, -13]]> : tensor<1x2xi8>
  // CHECK-DAG: arith.constant dense<{{\[}}[18, 63]]> : tensor<1x2xi8>
  %a = squant.pack %q layout <order = lsb_first, bits = 4, storage = unsigned> : tensor<1x4xi8> -> tensor<1x2xi8>
  %b = squant.pack %q layout <order = msb_first, bits = 4, storage = unsigned> : tensor<1x4xi8> -> tensor<1x2xi8>
  // Signed 3-bit codes [-4, -1, 0, 3, 2] = 100 111 000 011 010 (LSB first
  // per code) pack into 0x3C, 0x26; unpack does not fold, so a packed
  // weight stays packed.
  %c = arith.constant dense<[[-4, -1, 0, 3, 2]]> : tensor<1x5xi8>
  %p = squant.pack %c layout <order = lsb_first, bits = 3> : tensor<1x5xi8> -> tensor<1x2xi8>
  // CHECK-DAG: %[[P3:.*]] = arith.constant dense<{{\[}}[60, 38]]> : tensor<1x2xi8>
  // CHECK-DAG: squant.unpack %[[P3]] layout <order = lsb_first, bits = 3>
  %u = squant.unpack %p layout <order = lsb_first, bits = 3> : tensor<1x2xi8> -> tensor<1x5xi8>
  return %a, %b, %u : tensor<1x2xi8>, tensor<1x2xi8>, tensor<1x5xi8>
}

// -----

// CHECK-LABEL: func @fold_lut_dequantize
func.func @fold_lut_dequantize() -> (tensor<2x4xf32>, tensor<2x4xf32>) {
  // Stretched 2-bit as int8 LUT: T = [-3, -1, 1, 3], s_table = 0.5 s.
  %idx = arith.constant dense<[[0, 1, 2, 3], [3, 2, 1, 0]]> : tensor<2x4xi8>
  %t = arith.constant dense<[-3, -1, 1, 3]> : tensor<4xi8>
  %st = arith.constant dense<[[0.5], [0.25]]> : tensor<2x1xf32>
  // CHECK-DAG: arith.constant dense<{{\[}}[-1.500000e+00, -5.000000e-01, 5.000000e-01, 1.500000e+00], [7.500000e-01, 2.500000e-01, -2.500000e-01, -7.500000e-01]]> : tensor<2x4xf32>
  %0 = squant.lut_dequantize %idx, %t scales(%st) scheme <bits = 2, axis = 1, group_size = 4> : tensor<2x4xi8>, tensor<4xi8>, tensor<2x1xf32> -> tensor<2x4xf32>
  // Per-row float tables, no scales.
  %ft = arith.constant dense<[[1.0, 2.0, 3.0, 4.0], [-1.0, -2.0, -3.0, -4.0]]> : tensor<2x4xf32>
  // CHECK-DAG: arith.constant dense<{{\[}}[1.000000e+00, 2.000000e+00, 3.000000e+00, 4.000000e+00], [-4.000000e+00, -3.000000e+00, -2.000000e+00, -1.000000e+00]]> : tensor<2x4xf32>
  %1 = squant.lut_dequantize %idx, %ft scheme <bits = 2, lut_axis = 0> : tensor<2x4xi8>, tensor<2x4xf32> -> tensor<2x4xf32>
  return %0, %1 : tensor<2x4xf32>, tensor<2x4xf32>
}

// -----

// CHECK-LABEL: func @negative_fold_dynamic_input
func.func @negative_fold_dynamic_input(%w: tensor<1x4xf32>) -> tensor<1xf32> {
  /// A non-constant weight is quantized at run time: nothing to fold.
  // CHECK: squant.choose_qparams
  %s = squant.choose_qparams %w scheme <symmetric, bits = 4, axis = 0> : tensor<1x4xf32> -> tensor<1xf32>
  return %s : tensor<1xf32>
}

// -----

// CHECK-LABEL: func @negative_fold_lut_index_out_of_range
func.func @negative_fold_lut_index_out_of_range() -> tensor<2xf32> {
  /// Index 7 has no entry in a 2-bit table: the value is undefined, so the
  /// folder leaves the op for the runtime to diagnose.
  %idx = arith.constant dense<[1, 7]> : tensor<2xi8>
  %t = arith.constant dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>
  // CHECK: squant.lut_dequantize
  %0 = squant.lut_dequantize %idx, %t scheme <bits = 2> : tensor<2xi8>, tensor<4xf32> -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

// CHECK-LABEL: func @fold_fma_dequantize
func.func @fold_fma_dequantize() -> tensor<2x4xf32> {
  // w = fma(q, s, b): one rounding. Row 1: fma(3, 0.1, 0.05) is 0.349999994,
  // where a multiply and an add would give 0.350000024.
  %q = arith.constant dense<[[-2, -1, 0, 1], [3, 3, -2, 0]]> : tensor<2x4xi8>
  %s = arith.constant dense<[[1.0], [0.1]]> : tensor<2x1xf32>
  %b = arith.constant dense<[[0.5], [0.05]]> : tensor<2x1xf32>
  // CHECK: arith.constant dense<{{\[}}[-1.500000e+00, -5.000000e-01, 5.000000e-01, 1.500000e+00], [3.500000e-01, 3.500000e-01, -1.500000e-01, 5.000000e-02]]> : tensor<2x4xf32>
  %0 = squant.fma_dequantize %q, %s, %b form(<bits = 2, axis = 1, group_size = 4>) : tensor<2x4xi8>, tensor<2x1xf32>, tensor<2x1xf32> -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

// CHECK-LABEL: func @fold_pack_i32_words
func.func @fold_pack_i32_words() -> tensor<1x2xi32> {
  /// Ten 4-bit codes are 5 bytes, padded to two little-endian i32 words:
  /// bytes 0x21 0x43 0x65 0x87 | 0xA9 -> 0x87654321, 0x000000A9.
  // CHECK: arith.constant dense<{{\[}}[-2023406815, 169]]> : tensor<1x2xi32>
  %q = arith.constant dense<[[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]]> : tensor<1x10xi8>
  %p = squant.pack %q layout <order = lsb_first, bits = 4, storage = unsigned> : tensor<1x10xi8> -> tensor<1x2xi32>
  return %p : tensor<1x2xi32>
}
