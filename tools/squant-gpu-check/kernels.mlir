// The functions squant-gpu-check runs on the GPU: lowered by
// squant-lower-to-nvvm at build time, linked with check.c and libsquant_gpu.
// x [M, K], packed LSB-first unsigned codes [N, K*bits/8], f32 scales and
// biases [N, K/g]; w = fma(q, s, b).

// Warp-per-row kernel, GEMV, f16 activations, 4 bits, N not a multiple of
// the rows per block.
func.func @int4_f16_m1(%x: tensor<1x512xf16>, %p: tensor<37x256xi8>, %s: tensor<37x4xf32>, %b: tensor<37x4xf32>) -> tensor<1x37xf16> attributes {llvm.emit_c_interface} {
  %q = squant.unpack %p layout <order = lsb_first, bits = 4, storage = unsigned> : tensor<37x256xi8> -> tensor<37x512xi8>
  %y = squant.qmatmul %x, %q scales(%s) bias(%b) form(#squant.fma<bits = 4, storage = unsigned, axis = 1, group_size = 128>)
      : (tensor<1x512xf16>, tensor<37x512xi8>, tensor<37x4xf32>, tensor<37x4xf32>) -> tensor<1x37xf16>
  return %y : tensor<1x37xf16>
}

// Warp-per-row kernel, M = 11 (two M tiles, the second ragged), f32, 2 bits.
func.func @int2_f32_m11(%x: tensor<11x256xf32>, %p: tensor<13x64xi8>, %s: tensor<13x4xf32>, %b: tensor<13x4xf32>) -> tensor<11x13xf32> attributes {llvm.emit_c_interface} {
  %q = squant.unpack %p layout <order = lsb_first, bits = 2, storage = unsigned> : tensor<13x64xi8> -> tensor<13x256xi8>
  %y = squant.qmatmul %x, %q scales(%s) bias(%b) form(#squant.fma<bits = 2, storage = unsigned, axis = 1, group_size = 64>)
      : (tensor<11x256xf32>, tensor<13x256xi8>, tensor<13x4xf32>, tensor<13x4xf32>) -> tensor<11x13xf32>
  return %y : tensor<11x13xf32>
}

// Thread-per-output kernel (3-bit codes are not 16-byte aligned), bf16.
func.func @int3_bf16_m2(%x: tensor<2x256xbf16>, %p: tensor<13x96xi8>, %s: tensor<13x8xf32>, %b: tensor<13x8xf32>) -> tensor<2x13xbf16> attributes {llvm.emit_c_interface} {
  %q = squant.unpack %p layout <order = lsb_first, bits = 3, storage = unsigned> : tensor<13x96xi8> -> tensor<13x256xi8>
  %y = squant.qmatmul %x, %q scales(%s) bias(%b) form(#squant.fma<bits = 3, storage = unsigned, axis = 1, group_size = 32>)
      : (tensor<2x256xbf16>, tensor<13x256xi8>, tensor<13x8xf32>, tensor<13x8xf32>) -> tensor<2x13xbf16>
  return %y : tensor<2x13xbf16>
}
