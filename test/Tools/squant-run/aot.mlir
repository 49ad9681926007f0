// squant-run's AOT output: an object file for this CPU and a C header
// for the entry point, linked into a C program that checks every output
// (integer codes, power-of-two scales: exact), sequential and threaded.
//
// RUN: rm -rf %t && mkdir -p %t
// RUN: squant-run %s --lower=threads=1 --emit-object=%t/layer.o --emit-header=%t/layer.h
// RUN: FileCheck %s --check-prefix=HEADER < %t/layer.h
// RUN: clang -O2 -DSQUANT_RUN_HEADER -I%t %S/../../Integration/CPU/Inputs/aot-main.c %t/layer.o -o %t/layer -lm
// RUN: %t/layer | FileCheck %s
// RUN: squant-run %s --lower="threads=2 row-tile=1" --emit-object=%t/layer-mt.o
// RUN: clang -O2 -DSQUANT_RUN_HEADER -I%t %S/../../Integration/CPU/Inputs/aot-main.c %t/layer-mt.o -o %t/layer-mt -lm %{squant_rt_link}
// RUN: %t/layer-mt | FileCheck %s

// HEADER: arg0: tensor<2x32xf32>
// HEADER: result 0: tensor<2x3xf32>
// HEADER: typedef struct {
// HEADER-NEXT: float *allocated;
// HEADER-NEXT: float *aligned;
// HEADER-NEXT: int64_t offset;
// HEADER-NEXT: int64_t sizes[2];
// HEADER-NEXT: int64_t strides[2];
// HEADER-NEXT: } squant_memref_2d_f32;
// HEADER: void _mlir_ciface_layer(squant_memref_2d_f32 *result, squant_memref_2d_f32 *arg0);

// CHECK: aot: 2x3 outputs, 0 mismatches

// y = x · w^T, w[n][k] = q[n][k]·s[n][g] + b[n][g], q = (7n + 3k) mod 16
// packed at compile time (lsb_first 4-bit), groups of 16 along K.
func.func @layer(%x: tensor<2x32xf32>) -> tensor<2x3xf32> {
  %q = arith.constant dense<[[0, 3, 6, 9, 12, 15, 2, 5, 8, 11, 14, 1, 4, 7, 10, 13, 0, 3, 6, 9, 12, 15, 2, 5, 8, 11, 14, 1, 4, 7, 10, 13], [7, 10, 13, 0, 3, 6, 9, 12, 15, 2, 5, 8, 11, 14, 1, 4, 7, 10, 13, 0, 3, 6, 9, 12, 15, 2, 5, 8, 11, 14, 1, 4], [14, 1, 4, 7, 10, 13, 0, 3, 6, 9, 12, 15, 2, 5, 8, 11, 14, 1, 4, 7, 10, 13, 0, 3, 6, 9, 12, 15, 2, 5, 8, 11]]> : tensor<3x32xi8>
  %p = squant.pack %q layout <order = lsb_first, bits = 4, storage = unsigned> : tensor<3x32xi8> -> tensor<3x16xi8>
  %u = squant.unpack %p layout <order = lsb_first, bits = 4, storage = unsigned> : tensor<3x16xi8> -> tensor<3x32xi8>
  %s = arith.constant dense<[[0.5, 0.25], [1.0, 0.5], [0.125, 2.0]]> : tensor<3x2xf32>
  %b = arith.constant dense<[[-4.0, -2.0], [-8.0, 1.0], [0.0, -16.0]]> : tensor<3x2xf32>
  %y = squant.qmatmul %x, %u scales(%s) bias(%b) form(#squant.fma<bits = 4, storage = unsigned, axis = 1, group_size = 16>)
      : (tensor<2x32xf32>, tensor<3x32xi8>, tensor<3x2xf32>, tensor<3x2xf32>) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}
