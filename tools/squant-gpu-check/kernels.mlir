// The functions squant-gpu-check runs on the GPU: lowered by
// squant-lower-to-nvvm at build time, linked with check.c and libsquant_gpu.
// x [M, K], packed LSB-first unsigned codes [N, K*bits/8], f32 scales
// [N, K/g] and biases [N, K/g] (w = fma(q, s, b)) or an f32 table [2^bits]
// (w = table[q] * s).

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

// Warp-per-row kernel with staged activations (two M tiles of 8), two
// chunks per lane in flight, 4 bits, f16.
func.func @int4_f16_m16(%x: tensor<16x4096xf16>, %p: tensor<37x2048xi8>, %s: tensor<37x32xf32>, %b: tensor<37x32xf32>) -> tensor<16x37xf16> attributes {llvm.emit_c_interface} {
  %q = squant.unpack %p layout <order = lsb_first, bits = 4, storage = unsigned> : tensor<37x2048xi8> -> tensor<37x4096xi8>
  %y = squant.qmatmul %x, %q scales(%s) bias(%b) form(#squant.fma<bits = 4, storage = unsigned, axis = 1, group_size = 128>)
      : (tensor<16x4096xf16>, tensor<37x4096xi8>, tensor<37x32xf32>, tensor<37x32xf32>) -> tensor<16x37xf16>
  return %y : tensor<16x37xf16>
}

// 3-bit codes in groups of 128: 48-byte chunks, fields across words;
// staged activations (M = 3), bf16.
func.func @int3_bf16_m3_g128(%x: tensor<3x8192xbf16>, %p: tensor<21x3072xi8>, %s: tensor<21x64xf32>, %b: tensor<21x64xf32>) -> tensor<3x21xbf16> attributes {llvm.emit_c_interface} {
  %q = squant.unpack %p layout <order = lsb_first, bits = 3, storage = unsigned> : tensor<21x3072xi8> -> tensor<21x8192xi8>
  %y = squant.qmatmul %x, %q scales(%s) bias(%b) form(#squant.fma<bits = 3, storage = unsigned, axis = 1, group_size = 128>)
      : (tensor<3x8192xbf16>, tensor<21x8192xi8>, tensor<21x64xf32>, tensor<21x64xf32>) -> tensor<3x21xbf16>
  return %y : tensor<3x21xbf16>
}

// 8-bit codes, groups of 32 (two 16-code chunks per group), bf16 GEMV.
func.func @int8_bf16_m1(%x: tensor<1x256xbf16>, %p: tensor<7x256xi8>, %s: tensor<7x8xf32>, %b: tensor<7x8xf32>) -> tensor<1x7xbf16> attributes {llvm.emit_c_interface} {
  %q = squant.unpack %p layout <order = lsb_first, bits = 8, storage = unsigned> : tensor<7x256xi8> -> tensor<7x256xi8>
  %y = squant.qmatmul %x, %q scales(%s) bias(%b) form(#squant.fma<bits = 8, storage = unsigned, axis = 1, group_size = 32>)
      : (tensor<1x256xbf16>, tensor<7x256xi8>, tensor<7x8xf32>, tensor<7x8xf32>) -> tensor<1x7xbf16>
  return %y : tensor<1x7xbf16>
}

// LUT form, 4 bits, f32 table in shared memory, GEMV.
func.func @lut4_f32_m1(%x: tensor<1x512xf32>, %p: tensor<37x256xi8>, %s: tensor<37x4xf32>, %t: tensor<16xf32>) -> tensor<1x37xf32> attributes {llvm.emit_c_interface} {
  %q = squant.unpack %p layout <order = lsb_first, bits = 4, storage = unsigned> : tensor<37x256xi8> -> tensor<37x512xi8>
  %y = squant.qmatmul %x, %q scales(%s) table(%t) form(#squant.lut<bits = 4, axis = 1, group_size = 128>)
      : (tensor<1x512xf32>, tensor<37x512xi8>, tensor<37x4xf32>, tensor<16xf32>) -> tensor<1x37xf32>
  return %y : tensor<1x37xf32>
}

// LUT form, 2 bits, staged activations (M = 5).
func.func @lut2_f32_m5(%x: tensor<5x256xf32>, %p: tensor<13x64xi8>, %s: tensor<13x4xf32>, %t: tensor<4xf32>) -> tensor<5x13xf32> attributes {llvm.emit_c_interface} {
  %q = squant.unpack %p layout <order = lsb_first, bits = 2, storage = unsigned> : tensor<13x64xi8> -> tensor<13x256xi8>
  %y = squant.qmatmul %x, %q scales(%s) table(%t) form(#squant.lut<bits = 2, axis = 1, group_size = 64>)
      : (tensor<5x256xf32>, tensor<13x256xi8>, tensor<13x4xf32>, tensor<4xf32>) -> tensor<5x13xf32>
  return %y : tensor<5x13xf32>
}

// LUT form, 3 bits (48-byte chunks), GEMV.
func.func @lut3_f32_m1(%x: tensor<1x384xf32>, %p: tensor<9x144xi8>, %s: tensor<9x3xf32>, %t: tensor<8xf32>) -> tensor<1x9xf32> attributes {llvm.emit_c_interface} {
  %q = squant.unpack %p layout <order = lsb_first, bits = 3, storage = unsigned> : tensor<9x144xi8> -> tensor<9x384xi8>
  %y = squant.qmatmul %x, %q scales(%s) table(%t) form(#squant.lut<bits = 3, axis = 1, group_size = 128>)
      : (tensor<1x384xf32>, tensor<9x384xi8>, tensor<9x3xf32>, tensor<8xf32>) -> tensor<1x9xf32>
  return %y : tensor<1x9xf32>
}
