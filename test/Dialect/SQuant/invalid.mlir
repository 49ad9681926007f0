// RUN: squant-opt %s -split-input-file -verify-diagnostics

// Every verifier message of the squant attributes and ops, each case named
// after the constraint label it checks.

//===----------------------------------------------------------------------===//
// #squant.affine
//===----------------------------------------------------------------------===//

func.func @affine_a1(%w: tensor<8x64xf32>) {
  // expected-error@+1 {{bits must be in [1, 8], got 9}}
  %s = squant.choose_qparams %w scheme <symmetric, bits = 9> : tensor<8x64xf32> -> tensor<f32>
  return
}

// -----

func.func @affine_a2(%w: tensor<8x64xf32>) {
  // expected-error@+1 {{'stretched' needs signed storage}}
  %s = squant.choose_qparams %w scheme <stretched, bits = 2, storage = unsigned> : tensor<8x64xf32> -> tensor<f32>
  return
}

// -----

func.func @affine_a2_no_clipping_err(%w: tensor<8x64xf32>) {
  // expected-error@+1 {{'symmetric_no_clipping_err' needs signed storage}}
  %s = squant.choose_qparams %w scheme <symmetric_no_clipping_err, bits = 4, storage = unsigned> : tensor<8x64xf32> -> tensor<f32>
  return
}

// -----

func.func @affine_a3_stretched_range(%w: tensor<8x64xf32>) {
  // expected-error@+1 {{'stretched' fixes its range to +-(2^(bits-1) - 0.5) and takes no qmin/qmax}}
  %s = squant.choose_qparams %w scheme <stretched, bits = 2, qmin = -1> : tensor<8x64xf32> -> tensor<f32>
  return
}

// -----

func.func @affine_a3_outside_storage(%w: tensor<8x64xf32>) {
  // expected-error@+1 {{qmin = -9 and qmax = 7 must lie in [-8, 7], the signed range of 4 bits}}
  %s, %z = squant.choose_qparams %w scheme <asymmetric, bits = 4, qmin = -9> : tensor<8x64xf32> -> tensor<f32>, tensor<i8>
  return
}

// -----

func.func @affine_a3_empty_range(%w: tensor<8x64xf32>) {
  // expected-error@+1 {{qmin = 3 must be < qmax = 3}}
  %s, %z = squant.choose_qparams %w scheme <asymmetric, bits = 4, storage = unsigned, qmin = 3, qmax = 3> : tensor<8x64xf32> -> tensor<f32>, tensor<i8>
  return
}

// -----

func.func @affine_a4_group_without_axis(%w: tensor<8x64xf32>) {
  // expected-error@+1 {{'group_size' = 32 needs an 'axis'}}
  %s = squant.choose_qparams %w scheme <symmetric, bits = 4, group_size = 32> : tensor<8x64xf32> -> tensor<f32>
  return
}

// -----

func.func @affine_a4_negative_axis(%w: tensor<8x64xf32>) {
  // expected-error@+1 {{'axis' must be >= 0, got -1}}
  %s = squant.choose_qparams %w scheme <symmetric, bits = 4, axis = -1> : tensor<8x64xf32> -> tensor<8xf32>
  return
}

// -----

func.func @affine_a4_zero_group(%w: tensor<8x64xf32>) {
  // expected-error@+1 {{'group_size' must be >= 1, got 0}}
  %s = squant.choose_qparams %w scheme <symmetric, bits = 4, axis = 1, group_size = 0> : tensor<8x64xf32> -> tensor<8x2xf32>
  return
}

// -----

