// RUN: squant-opt %s -convert-squant-to-runtime=target=amx -split-input-file | FileCheck %s --check-prefixes=CHECK,AVX512,AMX
// RUN: squant-opt %s -convert-squant-to-runtime=target=avx512 -split-input-file | FileCheck %s --check-prefixes=CHECK,AVX512,B4
// RUN: squant-opt %s -convert-squant-to-runtime=target=avx2 -split-input-file | FileCheck %s --check-prefixes=CHECK,BLOCK32,B4
// RUN: squant-opt %s -convert-squant-to-runtime=target=generic -split-input-file | FileCheck %s --check-prefixes=CHECK,BLOCK32,B4
// RUN: not squant-opt %s -convert-squant-to-runtime=target=sse -split-input-file 2>&1 | FileCheck %s --check-prefix=BAD

// The packed layout of constant weights follows the target ISA
// (squant_rt_preferred_layout): TILE16_V2 (layout 3; scales and biases
// inside the packed buffer, empty scale and bias operands) for GEMVs of 1-
// to 3-bit codes on AVX-512 and AMX, and of 4- and 8-bit codes in groups of
// 32 to 512 on AMX (4-bit LUTs: of 64 to 512), when codes and parameters are
// constant, else BLOCK32_V1 (layout 1). The call's last operand is the
// layout.

// BAD: error: convert-squant-to-runtime: unknown target 'sse' (host, amx, avx512, avx2, generic)

