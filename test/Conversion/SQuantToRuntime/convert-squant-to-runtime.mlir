// RUN: squant-opt %s -convert-squant-to-runtime=target=avx512 -split-input-file -verify-diagnostics | FileCheck %s

// The call signature of the runtime's MLIR entry point (C interface; the
// ABI is include/squant/runtime/squant_rt.h).
// CHECK-LABEL: func.func private @squant_rt_qgemm_memref
// CHECK-SAME: (memref<?x?xf32, strided<[?, ?], offset: ?>>, memref<?xi8, strided<[?], offset: ?>>,
// CHECK-SAME: memref<?xf32, strided<[?], offset: ?>>, memref<?xf32, strided<[?], offset: ?>>,
// CHECK-SAME: memref<?xi8, strided<[?], offset: ?>>, memref<?x?xf32, strided<[?, ?], offset: ?>>,
// CHECK-SAME: i32, i32, i32, i64, i64, i32)
// CHECK-SAME: attributes {llvm.emit_c_interface}

// CHECK-LABEL: func @fma_constant_codes
// CHECK-SAME: (%[[X:.*]]: tensor<3x64xf32>, %[[S:.*]]: tensor<2x2xf32>, %[[B:.*]]: tensor<2x2xf32>)
func.func @fma_constant_codes(%x: tensor<3x64xf32>, %s: tensor<2x2xf32>, %b: tensor<2x2xf32>) -> tensor<3x2xf32> {
  /// Constant codes are packed at compile time: 2 rows x 64 4-bit codes =
  /// 64 bytes of BLOCK32_V1. Codes 0..15 make the 64-bit word 0xFDB97531ECA86420
  /// (even codes in the low half): bytes 32 100 -88 -20 49 117 -71 -3.
  // CHECK-DAG: %[[PACKED:.*]] = arith.constant dense<[32, 100, -88, -20, 49, 117, -71, -3, 32, 100, -88, -20, 49, 117, -71, -3, {{.*}}, -33, -101, 87, 19, -50, -118, 70, 2]> : tensor<64xi8>
  // CHECK-DAG: %[[FORM:.*]] = arith.constant 1 : i32
  // CHECK-DAG: %[[BITS:.*]] = arith.constant 4 : i32
  // CHECK-DAG: %[[UNSIGNED:.*]] = arith.constant 0 : i32
  // CHECK-DAG: %[[GROUP:.*]] = arith.constant 32 : i64
  // CHECK: %[[Y:.*]] = memref.alloc() : memref<3x2xf32>
  // CHECK: call @squant_rt_qgemm_memref({{.*}}, %[[FORM]], %[[BITS]], %[[UNSIGNED]], %[[GROUP]], %{{.*}})
  // CHECK: bufferization.to_tensor %[[Y]] restrict writable : memref<3x2xf32> to tensor<3x2xf32>
  // CHECK-NOT: squant.qmatmul
  %q = arith.constant dense<[[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
                            [15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0]]> : tensor<2x64xi8>
  %y = squant.qmatmul %x, %q scales(%s) bias(%b) form(#squant.fma<bits = 4, storage = unsigned, axis = 1, group_size = 32>) : (tensor<3x64xf32>, tensor<2x64xi8>, tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

// CHECK: func.func private @squant_rt_pack_block32_memref(memref<?x?xi8, strided<[?, ?], offset: ?>>, memref<?xi8, strided<[?], offset: ?>>, i32) attributes {llvm.emit_c_interface}
// CHECK-LABEL: func @dynamic_codes_packed_by_the_runtime
func.func @dynamic_codes_packed_by_the_runtime(%x: tensor<64xf32>, %q: tensor<4x64xi8>, %st: tensor<4x1xf32>, %t: tensor<4xi8>) -> tensor<4xf32> {
  /// Run-time codes: a runtime call packs them first. The GEMV input [K]
  /// becomes [1, K] and the result goes back to [N].
  // CHECK: %[[OUT:.*]] = memref.alloc() : memref<64xi8>
  // CHECK: call @squant_rt_pack_block32_memref
  // CHECK: call @squant_rt_qgemm_memref
  // CHECK: tensor.collapse_shape %{{.*}} {{\[}}[0, 1]] : tensor<1x4xf32> into tensor<4xf32>
  %y = squant.qmatmul %x, %q scales(%st) table(%t) form(#squant.lut<bits = 2, axis = 1, group_size = 64>) : (tensor<64xf32>, tensor<4x64xi8>, tensor<4x1xf32>, tensor<4xi8>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

// CHECK: func.func private @squant_rt_qgemm_bf16_memref(memref<?x?xbf16, strided<[?, ?], offset: ?>>, memref<?xi8, strided<[?], offset: ?>>, memref<?xf32, strided<[?], offset: ?>>, memref<?xf32, strided<[?], offset: ?>>, memref<?xi8, strided<[?], offset: ?>>, memref<?x?xf32, strided<[?, ?], offset: ?>>, i32, i32, i32, i64, i64, i32) attributes {llvm.emit_c_interface}
// CHECK-LABEL: func @bf16_activations
// CHECK-SAME: (%[[X:.*]]: tensor<9x64xbf16>, %[[Q:.*]]: tensor<2x64xi8>, %[[S:.*]]: tensor<2x2xbf16>)
func.func @bf16_activations(%x: tensor<9x64xbf16>, %q: tensor<2x64xi8>, %s: tensor<2x2xbf16>) -> tensor<9x2xbf16> {
  /// bf16 activations go to the runtime's bf16 entry as they are; bf16
  /// scales and biases are widened to f32 (exact); the f32 result is
  /// rounded to bf16 once.
  // CHECK: arith.extf %{{.*}} : tensor<4xbf16> to tensor<4xf32>
  // CHECK: %[[Y:.*]] = memref.alloc() : memref<9x2xf32>
  // CHECK: %[[XB:.*]] = bufferization.to_buffer %[[X]] read_only : tensor<9x64xbf16>
  // CHECK: %[[XD:.*]] = memref.cast %[[XB]]
  // CHECK: call @squant_rt_qgemm_bf16_memref(%[[XD]],
  // CHECK: %[[YT:.*]] = bufferization.to_tensor %[[Y]] restrict writable : memref<9x2xf32> to tensor<9x2xf32>
  // CHECK: %[[R:.*]] = arith.truncf %[[YT]] : tensor<9x2xf32> to tensor<9x2xbf16>
  // CHECK: return %[[R]]
  %y = squant.qmatmul %x, %q scales(%s) bias(%s) form(#squant.fma<bits = 4, axis = 1, group_size = 32>) : (tensor<9x64xbf16>, tensor<2x64xi8>, tensor<2x2xbf16>, tensor<2x2xbf16>) -> tensor<9x2xbf16>
  return %y : tensor<9x2xbf16>
}

// -----

func.func @negative_f16(%x: tensor<1x64xf16>, %q: tensor<2x64xi8>, %s: tensor<2x2xf16>) -> tensor<1x2xf16> {
  /// The runtime takes f32 or bf16 activations: left in place with a remark.
  // expected-remark@+1 {{not lowered to the runtime: the runtime takes f32 or bf16 activations}}
  %y = squant.qmatmul %x, %q scales(%s) bias(%s) form(#squant.fma<bits = 4, axis = 1, group_size = 32>) : (tensor<1x64xf16>, tensor<2x64xi8>, tensor<2x2xf16>, tensor<2x2xf16>) -> tensor<1x2xf16>
  return %y : tensor<1x2xf16>
}

// -----

func.func @negative_ragged_k(%x: tensor<1x48xf32>, %q: tensor<2x48xi8>, %s: tensor<2x3xf32>) -> tensor<1x2xf32> {
  // expected-remark@+1 {{not lowered to the runtime: K = 48 is not a multiple of 32}}
  %y = squant.qmatmul %x, %q scales(%s) bias(%s) form(#squant.fma<bits = 4, axis = 1, group_size = 16>) : (tensor<1x48xf32>, tensor<2x48xi8>, tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

func.func @negative_five_bits(%x: tensor<1x64xf32>, %q: tensor<2x64xi8>, %s: tensor<2x2xf32>) -> tensor<1x2xf32> {
  // expected-remark@+1 {{not lowered to the runtime: 5-bit codes (the runtime packs 1, 2, 3, 4, 8)}}
  %y = squant.qmatmul %x, %q scales(%s) bias(%s) form(#squant.fma<bits = 5, axis = 1, group_size = 32>) : (tensor<1x64xf32>, tensor<2x64xi8>, tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}
