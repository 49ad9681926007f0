// RUN: squant-opt %s | squant-opt | FileCheck %s
// RUN: squant-opt %s --mlir-print-op-generic | squant-opt | FileCheck %s

// Every op and every attribute form, printed, re-parsed and printed again
// (the second RUN goes through the generic form).

// CHECK-LABEL: func @choose_qparams_every_scheme
func.func @choose_qparams_every_scheme(%w: tensor<8x64xf32>, %wb: tensor<8x64xbf16>) {
  // CHECK: squant.choose_qparams %{{.*}} scheme <asymmetric, bits = 4, axis = 1, group_size = 32> : tensor<8x64xf32> -> tensor<8x2xf32>, tensor<8x2xi8>
  %s0, %z0 = squant.choose_qparams %w scheme <asymmetric, bits = 4, axis = 1, group_size = 32> : tensor<8x64xf32> -> tensor<8x2xf32>, tensor<8x2xi8>
  // CHECK: scheme <asymmetric_no_preserve_zero, bits = 8, storage = unsigned, axis = 0> : tensor<8x64xf32> -> tensor<8xf32>, tensor<8xi32>
  %s1, %z1 = squant.choose_qparams %w scheme <asymmetric_no_preserve_zero, bits = 8, storage = unsigned, axis = 0> : tensor<8x64xf32> -> tensor<8xf32>, tensor<8xi32>
  // CHECK: scheme <symmetric, bits = 3> : tensor<8x64xf32> -> tensor<f32>
  %s2 = squant.choose_qparams %w scheme <symmetric, bits = 3> : tensor<8x64xf32> -> tensor<f32>
  // CHECK: scheme <symmetric_no_clipping_err, bits = 5, axis = 1, group_size = 64>
  %s3 = squant.choose_qparams %w scheme <symmetric_no_clipping_err, bits = 5, axis = 1, group_size = 64> : tensor<8x64xf32> -> tensor<8x1xf32>
  // CHECK: scheme <stretched, bits = 2, axis = 1, group_size = 32, eps = 1.1920929E-7 : f32>
  %s4 = squant.choose_qparams %w scheme <stretched, bits = 2, axis = 1, group_size = 32, eps = 1.1920929e-07 : f32> : tensor<8x64xf32> -> tensor<8x2xf32>
  // CHECK: scheme <float_zero_point, bits = 4, storage = unsigned, axis = 1, group_size = 32> : tensor<8x64xbf16> -> tensor<8x2xbf16>, tensor<8x2xbf16>
  %s5, %z5 = squant.choose_qparams %wb scheme <float_zero_point, bits = 4, storage = unsigned, axis = 1, group_size = 32> : tensor<8x64xbf16> -> tensor<8x2xbf16>, tensor<8x2xbf16>
  // CHECK: scheme <asymmetric, bits = 6, qmin = -20, qmax = 20>
  %s6, %z6 = squant.choose_qparams %w scheme <asymmetric, bits = 6, qmin = -20, qmax = 20> : tensor<8x64xf32> -> tensor<f32>, tensor<i8>
  return
}

// CHECK-LABEL: func @quantize_dequantize
func.func @quantize_dequantize(%w: tensor<8x64xf16>, %s: tensor<8x2xf16>, %zp: tensor<8x2xi8>,
                               %q: tensor<8x64xi4>) -> (tensor<8x64xi8>, tensor<8x64xf16>) {
  // CHECK: squant.quantize %{{.*}}, %{{.*}}, %{{.*}} scheme <asymmetric, bits = 4, axis = 1, group_size = 32> : tensor<8x64xf16>, tensor<8x2xf16>, tensor<8x2xi8> -> tensor<8x64xi8>
  %0 = squant.quantize %w, %s, %zp scheme <asymmetric, bits = 4, axis = 1, group_size = 32> : tensor<8x64xf16>, tensor<8x2xf16>, tensor<8x2xi8> -> tensor<8x64xi8>
  // CHECK: squant.dequantize %{{.*}}, %{{.*}} scheme <stretched, bits = 4, axis = 1, group_size = 32> : tensor<8x64xi4>, tensor<8x2xf16> -> tensor<8x64xf16>
  %1 = squant.dequantize %q, %s scheme <stretched, bits = 4, axis = 1, group_size = 32> : tensor<8x64xi4>, tensor<8x2xf16> -> tensor<8x64xf16>
  return %0, %1 : tensor<8x64xi8>, tensor<8x64xf16>
}