func.func @affine_a5(%w: tensor<8x64xf32>) {
  // expected-error@+1 {{eps must be a finite positive f32, got -1.000000e+00 : f32}}
  %s = squant.choose_qparams %w scheme <symmetric, bits = 4, eps = -1.0 : f32> : tensor<8x64xf32> -> tensor<f32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// #squant.lut, #squant.fma, #squant.packed
//===----------------------------------------------------------------------===//

func.func @lut_l1(%i: tensor<8x64xi8>, %t: tensor<4xf32>) {
  // expected-error@+1 {{bits must be in [1, 8], got 0}}
  %0 = squant.lut_dequantize %i, %t scheme <bits = 0> : tensor<8x64xi8>, tensor<4xf32> -> tensor<8x64xf32>
  return
}

// -----

func.func @lut_l2(%i: tensor<8x64xi8>, %t: tensor<4xf32>) {
  // expected-error@+1 {{'lut_group_size' = 32 needs an 'lut_axis'}}
  %0 = squant.lut_dequantize %i, %t scheme <bits = 2, lut_group_size = 32> : tensor<8x64xi8>, tensor<4xf32> -> tensor<8x64xf32>
  return
}

// -----

func.func @fma_f1(%x: tensor<1x64xf32>, %w: tensor<8x64xi8>, %s: tensor<8x2xf32>) {
  // expected-error@+1 {{bits must be in [1, 8], got 12}}
  %0 = squant.qmatmul %x, %w scales(%s) bias(%s) form(#squant.fma<bits = 12, axis = 1, group_size = 32>) : (tensor<1x64xf32>, tensor<8x64xi8>, tensor<8x2xf32>, tensor<8x2xf32>) -> tensor<1x8xf32>
  return
}

// -----

func.func @fma_f2(%x: tensor<1x64xf32>, %w: tensor<8x64xi8>, %s: tensor<8x2xf32>) {
  // expected-error@+1 {{'group_size' must be >= 1, got 0}}
  %0 = squant.qmatmul %x, %w scales(%s) bias(%s) form(#squant.fma<bits = 4, axis = 1, group_size = 0>) : (tensor<1x64xf32>, tensor<8x64xi8>, tensor<8x2xf32>, tensor<8x2xf32>) -> tensor<1x8xf32>
  return
}

// -----

func.func @packed_p1(%q: tensor<8x64xi8>) {
  // expected-error@+1 {{bits must be in [1, 8], got 16}}
  %0 = squant.pack %q layout <order = lsb_first, bits = 16> : tensor<8x64xi8> -> tensor<8x128xi8>
  return
}

// -----

func.func @packed_p2(%q: tensor<8x64xi8>) {
  // expected-error@+1 {{unknown packed layout version 2 (this squant knows version 1)}}
  %0 = squant.pack %q layout <order = lsb_first, bits = 4, version = 2> : tensor<8x64xi8> -> tensor<8x32xi8>
  return
}

// -----

//===----------------------------------------------------------------------===//
// choose_qparams
//===----------------------------------------------------------------------===//

func.func @choose_qparams_c1_axis(%w: tensor<8x64xf32>) {
  // expected-error@+1 {{axis = 2 is out of range for a tensor of rank 2}}
  %s = squant.choose_qparams %w scheme <symmetric, bits = 4, axis = 2> : tensor<8x64xf32> -> tensor<8xf32>
  return
}

// -----

func.func @choose_qparams_c1_ragged(%w: tensor<8x100xf32>) {
  // expected-error@+1 {{ragged groups: dimension 100 along axis 1 is not a multiple of group_size = 32 (pad explicitly first)}}
  %s = squant.choose_qparams %w scheme <symmetric, bits = 4, axis = 1, group_size = 32> : tensor<8x100xf32> -> tensor<8x3xf32>
  return
}

// -----

func.func @choose_qparams_c2_shape(%w: tensor<8x64xf32>) {
  // expected-error@+1 {{scale shape [8, 3] does not match the scheme's parameter shape [8, 2]}}
  %s = squant.choose_qparams %w scheme <symmetric, bits = 4, axis = 1, group_size = 32> : tensor<8x64xf32> -> tensor<8x3xf32>
  return
}

// -----

func.func @choose_qparams_c2_type(%w: tensor<8x64xf32>) {
  // expected-error@+1 {{scale element type 'bf16' differs from the expressed type 'f32'}}
  %s = squant.choose_qparams %w scheme <symmetric, bits = 4, axis = 0> : tensor<8x64xf32> -> tensor<8xbf16>
  return
}

// -----

func.func @choose_qparams_c3_missing(%w: tensor<8x64xf32>) {
  // expected-error@+1 {{scheme 'asymmetric' needs a zero point}}
  %s = squant.choose_qparams %w scheme <asymmetric, bits = 4, axis = 0> : tensor<8x64xf32> -> tensor<8xf32>
  return
}

// -----

func.func @choose_qparams_c3_extra(%w: tensor<8x64xf32>) {
  // expected-error@+1 {{scheme 'stretched' implies its zero point and takes none}}
  %s, %z = squant.choose_qparams %w scheme <stretched, bits = 2, axis = 0> : tensor<8x64xf32> -> tensor<8xf32>, tensor<8xf32>
  return
}

// -----

func.func @choose_qparams_c4_shape(%w: tensor<8x64xf32>) {
  // expected-error@+1 {{zero point shape [4] does not match the scheme's parameter shape [8]}}
  %s, %z = squant.choose_qparams %w scheme <asymmetric, bits = 4, axis = 0> : tensor<8x64xf32> -> tensor<8xf32>, tensor<4xi8>
  return
}

// -----

func.func @choose_qparams_c4_int_width(%w: tensor<8x64xf32>) {
  // expected-error@+1 {{integer zero point of a 8-bit scheme needs an integer type of at least 8 bits, got 'i4'}}
  %s, %z = squant.choose_qparams %w scheme <asymmetric, bits = 8, axis = 0> : tensor<8x64xf32> -> tensor<8xf32>, tensor<8xi4>
  return
}

// -----

func.func @choose_qparams_c4_float_type(%w: tensor<8x64xf32>) {
  // expected-error@+1 {{float zero point element type 'bf16' differs from the expressed type 'f32'}}
  %s, %z = squant.choose_qparams %w scheme <float_zero_point, bits = 4, storage = unsigned, axis = 0> : tensor<8x64xf32> -> tensor<8xf32>, tensor<8xbf16>
  return
}

// -----

func.func @choose_qparams_c5() {
  %w = arith.constant dense<[[1.0, 0x7FC00000]]> : tensor<1x2xf32>
  // expected-error@+1 {{constant input has a non-finite value nan at flat index 1; squant quantizes finite weights only (D5)}}
  %s = squant.choose_qparams %w scheme <symmetric, bits = 4> : tensor<1x2xf32> -> tensor<f32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// quantize / dequantize
//===----------------------------------------------------------------------===//

func.func @quantize_c5_shape(%w: tensor<8x64xf32>, %s: tensor<f32>) {
  // expected-error@+1 {{result shape [8, 32] does not match the input shape [8, 64]}}
  %q = squant.quantize %w, %s scheme <symmetric, bits = 4> : tensor<8x64xf32>, tensor<f32> -> tensor<8x32xi8>
  return
}

// -----

func.func @quantize_c5_width(%w: tensor<8x64xf32>, %s: tensor<f32>) {
  // expected-error@+1 {{result element type 'i2' cannot hold 4-bit codes}}
  %q = squant.quantize %w, %s scheme <symmetric, bits = 4> : tensor<8x64xf32>, tensor<f32> -> tensor<8x64xi2>
  return
}

// -----

func.func @quantize_c6(%s: tensor<f32>) {
  %w = arith.constant dense<[0.5, 0x7F800000]> : tensor<2xf32>
  // expected-error@+1 {{constant input has a non-finite value inf at flat index 1}}
  %q = squant.quantize %w, %s scheme <symmetric, bits = 4> : tensor<2xf32>, tensor<f32> -> tensor<2xi8>
  return
}

// -----

func.func @quantize_c2(%w: tensor<8x64xf32>, %s: tensor<8xf32>) {
  // expected-error@+1 {{scale shape [8] does not match the scheme's parameter shape [64]}}
  %q = squant.quantize %w, %s scheme <symmetric, bits = 4, axis = 1> : tensor<8x64xf32>, tensor<8xf32> -> tensor<8x64xi8>
  return
}

// -----

func.func @dequantize_c5_shape(%q: tensor<8x32xi8>, %s: tensor<f32>) {
  // expected-error@+1 {{codes shape [8, 32] does not match the result shape [8, 64]}}
  %w = squant.dequantize %q, %s scheme <symmetric, bits = 4> : tensor<8x32xi8>, tensor<f32> -> tensor<8x64xf32>
  return
}

// -----

func.func @dequantize_c5_width(%q: tensor<8x64xi3>, %s: tensor<f32>) {
  // expected-error@+1 {{codes element type 'i3' cannot hold 4-bit codes}}
  %w = squant.dequantize %q, %s scheme <symmetric, bits = 4> : tensor<8x64xi3>, tensor<f32> -> tensor<8x64xf32>
  return
}

// -----

func.func @dequantize_c3(%q: tensor<8x64xi8>, %s: tensor<f32>) {
  // expected-error@+1 {{scheme 'float_zero_point' needs a zero point}}
  %w = squant.dequantize %q, %s scheme <float_zero_point, bits = 4, storage = unsigned> : tensor<8x64xi8>, tensor<f32> -> tensor<8x64xf32>
  return
}

// -----

func.func @dequantize_c1(%q: tensor<8x48xi8>, %s: tensor<8x1xf32>) {
  // expected-error@+1 {{ragged groups: dimension 48 along axis 1 is not a multiple of group_size = 32}}
  %w = squant.dequantize %q, %s scheme <stretched, bits = 2, axis = 1, group_size = 32> : tensor<8x48xi8>, tensor<8x1xf32> -> tensor<8x48xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// lut_dequantize
//===----------------------------------------------------------------------===//

func.func @lut_dequantize_c1(%i: tensor<8x64xi1>, %t: tensor<4xf32>) {
  // expected-error@+1 {{indices element type 'i1' cannot hold 2-bit codes}}
  %0 = squant.lut_dequantize %i, %t scheme <bits = 2> : tensor<8x64xi1>, tensor<4xf32> -> tensor<8x64xf32>
  return
}

// -----

func.func @lut_dequantize_c2(%i: tensor<8x64xi8>, %t: tensor<8xf32>) {
  // expected-error@+1 {{table shape [8] does not match the table grouping's shape followed by 2^bits [4]}}
  %0 = squant.lut_dequantize %i, %t scheme <bits = 2> : tensor<8x64xi8>, tensor<8xf32> -> tensor<8x64xf32>
  return
}

// -----

func.func @lut_dequantize_c3_scales(%i: tensor<8x64xi8>, %t: tensor<4xi8>) {
  // expected-error@+1 {{an int8 table needs f32 scales (s_table)}}
  %0 = squant.lut_dequantize %i, %t scheme <bits = 2> : tensor<8x64xi8>, tensor<4xi8> -> tensor<8x64xf32>
  return
}

// -----

func.func @lut_dequantize_c3_f32(%i: tensor<8x64xi8>, %t: tensor<4xi8>, %s: tensor<bf16>) {
  // expected-error@+1 {{an int8 table computes in f32: scales 'bf16' and result 'bf16' must be f32}}
  %0 = squant.lut_dequantize %i, %t scales(%s) scheme <bits = 2> : tensor<8x64xi8>, tensor<4xi8>, tensor<bf16> -> tensor<8x64xbf16>
  return
}

// -----

func.func @lut_dequantize_c4(%i: tensor<8x64xi8>, %t: tensor<4xf16>) {
  // expected-error@+1 {{float table 'f16' and its scales must have the result's element type 'f32'}}
  %0 = squant.lut_dequantize %i, %t scheme <bits = 2> : tensor<8x64xi8>, tensor<4xf16> -> tensor<8x64xf32>
  return
}

// -----

func.func @lut_dequantize_c5_shape(%i: tensor<8x64xi8>, %t: tensor<4xi8>, %s: tensor<8x4xf32>) {
  // expected-error@+1 {{scales shape [8, 4] does not match the scale grouping's shape [8, 2]}}
  %0 = squant.lut_dequantize %i, %t scales(%s) scheme <bits = 2, axis = 1, group_size = 32> : tensor<8x64xi8>, tensor<4xi8>, tensor<8x4xf32> -> tensor<8x64xf32>
  return
}

// -----

func.func @lut_dequantize_c5_ragged(%i: tensor<8x64xi8>, %t: tensor<8x2x4xf32>) {
  // expected-error@+1 {{ragged groups: dimension 64 along lut_axis 1 is not a multiple of lut_group_size = 48}}
  %0 = squant.lut_dequantize %i, %t scheme <bits = 2, lut_axis = 1, lut_group_size = 48> : tensor<8x64xi8>, tensor<8x2x4xf32> -> tensor<8x64xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// pack / unpack
//===----------------------------------------------------------------------===//

func.func @pack_c1_rank(%q: tensor<8x64xi8>) {
  // expected-error@+1 {{codes [8, 64] and bytes [256] need the same rank >= 1}}
  %0 = squant.pack %q layout <order = lsb_first, bits = 4> : tensor<8x64xi8> -> tensor<256xi8>
  return
}

// -----

func.func @pack_c1_leading(%q: tensor<8x64xi8>) {
  // expected-error@+1 {{codes [8, 64] and bytes [4, 32] differ in their leading dimensions}}
  %0 = squant.pack %q layout <order = lsb_first, bits = 4> : tensor<8x64xi8> -> tensor<4x32xi8>
  return
}

// -----

func.func @pack_c2(%q: tensor<8x64xi8>) {
  // expected-error@+1 {{64 codes of 3 bits pack into 24 bytes = 24 x 'i8', not 32}}
  %0 = squant.pack %q layout <order = lsb_first, bits = 3> : tensor<8x64xi8> -> tensor<8x32xi8>
  return
}

// -----

func.func @pack_c3(%q: tensor<8x64xi2>) {
  // expected-error@+1 {{codes element type 'i2' cannot hold 4-bit codes}}
  %0 = squant.pack %q layout <order = lsb_first, bits = 4> : tensor<8x64xi2> -> tensor<8x32xi8>
  return
}

// -----

func.func @unpack_c2(%p: tensor<8x24xi8>) {
  // expected-error@+1 {{64 codes of 4 bits pack into 32 bytes = 32 x 'i8', not 24}}
  %0 = squant.unpack %p layout <order = lsb_first, bits = 4> : tensor<8x24xi8> -> tensor<8x64xi8>
  return
}

// -----

//===----------------------------------------------------------------------===//
// qmatmul
//===----------------------------------------------------------------------===//

func.func @qmatmul_c1_weight_rank(%x: tensor<1x64xf32>, %w: tensor<64xi8>, %s: tensor<8x2xf32>) {
  // expected-error@+1 {{weight must be [N, K], got [64]}}
  %0 = squant.qmatmul %x, %w scales(%s) bias(%s) form(#squant.fma<bits = 4, axis = 1, group_size = 32>) : (tensor<1x64xf32>, tensor<64xi8>, tensor<8x2xf32>, tensor<8x2xf32>) -> tensor<1x8xf32>
  return
}

// -----

func.func @qmatmul_c1_k(%x: tensor<1x32xf32>, %w: tensor<8x64xi8>, %s: tensor<8x2xf32>) {
  // expected-error@+1 {{input [1, 32] and weight [8, 64] disagree on K}}
  %0 = squant.qmatmul %x, %w scales(%s) bias(%s) form(#squant.fma<bits = 4, axis = 1, group_size = 32>) : (tensor<1x32xf32>, tensor<8x64xi8>, tensor<8x2xf32>, tensor<8x2xf32>) -> tensor<1x8xf32>
  return
}

// -----

func.func @qmatmul_c1_result(%x: tensor<2x64xf32>, %w: tensor<8x64xi8>, %s: tensor<8x2xf32>) {
  // expected-error@+1 {{result shape [1, 8] does not match the input's batch and M dims followed by N [2, 8]}}
  %0 = squant.qmatmul %x, %w scales(%s) bias(%s) form(#squant.fma<bits = 4, axis = 1, group_size = 32>) : (tensor<2x64xf32>, tensor<8x64xi8>, tensor<8x2xf32>, tensor<8x2xf32>) -> tensor<1x8xf32>
  return
}

// -----

func.func @qmatmul_c1_element(%x: tensor<2x64xf32>, %w: tensor<8x64xi8>, %s: tensor<8x2xf32>) {
  // expected-error@+1 {{result element type 'bf16' differs from the input's 'f32'}}
  %0 = squant.qmatmul %x, %w scales(%s) bias(%s) form(#squant.fma<bits = 4, axis = 1, group_size = 32>) : (tensor<2x64xf32>, tensor<8x64xi8>, tensor<8x2xf32>, tensor<8x2xf32>) -> tensor<2x8xbf16>
  return
}

// -----

func.func @qmatmul_c1_width(%x: tensor<2x64xf32>, %w: tensor<8x64xi2>, %s: tensor<8x2xf32>) {
  // expected-error@+1 {{weight element type 'i2' cannot hold 4-bit codes}}
  %0 = squant.qmatmul %x, %w scales(%s) bias(%s) form(#squant.fma<bits = 4, axis = 1, group_size = 32>) : (tensor<2x64xf32>, tensor<8x64xi2>, tensor<8x2xf32>, tensor<8x2xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @qmatmul_c2_bias(%x: tensor<2x64xf32>, %w: tensor<8x64xi8>, %s: tensor<8x2xf32>) {
  // expected-error@+1 {{the fma form needs scales and bias operands}}
  %0 = squant.qmatmul %x, %w scales(%s) form(#squant.fma<bits = 4, axis = 1, group_size = 32>) : (tensor<2x64xf32>, tensor<8x64xi8>, tensor<8x2xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @qmatmul_c2_table(%x: tensor<2x64xf32>, %w: tensor<8x64xi8>, %s: tensor<8x2xf32>, %t: tensor<16xi8>) {
  // expected-error@+1 {{the fma form takes no table}}
  %0 = squant.qmatmul %x, %w scales(%s) bias(%s) table(%t) form(#squant.fma<bits = 4, axis = 1, group_size = 32>) : (tensor<2x64xf32>, tensor<8x64xi8>, tensor<8x2xf32>, tensor<8x2xf32>, tensor<16xi8>) -> tensor<2x8xf32>
  return
}

// -----

func.func @qmatmul_c2_ragged(%x: tensor<2x64xf32>, %w: tensor<8x64xi8>, %s: tensor<8x1xf32>) {
  // expected-error@+1 {{ragged groups: K = 64 is not a multiple of group_size = 48}}
  %0 = squant.qmatmul %x, %w scales(%s) bias(%s) form(#squant.fma<bits = 4, axis = 1, group_size = 48>) : (tensor<2x64xf32>, tensor<8x64xi8>, tensor<8x1xf32>, tensor<8x1xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @qmatmul_c2_shape(%x: tensor<2x64xf32>, %w: tensor<8x64xi8>, %s: tensor<8x2xf32>, %b: tensor<8x4xf32>) {
  // expected-error@+1 {{bias shape [8, 4] does not match [N, K / group_size] [8, 2]}}
  %0 = squant.qmatmul %x, %w scales(%s) bias(%b) form(#squant.fma<bits = 4, axis = 1, group_size = 32>) : (tensor<2x64xf32>, tensor<8x64xi8>, tensor<8x2xf32>, tensor<8x4xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @qmatmul_c2_types(%x: tensor<2x64xf32>, %w: tensor<8x64xi8>, %s: tensor<8x2xf32>, %b: tensor<8x2xf16>) {
  // expected-error@+1 {{scales and bias must have the same element type}}
  %0 = squant.qmatmul %x, %w scales(%s) bias(%b) form(#squant.fma<bits = 4, axis = 1, group_size = 32>) : (tensor<2x64xf32>, tensor<8x64xi8>, tensor<8x2xf32>, tensor<8x2xf16>) -> tensor<2x8xf32>
  return
}

// -----

func.func @qmatmul_c3_table(%x: tensor<2x64xf32>, %w: tensor<8x64xi8>, %s: tensor<8x2xf32>) {
  // expected-error@+1 {{the lut form needs a table operand}}
  %0 = squant.qmatmul %x, %w scales(%s) form(#squant.lut<bits = 2, axis = 1, group_size = 32>) : (tensor<2x64xf32>, tensor<8x64xi8>, tensor<8x2xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @qmatmul_c3_bias(%x: tensor<2x64xf32>, %w: tensor<8x64xi8>, %s: tensor<8x2xf32>, %t: tensor<4xi8>) {
  // expected-error@+1 {{the lut form takes no bias}}
  %0 = squant.qmatmul %x, %w scales(%s) bias(%s) table(%t) form(#squant.lut<bits = 2, axis = 1, group_size = 32>) : (tensor<2x64xf32>, tensor<8x64xi8>, tensor<8x2xf32>, tensor<8x2xf32>, tensor<4xi8>) -> tensor<2x8xf32>
  return
}

// -----

func.func @qmatmul_c3_axis(%x: tensor<2x64xf32>, %w: tensor<8x64xi8>, %s: tensor<8xf32>, %t: tensor<4xi8>) {
  // expected-error@+1 {{lut scales must be grouped along K (axis 1), got axis 0}}
  %0 = squant.qmatmul %x, %w scales(%s) table(%t) form(#squant.lut<bits = 2, axis = 0>) : (tensor<2x64xf32>, tensor<8x64xi8>, tensor<8xf32>, tensor<4xi8>) -> tensor<2x8xf32>
  return
}

// -----

func.func @qmatmul_c3_lut_axis(%x: tensor<2x64xf32>, %w: tensor<8x64xi8>, %t: tensor<4xf32>) {
  // expected-error@+1 {{lut tables must be per tensor, per row (lut_axis 0) or per group along K (lut_axis 1), got lut_axis 2}}
  %0 = squant.qmatmul %x, %w table(%t) form(#squant.lut<bits = 2, lut_axis = 2>) : (tensor<2x64xf32>, tensor<8x64xi8>, tensor<4xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @qmatmul_c3_table_shape(%x: tensor<2x64xf32>, %w: tensor<8x64xi8>, %t: tensor<4x4xf32>) {
  // expected-error@+1 {{table shape [4, 4] does not match the table grouping's shape followed by 2^bits [8, 4]}}
  %0 = squant.qmatmul %x, %w table(%t) form(#squant.lut<bits = 2, lut_axis = 0>) : (tensor<2x64xf32>, tensor<8x64xi8>, tensor<4x4xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @lut_dequantize_int8_values(%i: tensor<8x64xi8>, %t: tensor<4xi16>, %s: tensor<f32>) {
  // Integer tables are int8 (section 6.1): wider entries are rejected by type.
  // expected-error@+1 {{operand #1 must be ranked tensor of 8-bit signless integer or 32-bit float or bfloat16 type or 16-bit float values}}
  %0 = squant.lut_dequantize %i, %t scales(%s) scheme <bits = 2> : tensor<8x64xi8>, tensor<4xi16>, tensor<f32> -> tensor<8x64xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// fma_dequantize
//===----------------------------------------------------------------------===//

func.func @fma_dequantize_c1(%q: tensor<8x64xi8>, %s: tensor<8x1xf32>) {
  // expected-error@+1 {{ragged groups: dimension 64 along axis 1 is not a multiple of group_size = 48}}
  %0 = squant.fma_dequantize %q, %s, %s form(<bits = 4, axis = 1, group_size = 48>) : tensor<8x64xi8>, tensor<8x1xf32>, tensor<8x1xf32> -> tensor<8x64xf32>
  return
}

// -----

func.func @fma_dequantize_c2_shape(%q: tensor<8x64xi8>, %s: tensor<8x2xf32>, %b: tensor<8xf32>) {
  // expected-error@+1 {{bias shape [8] does not match the form's parameter shape [8, 2]}}
  %0 = squant.fma_dequantize %q, %s, %b form(<bits = 4, axis = 1, group_size = 32>) : tensor<8x64xi8>, tensor<8x2xf32>, tensor<8xf32> -> tensor<8x64xf32>
  return
}

// -----

func.func @fma_dequantize_c2_type(%q: tensor<8x64xi8>, %s: tensor<8x2xf16>) {
  // expected-error@+1 {{scale element type 'f16' differs from the result's 'f32'}}
  %0 = squant.fma_dequantize %q, %s, %s form(<bits = 4, axis = 1, group_size = 32>) : tensor<8x64xi8>, tensor<8x2xf16>, tensor<8x2xf16> -> tensor<8x64xf32>
  return
}

// -----

func.func @fma_dequantize_c3(%q: tensor<8x64xi4>, %s: tensor<f32>) {
  // expected-error@+1 {{codes element type 'i4' cannot hold 8-bit codes}}
  %0 = squant.fma_dequantize %q, %s, %s form(<bits = 8>) : tensor<8x64xi4>, tensor<f32>, tensor<f32> -> tensor<8x64xf32>
  return
}

// -----

func.func @qmatmul_c2_axis(%x: tensor<2x64xf32>, %w: tensor<8x64xi8>, %s: tensor<8xf32>) {
  // expected-error@+1 {{the fma form of qmatmul needs groups along K: axis = 1 and a group_size}}
  %0 = squant.qmatmul %x, %w scales(%s) bias(%s) form(#squant.fma<bits = 4, axis = 0>) : (tensor<2x64xf32>, tensor<8x64xi8>, tensor<8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  return
}