// CHECK-LABEL: func @int2_gemv
func.func @int2_gemv(%x: tensor<1x64xf32>) -> tensor<1x2xf32> {
  /// TILE16_V2, one tile of 16 rows (rows 2-15 zero), two groups of one
  /// block: per group word 0 and word 1 of the 16 rows (64 bytes each: row 0
  /// codes 1 = 0x55.., row 1 codes 2 = 0xAA..), then the scales line (2.0,
  /// 0.5 | 4.0, 1.0) and the bias line (1.0, 0.25 | -1.0, 0.0).
  // AVX512: %[[P:.*]] = arith.constant dense<"0x55555555AAAAAAAA{{(0{112})}}55555555AAAAAAAA{{(0{112})}}000000400000003F{{(0{112})}}0000803F0000803E{{(0{112})}}55555555AAAAAAAA{{(0{112})}}55555555AAAAAAAA{{(0{112})}}000080400000803F{{(0{112})}}000080BF00000000{{(0{112})}}"> : tensor<512xi8>
  // AVX512: %[[S:.*]] = tensor.empty() : tensor<0xf32>
  // AVX512: %[[B:.*]] = tensor.empty() : tensor<0xf32>
  // AVX512: bufferization.to_buffer %[[P]] read_only : tensor<512xi8>
  // AVX512: call @squant_rt_qgemm_memref({{.*}}, {{%c3_i32(_[0-9]+)?}}) :
  /// BLOCK32_V1: the codes alone (2 rows x 2 blocks x 8 bytes); the scales
  /// and biases are their constants.
  // BLOCK32: arith.constant dense<[{{(85, ){16}((-86, ){15})}}-86]> : tensor<32xi8>
  // BLOCK32-COUNT-2: bufferization.to_buffer %{{.*}} read_only : tensor<4xf32>
  // BLOCK32: call @squant_rt_qgemm_memref({{.*}}, {{%c1_i32(_[0-9]+)?}}) :
  %q = arith.constant dense<[[1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], [2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2]]> : tensor<2x64xi8>
  %s = arith.constant dense<[[2.0, 4.0], [0.5, 1.0]]> : tensor<2x2xf32>
  %b = arith.constant dense<[[1.0, -1.0], [0.25, 0.0]]> : tensor<2x2xf32>
  %y = squant.qmatmul %x, %q scales(%s) bias(%b) form(#squant.fma<bits = 2, storage = unsigned, axis = 1, group_size = 32>) : (tensor<1x64xf32>, tensor<2x64xi8>, tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

// CHECK-LABEL: func @int3_signed_gemv_rank1
func.func @int3_signed_gemv_rank1(%x: tensor<64xf32>) -> tensor<2xf32> {
  /// A [K] input is M = 1. Two groups of (3 words + 2 lines) x 64 bytes.
  // AVX512: arith.constant dense<"0x{{[0-9A-F]+}}"> : tensor<640xi8>
  // AVX512: call @squant_rt_qgemm_memref({{.*}}, {{%c3_i32(_[0-9]+)?}}) :
  // BLOCK32: arith.constant dense<[{{.*}}]> : tensor<48xi8>
  // BLOCK32: call @squant_rt_qgemm_memref({{.*}}, {{%c1_i32(_[0-9]+)?}}) :
  %q = arith.constant dense<[[1, -2, 2, -4, -3, -3, 1, -4, -1, -4, -3, 2, 2, -3, -1, -3, 2, -4, -3, -1, -4, 2, -4, -1, -4, -2, 0, 2, -2, -3, 0, -2, -3, -1, 1, -3, -3, -4, -1, 3, 2, 1, 3, 3, 1, 0, -1, -2, -1, -3, 0, 3, 1, 3, 0, -3, -3, 2, -2, 1, -2, 3, 2, -4], [-3, 1, 1, 1, 3, 3, -3, -3, 0, 3, -3, -4, 0, 3, 0, 2, 1, -4, 3, 1, -2, -3, 3, -4, -1, 0, -2, -1, 2, 2, 3, -3, -2, 3, 2, 0, -2, 2, 0, 2, 1, 2, -1, -2, -3, -2, -2, -1, -1, -4, 3, -2, 0, 0, -4, -2, 2, 1, 1, -2, -4, 3, 2, 2]]> : tensor<2x64xi8>
  %s = arith.constant dense<[[0.5, 0.25], [1.0, 2.0]]> : tensor<2x2xf32>
  %b = arith.constant dense<[[0.0, 0.5], [-0.5, 0.0]]> : tensor<2x2xf32>
  %y = squant.qmatmul %x, %q scales(%s) bias(%b) form(#squant.fma<bits = 3, axis = 1, group_size = 32>) : (tensor<64xf32>, tensor<2x64xi8>, tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2xf32>
  return %y : tensor<2xf32>
}

// -----

// CHECK-LABEL: func @lut2_int8_table_gemv
func.func @lut2_int8_table_gemv(%x: tensor<1x64xf32>) -> tensor<1x2xf32> {
  /// The int8 table's per-group s_table goes into the scales lines (the bias
  /// lines stay zero); the table itself is still an operand.
  // AVX512: arith.constant dense<"0x{{[0-9A-F]+}}"> : tensor<384xi8>
  // AVX512: call @squant_rt_qgemm_memref({{.*}}, {{%c3_i32(_[0-9]+)?}}) :
  // BLOCK32: arith.constant dense<[{{.*}}]> : tensor<32xi8>
  // BLOCK32: call @squant_rt_qgemm_memref({{.*}}, {{%c1_i32(_[0-9]+)?}}) :
  %q = arith.constant dense<[[3, 3, 0, 3, 3, 0, 1, 0, 1, 3, 1, 0, 2, 0, 0, 0, 1, 0, 2, 0, 0, 1, 3, 1, 2, 2, 2, 3, 0, 0, 3, 3, 3, 3, 2, 0, 1, 0, 2, 2, 3, 1, 0, 1, 2, 1, 0, 2, 0, 2, 2, 1, 2, 1, 2, 1, 1, 1, 3, 1, 1, 3, 2, 0], [0, 2, 3, 2, 1, 2, 3, 2, 2, 0, 1, 0, 1, 3, 1, 2, 1, 3, 0, 3, 2, 0, 0, 3, 1, 3, 1, 3, 2, 0, 3, 3, 3, 0, 1, 1, 1, 0, 1, 3, 1, 3, 2, 1, 1, 0, 0, 0, 1, 3, 1, 1, 0, 2, 1, 2, 1, 2, 2, 3, 1, 0, 2, 3]]> : tensor<2x64xi8>
  %st = arith.constant dense<[[0.5], [0.25]]> : tensor<2x1xf32>
  %t = arith.constant dense<[-3, -1, 1, 3]> : tensor<4xi8>
  %y = squant.qmatmul %x, %q scales(%st) table(%t) form(#squant.lut<bits = 2, axis = 1, group_size = 64>) : (tensor<1x64xf32>, tensor<2x64xi8>, tensor<2x1xf32>, tensor<4xi8>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

// CHECK-LABEL: func @block32_cases
func.func @block32_cases(%x: tensor<1x64xf32>, %x2: tensor<2x64xf32>, %srt: tensor<2x2xf32>, %ft: tensor<2x4xf32>) -> (tensor<1x2xf32>, tensor<2x2xf32>, tensor<1x2xf32>, tensor<1x2xf32>) {
  /// BLOCK32_V1 on every target: a 4-bit LUT in groups of 32 (on AMX too:
  /// TILE16_V2's unused bias line would be a third of its bytes); M = 2;
  /// run-time scales; per-row fp32 tables (the table GEMV takes one table).
  // CHECK: tensor<64xi8>
  // CHECK: call @squant_rt_qgemm_memref({{.*}}, {{%c1_i32(_[0-9]+)?}}) :
  // CHECK: tensor<32xi8>
  // CHECK: call @squant_rt_qgemm_memref({{.*}}, {{%c1_i32(_[0-9]+)?}}) :
  // CHECK: tensor<32xi8>
  // CHECK: call @squant_rt_qgemm_memref({{.*}}, {{%c1_i32(_[0-9]+)?}}) :
  // CHECK: tensor<32xi8>
  // CHECK: call @squant_rt_qgemm_memref({{.*}}, {{%c1_i32(_[0-9]+)?}}) :
  %q4 = arith.constant dense<[[13, 4, 4, 0, 14, 5, 0, 4, 5, 4, 15, 3, 1, 10, 15, 3, 1, 7, 6, 8, 1, 3, 14, 0, 2, 14, 10, 6, 8, 14, 15, 7, 8, 6, 14, 4, 13, 3, 12, 14, 10, 2, 7, 13, 2, 6, 9, 3, 4, 11, 4, 8, 4, 14, 7, 3, 12, 15, 5, 7, 5, 13, 12, 10], [13, 6, 11, 10, 2, 11, 0, 10, 14, 14, 0, 12, 10, 9, 2, 3, 7, 3, 2, 8, 8, 1, 5, 8, 4, 13, 8, 12, 4, 15, 10, 2, 8, 1, 5, 13, 2, 8, 0, 2, 8, 2, 7, 2, 8, 3, 14, 0, 10, 13, 8, 4, 1, 7, 3, 5, 8, 1, 5, 6, 9, 9, 6, 9]]> : tensor<2x64xi8>
  %q2 = arith.constant dense<[[3, 3, 0, 3, 3, 0, 1, 0, 1, 3, 1, 0, 2, 0, 0, 0, 1, 0, 2, 0, 0, 1, 3, 1, 2, 2, 2, 3, 0, 0, 3, 3, 3, 3, 2, 0, 1, 0, 2, 2, 3, 1, 0, 1, 2, 1, 0, 2, 0, 2, 2, 1, 2, 1, 2, 1, 1, 1, 3, 1, 1, 3, 2, 0], [0, 2, 3, 2, 1, 2, 3, 2, 2, 0, 1, 0, 1, 3, 1, 2, 1, 3, 0, 3, 2, 0, 0, 3, 1, 3, 1, 3, 2, 0, 3, 3, 3, 0, 1, 1, 1, 0, 1, 3, 1, 3, 2, 1, 1, 0, 0, 0, 1, 3, 1, 1, 0, 2, 1, 2, 1, 2, 2, 3, 1, 0, 2, 3]]> : tensor<2x64xi8>
  %s = arith.constant dense<[[2.0, 4.0], [0.5, 1.0]]> : tensor<2x2xf32>
  %b = arith.constant dense<[[1.0, -1.0], [0.25, 0.0]]> : tensor<2x2xf32>
  %t4 = arith.constant dense<[-15, -13, -11, -9, -7, -5, -3, -1, 1, 3, 5, 7, 9, 11, 13, 15]> : tensor<16xi8>
  %y4 = squant.qmatmul %x, %q4 scales(%s) table(%t4) form(#squant.lut<bits = 4, axis = 1, group_size = 32>) : (tensor<1x64xf32>, tensor<2x64xi8>, tensor<2x2xf32>, tensor<16xi8>) -> tensor<1x2xf32>
  %ym = squant.qmatmul %x2, %q2 scales(%s) bias(%b) form(#squant.fma<bits = 2, storage = unsigned, axis = 1, group_size = 32>) : (tensor<2x64xf32>, tensor<2x64xi8>, tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
  %yr = squant.qmatmul %x, %q2 scales(%srt) bias(%b) form(#squant.fma<bits = 2, storage = unsigned, axis = 1, group_size = 32>) : (tensor<1x64xf32>, tensor<2x64xi8>, tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<1x2xf32>
  %yt = squant.qmatmul %x, %q2 table(%ft) form(#squant.lut<bits = 2, axis = 1, lut_axis = 0>) : (tensor<1x64xf32>, tensor<2x64xi8>, tensor<2x4xf32>) -> tensor<1x2xf32>
  return %y4, %ym, %yr, %yt : tensor<1x2xf32>, tensor<2x2xf32>, tensor<1x2xf32>, tensor<1x2xf32>
}

// -----

// CHECK-LABEL: func @int4_gemv_group32
func.func @int4_gemv_group32(%x: tensor<1x64xf32>) -> tensor<1x2xf32> {
  /// On AMX, TILE16_V2 (the AMX-INT8 GEMV in half quads): one tile, two
  /// groups of one block: the 4 words of the 16 rows (row 0 codes 1 =
  /// 0x11.., row 1 codes 2 = 0x22..), then the scales line (2.0, 0.5 | 4.0,
  /// 1.0) and the bias line (1.0, 0.25 | -1.0, 0.0).
  // AMX: %[[P:.*]] = arith.constant dense<"0x{{((1111111122222222(0{112})){4})}}000000400000003F{{(0{112})}}0000803F0000803E{{(0{112})((1111111122222222(0{112})){4})}}000080400000803F{{(0{112})}}000080BF00000000{{(0{112})}}"> : tensor<768xi8>
  // AMX: call @squant_rt_qgemm_memref({{.*}}, {{%c3_i32(_[0-9]+)?}}) :
  /// Elsewhere BLOCK32_V1 (2 rows x 2 blocks x 16 bytes).
  // B4: arith.constant dense<{{.*}}> : tensor<64xi8>
  // B4: call @squant_rt_qgemm_memref({{.*}}, {{%c1_i32(_[0-9]+)?}}) :
  %q = arith.constant dense<[[1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], [2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2]]> : tensor<2x64xi8>
  %s = arith.constant dense<[[2.0, 4.0], [0.5, 1.0]]> : tensor<2x2xf32>
  %b = arith.constant dense<[[1.0, -1.0], [0.25, 0.0]]> : tensor<2x2xf32>
  %y = squant.qmatmul %x, %q scales(%s) bias(%b) form(#squant.fma<bits = 4, storage = unsigned, axis = 1, group_size = 32>) : (tensor<1x64xf32>, tensor<2x64xi8>, tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

// CHECK-LABEL: func @int4_gemv_group64
func.func @int4_gemv_group64(%x: tensor<1x64xf32>) -> tensor<1x2xf32> {
  /// On AMX, TILE16_V2: one tile, one group of two blocks: the 8 words of the
  /// 16 rows (row 0 codes 1 = 0x11.., row 1 codes 2 = 0x22..), then the
  /// scales line (2.0, 0.5) and the bias line (1.0, 0.25).
  // AMX: %[[P:.*]] = arith.constant dense<"0x1111111122222222{{(0{112})}}1111111122222222{{(0{112})}}1111111122222222{{(0{112})}}1111111122222222{{(0{112})}}1111111122222222{{(0{112})}}1111111122222222{{(0{112})}}1111111122222222{{(0{112})}}1111111122222222{{(0{112})}}000000400000003F{{(0{112})}}0000803F0000803E{{(0{112})}}"> : tensor<640xi8>
  // AMX: call @squant_rt_qgemm_memref({{.*}}, {{%c3_i32(_[0-9]+)?}}) :
  /// Elsewhere BLOCK32_V1 (2 rows x 2 blocks x 16 bytes).
  // B4: arith.constant dense<{{.*}}> : tensor<64xi8>
  // B4: call @squant_rt_qgemm_memref({{.*}}, {{%c1_i32(_[0-9]+)?}}) :
  %q = arith.constant dense<[[1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], [2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2]]> : tensor<2x64xi8>
  %s = arith.constant dense<[[2.0], [0.5]]> : tensor<2x1xf32>
  %b = arith.constant dense<[[1.0], [0.25]]> : tensor<2x1xf32>
  %y = squant.qmatmul %x, %q scales(%s) bias(%b) form(#squant.fma<bits = 4, storage = unsigned, axis = 1, group_size = 64>) : (tensor<1x64xf32>, tensor<2x64xi8>, tensor<2x1xf32>, tensor<2x1xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

// CHECK-LABEL: func @int8_gemv_group64
func.func @int8_gemv_group64(%x: tensor<1x64xf32>) -> tensor<1x2xf32> {
  /// On AMX, TILE16_V2: one tile, one group of two blocks: the 16 words of
  /// the 16 rows in k order (row 0 codes 1 = 0x01.., row 1 codes -2 =
  /// 0xFE..), then the scales line (2.0, 0.5) and the bias line (1.0, 0.25).
  // AMX: %[[P:.*]] = arith.constant dense<"0x01010101FEFEFEFE{{(0{112})}}01010101FEFEFEFE{{(0{112})}}01010101FEFEFEFE{{(0{112})}}01010101FEFEFEFE{{(0{112})}}01010101FEFEFEFE{{(0{112})}}01010101FEFEFEFE{{(0{112})}}01010101FEFEFEFE{{(0{112})}}01010101FEFEFEFE{{(0{112})}}01010101FEFEFEFE{{(0{112})}}01010101FEFEFEFE{{(0{112})}}01010101FEFEFEFE{{(0{112})}}01010101FEFEFEFE{{(0{112})}}01010101FEFEFEFE{{(0{112})}}01010101FEFEFEFE{{(0{112})}}01010101FEFEFEFE{{(0{112})}}01010101FEFEFEFE{{(0{112})}}000000400000003F{{(0{112})}}0000803F0000803E{{(0{112})}}"> : tensor<1152xi8>
  // AMX: call @squant_rt_qgemm_memref({{.*}}, {{%c3_i32(_[0-9]+)?}}) :
  /// Elsewhere BLOCK32_V1 (2 rows x 2 blocks x 32 bytes).
  // B4: arith.constant dense<{{.*}}> : tensor<128xi8>
  // B4: call @squant_rt_qgemm_memref({{.*}}, {{%c1_i32(_[0-9]+)?}}) :
  %q = arith.constant dense<[[1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], [-2, -2, -2, -2, -2, -2, -2, -2, -2, -2, -2, -2, -2, -2, -2, -2, -2, -2, -2, -2, -2, -2, -2, -2, -2, -2, -2, -2, -2, -2, -2, -2, -2, -2, -2, -2, -2, -2, -2, -2, -2, -2, -2, -2, -2, -2, -2, -2, -2, -2, -2, -2, -2, -2, -2, -2, -2, -2, -2, -2, -2, -2, -2, -2]]> : tensor<2x64xi8>
  %s = arith.constant dense<[[2.0], [0.5]]> : tensor<2x1xf32>
  %b = arith.constant dense<[[1.0], [0.25]]> : tensor<2x1xf32>
  %y = squant.qmatmul %x, %q scales(%s) bias(%b) form(#squant.fma<bits = 8, axis = 1, group_size = 64>) : (tensor<1x64xf32>, tensor<2x64xi8>, tensor<2x1xf32>, tensor<2x1xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}