// CHECK-LABEL: func @lut_forms
func.func @lut_forms(%idx: tensor<8x64xi8>, %t: tensor<4xi8>, %st: tensor<8x2xf32>,
                     %ft: tensor<8x2x16xbf16>, %fr: tensor<8x4xf32>) {
  // CHECK: squant.lut_dequantize %{{.*}}, %{{.*}} scales(%{{.*}}) scheme <bits = 2, axis = 1, group_size = 32> : tensor<8x64xi8>, tensor<4xi8>, tensor<8x2xf32> -> tensor<8x64xf32>
  %0 = squant.lut_dequantize %idx, %t scales(%st) scheme <bits = 2, axis = 1, group_size = 32> : tensor<8x64xi8>, tensor<4xi8>, tensor<8x2xf32> -> tensor<8x64xf32>
  // CHECK: squant.lut_dequantize %{{.*}}, %{{.*}} scheme <bits = 4, lut_axis = 1, lut_group_size = 32> : tensor<8x64xi8>, tensor<8x2x16xbf16> -> tensor<8x64xbf16>
  %1 = squant.lut_dequantize %idx, %ft scheme <bits = 4, lut_axis = 1, lut_group_size = 32> : tensor<8x64xi8>, tensor<8x2x16xbf16> -> tensor<8x64xbf16>
  // Per-row float table.
  // CHECK: scheme <bits = 2, lut_axis = 0> : tensor<8x64xi8>, tensor<8x4xf32> -> tensor<8x64xf32>
  %2 = squant.lut_dequantize %idx, %fr scheme <bits = 2, lut_axis = 0> : tensor<8x64xi8>, tensor<8x4xf32> -> tensor<8x64xf32>
  return
}

// CHECK-LABEL: func @pack_unpack
func.func @pack_unpack(%q: tensor<8x64xi8>, %p: tensor<8x24xi8>, %w: tensor<8x8xi32>) {
  // CHECK: squant.unpack %{{.*}} layout <order = lsb_first, bits = 4> : tensor<8x8xi32> -> tensor<8x64xi8>
  %2 = squant.unpack %w layout <order = lsb_first, bits = 4> : tensor<8x8xi32> -> tensor<8x64xi8>
  // CHECK: squant.pack %{{.*}} layout <order = msb_first, bits = 4, storage = unsigned> : tensor<8x64xi8> -> tensor<8x32xi8>
  %0 = squant.pack %q layout <order = msb_first, bits = 4, storage = unsigned> : tensor<8x64xi8> -> tensor<8x32xi8>
  // CHECK: squant.unpack %{{.*}} layout <order = lsb_first, bits = 3> : tensor<8x24xi8> -> tensor<8x64xi8>
  %1 = squant.unpack %p layout <order = lsb_first, bits = 3, version = 1> : tensor<8x24xi8> -> tensor<8x64xi8>
  return
}

// CHECK-LABEL: func @qmatmul_forms
func.func @qmatmul_forms(%x: tensor<2x3x256xf32>, %v: tensor<256xbf16>, %w: tensor<96x256xi8>,
                         %s: tensor<96x2xf32>, %b: tensor<96x2xf32>, %t: tensor<16xi8>,
                         %sb: tensor<96x2xbf16>, %bb: tensor<96x2xbf16>, %ft: tensor<96x16xbf16>) {
  // Batched GEMM, one-FMA form.
  // CHECK: squant.qmatmul %{{.*}}, %{{.*}} scales(%{{.*}}) bias(%{{.*}}) form(#squant.fma<bits = 4, storage = unsigned, axis = 1, group_size = 128>) : (tensor<2x3x256xf32>, tensor<96x256xi8>, tensor<96x2xf32>, tensor<96x2xf32>) -> tensor<2x3x96xf32>
  %0 = squant.qmatmul %x, %w scales(%s) bias(%b) form(#squant.fma<bits = 4, storage = unsigned, axis = 1, group_size = 128>) : (tensor<2x3x256xf32>, tensor<96x256xi8>, tensor<96x2xf32>, tensor<96x2xf32>) -> tensor<2x3x96xf32>
  // Batched GEMM, int8 LUT with an fp32 s_table.
  // CHECK: squant.qmatmul %{{.*}}, %{{.*}} scales(%{{.*}}) table(%{{.*}}) form(#squant.lut<bits = 4, axis = 1, group_size = 128>) : (tensor<2x3x256xf32>, tensor<96x256xi8>, tensor<96x2xf32>, tensor<16xi8>) -> tensor<2x3x96xf32>
  %1 = squant.qmatmul %x, %w scales(%s) table(%t) form(#squant.lut<bits = 4, axis = 1, group_size = 128>) : (tensor<2x3x256xf32>, tensor<96x256xi8>, tensor<96x2xf32>, tensor<16xi8>) -> tensor<2x3x96xf32>
  // GEMV (rank-1 activations) in bf16.
  // CHECK: form(#squant.fma<bits = 4, axis = 1, group_size = 128>) : (tensor<256xbf16>, tensor<96x256xi8>, tensor<96x2xbf16>, tensor<96x2xbf16>) -> tensor<96xbf16>
  %2 = squant.qmatmul %v, %w scales(%sb) bias(%bb) form(#squant.fma<bits = 4, axis = 1, group_size = 128>) : (tensor<256xbf16>, tensor<96x256xi8>, tensor<96x2xbf16>, tensor<96x2xbf16>) -> tensor<96xbf16>
  // Float LUT per row, no scales.
  // CHECK: table(%{{.*}}) form(#squant.lut<bits = 4, lut_axis = 0>) : (tensor<256xbf16>, tensor<96x256xi8>, tensor<96x16xbf16>) -> tensor<96xbf16>
  %3 = squant.qmatmul %v, %w table(%ft) form(#squant.lut<bits = 4, lut_axis = 0>) : (tensor<256xbf16>, tensor<96x256xi8>, tensor<96x16xbf16>) -> tensor<96xbf16>
  return
}

// CHECK-LABEL: func @fma_dequantize_forms
func.func @fma_dequantize_forms(%q: tensor<8x64xi8>, %s: tensor<8x2xf32>, %b: tensor<8x2xf32>,
                                %st: tensor<bf16>, %bt: tensor<bf16>) {
  // CHECK: squant.fma_dequantize %{{.*}}, %{{.*}}, %{{.*}} form(<bits = 2, axis = 1, group_size = 32>) : tensor<8x64xi8>, tensor<8x2xf32>, tensor<8x2xf32> -> tensor<8x64xf32>
  %0 = squant.fma_dequantize %q, %s, %b form(<bits = 2, axis = 1, group_size = 32>) : tensor<8x64xi8>, tensor<8x2xf32>, tensor<8x2xf32> -> tensor<8x64xf32>
  // CHECK: form(<bits = 8, storage = unsigned>) : tensor<8x64xi8>, tensor<bf16>, tensor<bf16> -> tensor<8x64xbf16>
  %1 = squant.fma_dequantize %q, %st, %bt form(<bits = 8, storage = unsigned>) : tensor<8x64xi8>, tensor<bf16>, tensor<bf16> -> tensor<8x64xbf16>
  return
}
