// Executed: squant.qmatmul lowered to calls of squant_rt
// (convert-squant-to-runtime) and by squant-lower-to-llvm-cpu
// (convert-squant-to-vector), once per lowering decision, against the same
// product computed by upstream linalg on the dequantized weights. Inputs are
// small integers and power-of-two scales, so every product and sum is exact
// and the two print the same values.
//
// RUN: squant-opt %s %{lower_runtime} | mlir-runner -e main -entry-point-result=void %{runner_libs_rt} | FileCheck %s
// Packed for AVX-512 (TILE16_V2 for the 2- and 3-bit GEMVs; on a CPU
// without AVX-512 the runtime's portable kernel reads it) and for a generic
// CPU (BLOCK32_V1 throughout).
// RUN: squant-opt %s --convert-squant-to-runtime=target=avx512 %{lower_after_runtime} | mlir-runner -e main -entry-point-result=void %{runner_libs_rt} | FileCheck %s
// Packed for AMX (TILE16_V2 for the 4- and 8-bit GEMVs too; the runtime runs
// them on AMX-INT8, or on a CPU without AMX its portable kernel).
// RUN: squant-opt %s --convert-squant-to-runtime=target=amx %{lower_after_runtime} | mlir-runner -e main -entry-point-result=void %{runner_libs_rt} | FileCheck %s
// RUN: squant-opt %s --convert-squant-to-runtime=target=generic %{lower_after_runtime} | mlir-runner -e main -entry-point-result=void %{runner_libs_rt} | FileCheck %s
//
// Vector kernel on this machine's ISA: hoisted scales for M = 1, dequantized
// panels for M = 12, in-register table permutes for the lut forms.
// RUN: squant-opt %s --squant-lower-to-llvm-cpu | mlir-runner -e main -entry-point-result=void %{runner_libs} | FileCheck %s
// Threaded: the row loops on two threads (squant_rt_parallel_for); one row
// per block, so the five rows are five iterations in the hoisted kernels too.
// RUN: squant-opt %s --squant-lower-to-llvm-cpu="threads=2 row-tile=1" | mlir-runner -e main -entry-point-result=void %{runner_libs_rt} | FileCheck %s
// Panels for every M; and hoisting for every M.
// RUN: squant-opt %s --squant-lower-to-llvm-cpu=hoist-max-m=0 | mlir-runner -e main -entry-point-result=void %{runner_libs} | FileCheck %s
// RUN: squant-opt %s --squant-lower-to-llvm-cpu=hoist-max-m=64 | mlir-runner -e main -entry-point-result=void %{runner_libs} | FileCheck %s
// AVX2 (8 lanes, two-half permutes for 16-entry tables) and generic (4 lanes,
// compare/select lookups).
// RUN: squant-opt %s --squant-lower-to-llvm-cpu=target=avx2 | mlir-runner -e main -entry-point-result=void %{runner_libs} | FileCheck %s
// RUN: squant-opt %s --squant-lower-to-llvm-cpu=target=generic | mlir-runner -e main -entry-point-result=void %{runner_libs} | FileCheck %s

func.func private @printMemrefF32(memref<*xf32>)

func.func @print(%t: tensor<?x?xf32>) {
  %m = bufferization.to_buffer %t : tensor<?x?xf32> to memref<?x?xf32>
  %u = memref.cast %m : memref<?x?xf32> to memref<*xf32>
  call @printMemrefF32(%u) : (memref<*xf32>) -> ()
  return
}

/// y = x W^T with linalg on an fp32 weight: the reference.
func.func @reference(%x: tensor<?x64xf32>, %w: tensor<5x64xf32>) -> tensor<?x?xf32> {
  %c0 = arith.constant 0 : index
  %m = tensor.dim %x, %c0 : tensor<?x64xf32>
  %e = tensor.empty(%m) : tensor<?x5xf32>
  %z = arith.constant 0.0 : f32
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<?x5xf32>) -> tensor<?x5xf32>
  %y = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
      ins(%x, %w : tensor<?x64xf32>, tensor<5x64xf32>) outs(%f : tensor<?x5xf32>) -> tensor<?x5xf32>
  %r = tensor.cast %y : tensor<?x5xf32> to tensor<?x?xf32>
  return %r : tensor<?x?xf32>
}

func.func @main() {
  %x1 = arith.constant dense<[[0.0, 3.0, 1.0, 3.0, 3.0, 0.0, 0.0, 1.0, 3.0, 1.0, -2.0, -2.0, 3.0, 1.0, 0.0, 2.0, 1.0, 3.0, -2.0, -3.0, 0.0, -1.0, -2.0, -3.0, 1.0, 3.0, 2.0, 2.0, -3.0, 1.0, 0.0, 0.0, 2.0, 2.0, 1.0, 2.0, -2.0, 1.0, -3.0, 3.0, 1.0, -3.0, -3.0, -3.0, -2.0, -2.0, 1.0, -3.0, 3.0, 0.0, -1.0, 0.0, 1.0, 3.0, -2.0, 1.0, -2.0, 2.0, -1.0, 0.0, -3.0, 2.0, -3.0, 0.0]]> : tensor<1x64xf32>
  %x12 = arith.constant dense<[[2.0, -1.0, 0.0, 1.0, 3.0, -3.0, 2.0, -1.0, -1.0, 3.0, -2.0, 1.0, -1.0, -3.0, -3.0, 1.0, 3.0, -3.0, 0.0, -3.0, 3.0, -1.0, 0.0, -3.0, -3.0, 3.0, 2.0, -3.0, -2.0, -2.0, -3.0, 0.0, 0.0, 2.0, 0.0, 0.0, -3.0, 1.0, 2.0, -2.0, 3.0, 2.0, -1.0, -1.0, -3.0, -1.0, -1.0, -3.0, 0.0, 3.0, -3.0, -2.0, -2.0, 2.0, -3.0, -3.0, -3.0, 0.0, 3.0, 0.0, -2.0, 2.0, 1.0, -2.0], [0.0, 1.0, -2.0, 2.0, 3.0, -2.0, 0.0, 2.0, 0.0, -3.0, 0.0, 0.0, -2.0, -3.0, -1.0, 3.0, 3.0, 1.0, -1.0, -3.0, -2.0, -2.0, 0.0, 3.0, 1.0, 2.0, 1.0, -3.0, -3.0, -2.0, -2.0, 0.0, -1.0, -3.0, 3.0, 1.0, -1.0, 3.0, -1.0, 0.0, -3.0, -3.0, -3.0, -2.0, 1.0, 2.0, -2.0, -3.0, 1.0, -1.0, -1.0, 1.0, 0.0, -2.0, 1.0, 0.0, 3.0, 1.0, -2.0, 3.0, 0.0, -2.0, 2.0, -2.0], [-1.0, -2.0, 3.0, 1.0, -2.0, 2.0, -2.0, -2.0, 2.0, 2.0, 1.0, -2.0, 2.0, 0.0, 0.0, 1.0, -3.0, 0.0, -3.0, -3.0, -3.0, -3.0, 1.0, -1.0, -2.0, 2.0, 2.0, 0.0, -1.0, 0.0, 3.0, 1.0, 0.0, -1.0, 1.0, -2.0, 2.0, -3.0, -2.0, -2.0, 0.0, 1.0, 2.0, 3.0, 1.0, 1.0, -3.0, -1.0, -2.0, -2.0, 2.0, -3.0, -3.0, -1.0, 0.0, 0.0, -2.0, -3.0, -3.0, -2.0, -1.0, -1.0, 1.0, 1.0], [-2.0, -3.0, -1.0, -2.0, 0.0, -1.0, 2.0, 2.0, 2.0, 1.0, 1.0, -2.0, 1.0, -3.0, -3.0, 0.0, -1.0, 2.0, -1.0, -3.0, -3.0, 1.0, 2.0, -3.0, 0.0, -3.0, 2.0, -1.0, -1.0, -2.0, -3.0, -3.0, 0.0, 1.0, -1.0, 2.0, -3.0, 2.0, 2.0, 2.0, -2.0, 3.0, -1.0, -1.0, -3.0, 2.0, 0.0, -3.0, 3.0, 3.0, 0.0, 3.0, -3.0, 3.0, 0.0, 1.0, -3.0, 1.0, 2.0, 0.0, 0.0, 1.0, -3.0, 1.0], [-3.0, -3.0, -3.0, 2.0, -3.0, -1.0, 0.0, 2.0, -1.0, 0.0, 2.0, 2.0, 1.0, 0.0, 0.0, 0.0, 3.0, 1.0, -3.0, 1.0, 3.0, 1.0, -3.0, -1.0, 1.0, -3.0, 0.0, -3.0, -2.0, 2.0, -3.0, 0.0, 3.0, 1.0, 2.0, 0.0, -1.0, -3.0, -1.0, -1.0, -2.0, 2.0, 1.0, -2.0, 1.0, -2.0, 3.0, -1.0, 2.0, 0.0, 0.0, -2.0, -1.0, 0.0, 2.0, -1.0, -2.0, 2.0, 0.0, 3.0, 3.0, 3.0, -2.0, -2.0], [0.0, -2.0, 1.0, -1.0, -2.0, -2.0, -2.0, 0.0, -1.0, 3.0, 3.0, -3.0, 2.0, -3.0, -1.0, 3.0, -2.0, -3.0, 0.0, 0.0, -1.0, -2.0, 3.0, 0.0, 0.0, 2.0, 1.0, 0.0, 2.0, -1.0, 2.0, 3.0, 3.0, 1.0, 0.0, -1.0, -3.0, 3.0, -3.0, -1.0, 3.0, 1.0, -3.0, 2.0, 2.0, -1.0, 1.0, -1.0, -1.0, 2.0, 3.0, 1.0, -3.0, 2.0, -2.0, 0.0, 0.0, -2.0, -3.0, 3.0, 3.0, -1.0, -2.0, 3.0], [-2.0, 3.0, -3.0, 2.0, -3.0, 0.0, -3.0, 2.0, 1.0, 2.0, 2.0, 3.0, -1.0, -3.0, 2.0, -2.0, -2.0, 3.0, 0.0, -1.0, -2.0, 2.0, -3.0, 3.0, 0.0, 1.0, 2.0, -3.0, -2.0, -2.0, -1.0, 3.0, -1.0, 1.0, 2.0, 1.0, 1.0, 1.0, 3.0, -2.0, 0.0, 3.0, 3.0, 2.0, -2.0, -3.0, 0.0, 2.0, 0.0, -2.0, 0.0, 0.0, -2.0, 2.0, -3.0, 0.0, 1.0, 1.0, 2.0, 1.0, 3.0, 3.0, -1.0, 0.0], [-1.0, 2.0, -2.0, -3.0, 2.0, 3.0, 3.0, 3.0, 2.0, 2.0, -3.0, -2.0, -2.0, 0.0, -3.0, -1.0, 1.0, 3.0, -1.0, -1.0, 2.0, 3.0, -3.0, -1.0, 1.0, -3.0, -3.0, 0.0, -1.0, 1.0, 0.0, 3.0, -1.0, 0.0, -3.0, -2.0, 3.0, 3.0, -3.0, 0.0, 3.0, -3.0, -2.0, 1.0, -1.0, 2.0, 3.0, -2.0, 0.0, -2.0, 1.0, 2.0, 1.0, 3.0, 2.0, 2.0, 0.0, 0.0, 1.0, 2.0, -3.0, 3.0, -2.0, 0.0], [1.0, 1.0, -1.0, 3.0, 2.0, 1.0, 2.0, -2.0, 1.0, 1.0, 3.0, 1.0, -1.0, -1.0, 2.0, 0.0, 3.0, 3.0, 1.0, -2.0, -1.0, 3.0, -2.0, 1.0, 1.0, -1.0, 1.0, 0.0, -2.0, 0.0, 1.0, -3.0, 1.0, -3.0, 1.0, 0.0, -3.0, 1.0, -3.0, 1.0, 0.0, 1.0, 3.0, 1.0, -3.0, 0.0, -3.0, 2.0, -2.0, -3.0, 1.0, 0.0, 0.0, 3.0, 0.0, -1.0, -2.0, 0.0, 0.0, -2.0, -1.0, 0.0, 3.0, 0.0], [1.0, -1.0, -3.0, -2.0, 0.0, 1.0, -3.0, -1.0, -2.0, 2.0, 3.0, -3.0, -3.0, -2.0, -2.0, -2.0, -3.0, 2.0, -1.0, -1.0, 2.0, -1.0, -2.0, 1.0, 0.0, -3.0, 0.0, 2.0, 1.0, -3.0, 3.0, 1.0, 1.0, -1.0, 2.0, -2.0, 2.0, 1.0, 0.0, -3.0, 0.0, 2.0, 0.0, 3.0, 1.0, 1.0, -2.0, 1.0, -2.0, 3.0, 2.0, 1.0, 2.0, -2.0, 1.0, -2.0, 3.0, 1.0, 1.0, 1.0, 3.0, -2.0, -2.0, 2.0], [2.0, 3.0, -1.0, -2.0, -1.0, 1.0, -1.0, -2.0, -2.0, 3.0, -2.0, -3.0, -2.0, -2.0, -2.0, 2.0, -3.0, -1.0, 0.0, -3.0, 0.0, 3.0, 0.0, 1.0, 3.0, 2.0, -2.0, -2.0, 0.0, 2.0, 2.0, 3.0, -3.0, -3.0, -2.0, 1.0, 2.0, -1.0, 3.0, -1.0, -3.0, 2.0, 1.0, 2.0, 3.0, -1.0, 1.0, 2.0, 3.0, -2.0, 3.0, -3.0, 0.0, -3.0, -3.0, -3.0, 3.0, 1.0, 1.0, 1.0, 1.0, 0.0, -2.0, -2.0], [-2.0, -3.0, -2.0, -2.0, 3.0, -2.0, -1.0, 2.0, -3.0, 1.0, -3.0, -2.0, 2.0, 0.0, -3.0, 3.0, -3.0, -1.0, 0.0, 0.0, 0.0, 1.0, -1.0, 0.0, -2.0, 1.0, -1.0, -3.0, 2.0, 2.0, -3.0, 3.0, -2.0, -2.0, 0.0, 0.0, -1.0, 2.0, -1.0, 0.0, -2.0, 1.0, -2.0, -3.0, 1.0, 3.0, -3.0, -1.0, -3.0, 3.0, 3.0, 2.0, 3.0, 2.0, 0.0, 1.0, 1.0, -2.0, 1.0, 1.0, -1.0, 3.0, 3.0, -1.0]]> : tensor<12x64xf32>
  %s = arith.constant dense<[[2.0, 0.5], [0.5, 1.0], [1.0, 0.5], [0.5, 0.25], [0.25, 0.25]]> : tensor<5x2xf32>
  %b = arith.constant dense<[[1.0, -0.5], [-1.5, 1.5], [0.0, 0.5], [1.5, 1.0], [0.0, -1.5]]> : tensor<5x2xf32>

  // int4 unsigned, fma form: GEMV (factorized) and GEMM (exact weights).
  %q4 = arith.constant dense<[[8, 3, 5, 12, 4, 10, 11, 13, 5, 12, 6, 5, 2, 10, 9, 15, 3, 0, 11, 1, 7, 8, 9, 10, 6, 12, 5, 2, 12, 15, 6, 3, 12, 0, 3, 3, 7, 8, 14, 12, 1, 6, 12, 0, 3, 8, 8, 8, 10, 13, 3, 14, 2, 1, 12, 5, 12, 15, 5, 15, 1, 13, 15, 13], [9, 12, 9, 11, 9, 15, 8, 9, 9, 0, 0, 7, 1, 5, 13, 12, 1, 10, 12, 1, 10, 2, 7, 13, 15, 8, 7, 1, 3, 14, 4, 7, 3, 1, 13, 14, 3, 6, 1, 11, 4, 3, 11, 14, 4, 13, 14, 8, 13, 11, 4, 9, 4, 7, 15, 3, 9, 11, 8, 8, 6, 8, 7, 6], [7, 6, 1, 1, 0, 8, 8, 13, 0, 1, 3, 7, 8, 2, 2, 5, 7, 11, 15, 15, 11, 6, 10, 10, 15, 4, 2, 3, 14, 6, 14, 13, 8, 12, 4, 11, 4, 10, 9, 5, 13, 11, 3, 14, 10, 2, 2, 13, 15, 14, 9, 0, 2, 9, 6, 2, 9, 15, 10, 9, 4, 7, 11, 10], [11, 3, 10, 14, 8, 14, 9, 14, 10, 7, 12, 7, 2, 11, 11, 0, 11, 12, 12, 6, 11, 12, 4, 5, 5, 2, 14, 9, 0, 7, 1, 5, 9, 0, 13, 2, 9, 2, 10, 2, 8, 3, 10, 2, 0, 4, 3, 13, 7, 7, 15, 10, 14, 12, 11, 10, 10, 4, 15, 15, 2, 1, 13, 11], [0, 12, 2, 14, 0, 11, 0, 3, 13, 13, 4, 7, 5, 12, 5, 10, 6, 12, 13, 9, 8, 1, 15, 9, 3, 9, 4, 5, 1, 14, 0, 15, 1, 10, 3, 6, 5, 11, 6, 7, 15, 7, 14, 5, 8, 12, 5, 9, 15, 8, 15, 12, 10, 2, 15, 7, 12, 1, 6, 4, 12, 8, 1, 7]]> : tensor<5x64xi8>
  %w4 = squant.fma_dequantize %q4, %s, %b form(<bits = 4, storage = unsigned, axis = 1, group_size = 32>) : tensor<5x64xi8>, tensor<5x2xf32>, tensor<5x2xf32> -> tensor<5x64xf32>
  %x1d = tensor.cast %x1 : tensor<1x64xf32> to tensor<?x64xf32>
  %x12d = tensor.cast %x12 : tensor<12x64xf32> to tensor<?x64xf32>
  %r1 = call @reference(%x1d, %w4) : (tensor<?x64xf32>, tensor<5x64xf32>) -> tensor<?x?xf32>
  %y1 = squant.qmatmul %x1, %q4 scales(%s) bias(%b) form(#squant.fma<bits = 4, storage = unsigned, axis = 1, group_size = 32>) : (tensor<1x64xf32>, tensor<5x64xi8>, tensor<5x2xf32>, tensor<5x2xf32>) -> tensor<1x5xf32>
  %y1d = tensor.cast %y1 : tensor<1x5xf32> to tensor<?x?xf32>
  // CHECK: {{\[\[}}[[R1:[-0-9.,e+ ]+]]{{\]\]}}
  // CHECK: {{\[\[}}[[R1]]{{\]\]}}
  call @print(%r1) : (tensor<?x?xf32>) -> ()
  call @print(%y1d) : (tensor<?x?xf32>) -> ()
  %r12 = call @reference(%x12d, %w4) : (tensor<?x64xf32>, tensor<5x64xf32>) -> tensor<?x?xf32>
  %y12 = squant.qmatmul %x12, %q4 scales(%s) bias(%b) form(#squant.fma<bits = 4, storage = unsigned, axis = 1, group_size = 32>) : (tensor<12x64xf32>, tensor<5x64xi8>, tensor<5x2xf32>, tensor<5x2xf32>) -> tensor<12x5xf32>
  %y12d = tensor.cast %y12 : tensor<12x5xf32> to tensor<?x?xf32>
  // CHECK: {{\[\[}}[[A:[-0-9.,e+ ]+]]{{\],}}
  // CHECK-NEXT: {{\[}}[[B:[-0-9.,e+ ]+]]{{\],}}
  // CHECK: {{\[\[}}[[A]]{{\],}}
  // CHECK-NEXT: {{\[}}[[B]]{{\],}}
  call @print(%r12) : (tensor<?x?xf32>) -> ()
  call @print(%y12d) : (tensor<?x?xf32>) -> ()


  // int8 unsigned codes in groups of 64 (one per row), M = 12: on AMX
  // machines the runtime multiplies the codes as AMX-INT8 tiles by int8
  // parts of x (exact here).
  %q8 = arith.constant dense<[[-71, -16, -10, -111, -43, 116, -28, 2, -47, -124, 121, 113, 5, -105, -102, -85, 72, -98, 11, 112, -127, 10, 78, 14, -19, -23, -105, 114, -98, -71, -124, -41, 44, -78, -3, -40, 88, -106, 22, -112, 42, 3, -65, 120, -6, 79, -98, -101, -94, -21, -24, 33, 84, -10, 6, -29, -5, 7, -13, 62, -24, 40, -1, 11], [73, 118, -49, -67, 16, 22, -52, -93, -12, 36, 116, -93, 51, 47, 62, 124, 4, -55, 23, 58, 24, -55, 78, -126, 122, 91, 5, 122, 125, 59, 53, 75, -119, -58, -48, 19, -49, -19, -18, -21, -123, 19, 30, 15, 101, -38, -126, -60, 52, 110, 58, -44, 55, -111, 59, -23, -34, 72, -52, 121, 64, 67, -50, -35], [115, -54, 94, -71, -3, 89, -48, 106, -38, 11, -7, -101, -105, 63, 39, -100, -1, 123, -15, 107, -30, 68, -5, 40, 54, -96, 29, -20, 41, -2, 26, -85, 87, 51, -70, -50, -112, -56, 33, 114, 97, -24, 107, 6, 0, 113, -86, -54, 104, 28, -119, 11, -59, 29, 75, 113, 105, -119, 14, 111, -15, -10, -78, 69], [-21, 88, 55, 97, 11, 47, -65, -110, 49, 79, 19, 95, 60, 117, -80, 104, -33, 46, 93, 45, -20, 40, 16, 77, 78, 80, 105, -43, 21, -75, 58, -50, -47, -124, 62, -60, 99, -75, -31, -65, -35, 8, -80, 98, 41, 108, -60, -46, 28, 108, -45, -82, 22, -49, -78, 10, 75, -43, 120, -92, 85, -49, 28, -64], [21, -52, -27, 18, 73, 0, 85, 99, -106, -46, 13, 26, 60, 0, 64, -96, 40, -102, -28, 75, -37, -112, -47, 42, 75, 21, -104, -122, -101, -29, -95, 38, -123, -63, -99, -12, 11, 63, 58, -85, -51, -117, -26, -108, 111, -117, 7, -14, 2, 101, 42, -42, 79, 114, -84, -47, 55, -120, 5, -94, 86, -65, -42, -108]]> : tensor<5x64xi8>
  %s8 = arith.constant dense<[[0.25], [0.5], [0.125], [1.0], [0.25]]> : tensor<5x1xf32>
  %b8 = arith.constant dense<[[-32.0], [4.5], [0.0], [-100.0], [7.0]]> : tensor<5x1xf32>
  %w8 = squant.fma_dequantize %q8, %s8, %b8 form(<bits = 8, storage = unsigned, axis = 1, group_size = 64>) : tensor<5x64xi8>, tensor<5x1xf32>, tensor<5x1xf32> -> tensor<5x64xf32>
  %r8 = call @reference(%x12d, %w8) : (tensor<?x64xf32>, tensor<5x64xf32>) -> tensor<?x?xf32>
  %y8 = squant.qmatmul %x12, %q8 scales(%s8) bias(%b8) form(#squant.fma<bits = 8, storage = unsigned, axis = 1, group_size = 64>) : (tensor<12x64xf32>, tensor<5x64xi8>, tensor<5x1xf32>, tensor<5x1xf32>) -> tensor<12x5xf32>
  %y8d = tensor.cast %y8 : tensor<12x5xf32> to tensor<?x?xf32>
  // CHECK: {{\[\[}}[[E0:[-0-9.,e+ ]+]]{{\],}}
  // CHECK-NEXT: {{\[}}[[E1:[-0-9.,e+ ]+]]{{\],}}
  // CHECK-NEXT: {{\[}}[[E2:[-0-9.,e+ ]+]]{{\],}}
  // CHECK-NEXT: {{\[}}[[E3:[-0-9.,e+ ]+]]{{\],}}
  // CHECK-NEXT: {{\[}}[[E4:[-0-9.,e+ ]+]]{{\],}}
  // CHECK-NEXT: {{\[}}[[E5:[-0-9.,e+ ]+]]{{\],}}
  // CHECK-NEXT: {{\[}}[[E6:[-0-9.,e+ ]+]]{{\],}}
  // CHECK-NEXT: {{\[}}[[E7:[-0-9.,e+ ]+]]{{\],}}
  // CHECK-NEXT: {{\[}}[[E8:[-0-9.,e+ ]+]]{{\],}}
  // CHECK-NEXT: {{\[}}[[E9:[-0-9.,e+ ]+]]{{\],}}
  // CHECK-NEXT: {{\[}}[[E10:[-0-9.,e+ ]+]]{{\],}}
  // CHECK-NEXT: {{\[}}[[E11:[-0-9.,e+ ]+]]{{\]\]}}
  // CHECK: {{\[\[}}[[E0]]{{\],}}
  // CHECK-NEXT: {{\[}}[[E1]]{{\],}}
  // CHECK-NEXT: {{\[}}[[E2]]{{\],}}
  // CHECK-NEXT: {{\[}}[[E3]]{{\],}}
  // CHECK-NEXT: {{\[}}[[E4]]{{\],}}
  // CHECK-NEXT: {{\[}}[[E5]]{{\],}}
  // CHECK-NEXT: {{\[}}[[E6]]{{\],}}
  // CHECK-NEXT: {{\[}}[[E7]]{{\],}}
  // CHECK-NEXT: {{\[}}[[E8]]{{\],}}
  // CHECK-NEXT: {{\[}}[[E9]]{{\],}}
  // CHECK-NEXT: {{\[}}[[E10]]{{\],}}
  // CHECK-NEXT: {{\[}}[[E11]]{{\]\]}}
  call @print(%r8) : (tensor<?x?xf32>) -> ()
  call @print(%y8d) : (tensor<?x?xf32>) -> ()

  // A GEMV of 4-bit codes in one group of 64: TILE16_V2 on AMX targets
  // (and AMX hosts), run on AMX-INT8 with x in int8 parts (exact here).
  %w4g = squant.fma_dequantize %q4, %s8, %b8 form(<bits = 4, storage = unsigned, axis = 1, group_size = 64>) : tensor<5x64xi8>, tensor<5x1xf32>, tensor<5x1xf32> -> tensor<5x64xf32>
  %r4g = call @reference(%x1d, %w4g) : (tensor<?x64xf32>, tensor<5x64xf32>) -> tensor<?x?xf32>
  %y4g = squant.qmatmul %x1, %q4 scales(%s8) bias(%b8) form(#squant.fma<bits = 4, storage = unsigned, axis = 1, group_size = 64>) : (tensor<1x64xf32>, tensor<5x64xi8>, tensor<5x1xf32>, tensor<5x1xf32>) -> tensor<1x5xf32>
  %y4gd = tensor.cast %y4g : tensor<1x5xf32> to tensor<?x?xf32>
  // CHECK: {{\[\[}}[[G4:[-0-9.,e+ ]+]]{{\]\]}}
  // CHECK: {{\[\[}}[[G4]]{{\]\]}}
  call @print(%r4g) : (tensor<?x?xf32>) -> ()
  call @print(%y4gd) : (tensor<?x?xf32>) -> ()

  // The same for 8-bit codes: TILE16_V2 on AMX targets, the B tiles as
  // packed.
  %r8g = call @reference(%x1d, %w8) : (tensor<?x64xf32>, tensor<5x64xf32>) -> tensor<?x?xf32>
  %y8g = squant.qmatmul %x1, %q8 scales(%s8) bias(%b8) form(#squant.fma<bits = 8, storage = unsigned, axis = 1, group_size = 64>) : (tensor<1x64xf32>, tensor<5x64xi8>, tensor<5x1xf32>, tensor<5x1xf32>) -> tensor<1x5xf32>
  %y8gd = tensor.cast %y8g : tensor<1x5xf32> to tensor<?x?xf32>
  // CHECK: {{\[\[}}[[G8:[-0-9.,e+ ]+]]{{\]\]}}
  // CHECK: {{\[\[}}[[G8]]{{\]\]}}
  call @print(%r8g) : (tensor<?x?xf32>) -> ()
  call @print(%y8gd) : (tensor<?x?xf32>) -> ()

  // int2 signed codes.
  %q2 = arith.constant dense<[[-2, 1, 0, 1, -1, 1, -1, 1, -1, 0, -1, 0, -1, 0, -2, -1, -1, -2, -1, -1, -1, -2, 0, 0, -2, 1, 1, -2, 0, -2, -1, 1, -1, -2, 1, -1, -2, 1, 1, -1, 0, 0, 0, 1, -2, 0, 1, -2, 0, -2, -1, -2, 1, 1, -2, 1, -2, 1, 1, -1, 0, -2, 1, -2], [-1, -1, 0, 1, 0, 0, 1, -2, 0, -1, -1, 1, -2, 0, 0, 0, 1, 0, 1, 1, -2, -2, -1, -2, -1, -1, -1, -1, 1, -2, 1, -2, -2, -1, -2, -1, -2, 1, 1, -2, 0, 1, -1, -1, -1, 1, 1, 0, 1, -2, 1, 0, -1, -2, 0, 0, -1, 0, 0, 1, -2, 1, -1, 0], [0, -2, -1, 0, 0, -1, 0, -1, -1, -1, -2, -1, -2, -1, -1, 1, 1, 0, 0, -2, 0, 0, 1, -2, 1, -1, -1, -2, 0, -1, 0, -1, -2, -2, 0, 0, -1, 0, -1, -1, -2, 1, -2, 1, -1, -1, 0, 1, -2, -1, -1, 1, 1, -2, -1, 1, -2, 1, -1, 0, -1, 0, -1, 0], [-2, -2, -1, 1, 1, -2, 1, 0, 1, 1, 0, 1, 1, 1, 1, -2, -2, 0, 1, 1, -2, 0, -2, 0, 1, 1, 0, 0, -2, -1, -2, 1, -1, 1, -2, 1, -2, -1, 0, 1, -1, -2, 0, 1, -1, -1, 1, -2, -2, -2, -1, -2, 1, -2, 0, -1, 0, -2, 0, -1, -2, 1, 1, 1], [-1, 0, -1, -2, 0, -2, 1, 0, 0, 0, 1, -1, 1, -1, -1, 0, -2, -1, 0, 0, 1, -2, -1, -1, -1, -1, -2, -2, 0, 0, 0, 1, -1, 0, 1, 1, -2, -1, -1, 0, -2, -1, 0, -1, -1, 0, 0, 0, -2, -1, 0, -1, -1, 0, -1, -2, 1, -2, 1, -2, -2, -2, 0, 0]]> : tensor<5x64xi8>
  %w2 = squant.fma_dequantize %q2, %s, %b form(<bits = 2, axis = 1, group_size = 32>) : tensor<5x64xi8>, tensor<5x2xf32>, tensor<5x2xf32> -> tensor<5x64xf32>
  %r2 = call @reference(%x12d, %w2) : (tensor<?x64xf32>, tensor<5x64xf32>) -> tensor<?x?xf32>
  %y2 = squant.qmatmul %x12, %q2 scales(%s) bias(%b) form(#squant.fma<bits = 2, axis = 1, group_size = 32>) : (tensor<12x64xf32>, tensor<5x64xi8>, tensor<5x2xf32>, tensor<5x2xf32>) -> tensor<12x5xf32>
  %y2d = tensor.cast %y2 : tensor<12x5xf32> to tensor<?x?xf32>
  // CHECK: {{\[\[}}[[C:[-0-9.,e+ ]+]]{{\],}}
  // CHECK-NEXT: {{\[}}[[C2:[-0-9.,e+ ]+]]{{\],}}
  // CHECK: {{\[\[}}[[C]]{{\],}}
  // CHECK-NEXT: {{\[}}[[C2]]{{\],}}
  call @print(%r2) : (tensor<?x?xf32>) -> ()
  call @print(%y2d) : (tensor<?x?xf32>) -> ()

  // GEMVs of 2- and 3-bit codes: TILE16_V2 on AVX-512 targets (five rows of
  // a 16-row tile), BLOCK32_V1 elsewhere.
  %r2v = call @reference(%x1d, %w2) : (tensor<?x64xf32>, tensor<5x64xf32>) -> tensor<?x?xf32>
  %y2v = squant.qmatmul %x1, %q2 scales(%s) bias(%b) form(#squant.fma<bits = 2, axis = 1, group_size = 32>) : (tensor<1x64xf32>, tensor<5x64xi8>, tensor<5x2xf32>, tensor<5x2xf32>) -> tensor<1x5xf32>
  %y2vd = tensor.cast %y2v : tensor<1x5xf32> to tensor<?x?xf32>
  // CHECK: {{\[\[}}[[V2:[-0-9.,e+ ]+]]{{\]\]}}
  // CHECK: {{\[\[}}[[V2]]{{\]\]}}
  call @print(%r2v) : (tensor<?x?xf32>) -> ()
  call @print(%y2vd) : (tensor<?x?xf32>) -> ()
  %q3 = arith.constant dense<[[7, 7, 7, 3, 2, 7, 2, 1, 7, 4, 2, 1, 0, 6, 7, 2, 0, 1, 0, 0, 3, 3, 0, 7, 5, 7, 3, 3, 4, 7, 0, 1, 7, 4, 6, 1, 4, 5, 3, 4, 0, 1, 1, 6, 1, 4, 6, 1, 0, 0, 3, 3, 0, 7, 6, 6, 6, 1, 3, 4, 5, 1, 4, 5], [0, 6, 1, 2, 3, 1, 0, 0, 7, 7, 2, 3, 7, 3, 2, 6, 6, 1, 6, 6, 3, 0, 4, 4, 0, 3, 2, 6, 1, 0, 2, 3, 7, 4, 0, 5, 4, 6, 1, 1, 1, 3, 3, 0, 5, 5, 7, 2, 7, 2, 6, 2, 2, 4, 3, 3, 3, 2, 3, 6, 7, 1, 6, 0], [1, 1, 0, 4, 3, 6, 4, 6, 7, 4, 2, 1, 2, 3, 7, 1, 4, 3, 3, 0, 1, 4, 6, 7, 3, 0, 0, 2, 4, 5, 2, 1, 5, 2, 7, 5, 2, 0, 0, 7, 5, 4, 0, 0, 1, 7, 1, 4, 5, 2, 1, 1, 7, 5, 0, 2, 5, 5, 1, 7, 1, 6, 0, 7], [0, 6, 6, 0, 1, 1, 1, 1, 4, 6, 5, 6, 7, 7, 7, 1, 0, 4, 1, 7, 0, 3, 1, 7, 7, 4, 0, 5, 4, 2, 3, 2, 5, 7, 7, 3, 5, 6, 4, 3, 6, 3, 3, 6, 3, 5, 3, 2, 2, 7, 5, 0, 1, 4, 2, 1, 7, 7, 4, 3, 6, 6, 7, 5], [7, 5, 1, 0, 4, 0, 4, 5, 4, 0, 2, 6, 7, 3, 0, 4, 3, 2, 0, 1, 7, 1, 5, 1, 3, 3, 7, 4, 2, 0, 7, 0, 2, 3, 4, 5, 2, 6, 3, 1, 6, 6, 2, 7, 7, 3, 0, 6, 5, 7, 5, 3, 1, 1, 3, 3, 6, 1, 4, 5, 4, 0, 5, 1]]> : tensor<5x64xi8>
  %w3 = squant.fma_dequantize %q3, %s, %b form(<bits = 3, storage = unsigned, axis = 1, group_size = 32>) : tensor<5x64xi8>, tensor<5x2xf32>, tensor<5x2xf32> -> tensor<5x64xf32>
  %r3 = call @reference(%x1d, %w3) : (tensor<?x64xf32>, tensor<5x64xf32>) -> tensor<?x?xf32>
  %y3 = squant.qmatmul %x1, %q3 scales(%s) bias(%b) form(#squant.fma<bits = 3, storage = unsigned, axis = 1, group_size = 32>) : (tensor<1x64xf32>, tensor<5x64xi8>, tensor<5x2xf32>, tensor<5x2xf32>) -> tensor<1x5xf32>
  %y3d = tensor.cast %y3 : tensor<1x5xf32> to tensor<?x?xf32>
  // CHECK: {{\[\[}}[[V3:[-0-9.,e+ ]+]]{{\]\]}}
  // CHECK: {{\[\[}}[[V3]]{{\]\]}}
  call @print(%r3) : (tensor<?x?xf32>) -> ()
  call @print(%y3d) : (tensor<?x?xf32>) -> ()

  // LUT forms: int8 stretched table with s_table, and fp32 tables per row.
  %idx = arith.constant dense<[[3, 0, 1, 2, 1, 1, 1, 2, 0, 1, 1, 0, 3, 3, 0, 3, 0, 1, 0, 2, 2, 3, 0, 2, 1, 1, 0, 3, 1, 3, 2, 1, 2, 3, 1, 3, 2, 0, 1, 0, 3, 1, 2, 1, 0, 3, 3, 3, 2, 0, 0, 0, 1, 1, 1, 0, 2, 3, 0, 2, 2, 3, 0, 1], [3, 2, 1, 1, 3, 3, 0, 2, 3, 3, 2, 1, 0, 1, 3, 1, 1, 3, 0, 0, 1, 3, 1, 0, 3, 2, 3, 3, 0, 0, 1, 2, 2, 0, 1, 3, 3, 0, 1, 2, 2, 2, 1, 0, 1, 3, 0, 2, 1, 3, 3, 1, 3, 3, 0, 1, 3, 2, 1, 1, 1, 3, 1, 3], [1, 3, 2, 3, 3, 3, 1, 3, 1, 3, 3, 0, 0, 2, 2, 2, 0, 1, 2, 3, 1, 2, 0, 2, 0, 1, 2, 1, 1, 0, 0, 2, 3, 3, 0, 3, 2, 2, 0, 2, 3, 1, 3, 0, 1, 1, 1, 0, 1, 2, 3, 3, 3, 1, 2, 2, 3, 3, 1, 1, 2, 3, 3, 1], [3, 2, 1, 0, 2, 2, 2, 1, 1, 0, 0, 3, 0, 2, 0, 1, 2, 0, 2, 1, 2, 0, 3, 0, 3, 3, 0, 3, 3, 2, 2, 3, 2, 1, 1, 3, 1, 3, 1, 2, 1, 0, 2, 3, 1, 3, 2, 2, 0, 3, 0, 2, 0, 3, 2, 0, 3, 3, 2, 3, 2, 2, 0, 0], [0, 2, 2, 2, 2, 2, 1, 3, 3, 2, 2, 0, 1, 0, 0, 3, 3, 0, 2, 0, 3, 3, 3, 3, 0, 1, 2, 2, 3, 2, 3, 0, 1, 1, 2, 1, 2, 1, 1, 0, 3, 0, 1, 3, 0, 2, 2, 2, 0, 0, 2, 1, 3, 1, 1, 1, 1, 2, 3, 2, 2, 3, 2, 2]]> : tensor<5x64xi8>
  %t = arith.constant dense<[-3, -1, 1, 3]> : tensor<4xi8>
  %wl = squant.lut_dequantize %idx, %t scales(%s) scheme <bits = 2, axis = 1, group_size = 32> : tensor<5x64xi8>, tensor<4xi8>, tensor<5x2xf32> -> tensor<5x64xf32>
  %rl = call @reference(%x1d, %wl) : (tensor<?x64xf32>, tensor<5x64xf32>) -> tensor<?x?xf32>
  %yl = squant.qmatmul %x1, %idx scales(%s) table(%t) form(#squant.lut<bits = 2, axis = 1, group_size = 32>) : (tensor<1x64xf32>, tensor<5x64xi8>, tensor<5x2xf32>, tensor<4xi8>) -> tensor<1x5xf32>
  %yld = tensor.cast %yl : tensor<1x5xf32> to tensor<?x?xf32>
  // CHECK: {{\[\[}}[[L:[-0-9.,e+ ]+]]{{\]\]}}
  // CHECK: {{\[\[}}[[L]]{{\]\]}}
  call @print(%rl) : (tensor<?x?xf32>) -> ()
  call @print(%yld) : (tensor<?x?xf32>) -> ()
  %ft = arith.constant dense<[[-0.5, 0.5, 0.75, -1.0], [0.25, 0.0, 0.5, 1.0], [0.5, 0.0, 0.0, 0.25], [0.25, -0.5, 0.25, -0.25], [-0.5, 0.5, -0.5, 0.0]]> : tensor<5x4xf32>
  %wf = squant.lut_dequantize %idx, %ft scheme <bits = 2, lut_axis = 0> : tensor<5x64xi8>, tensor<5x4xf32> -> tensor<5x64xf32>
  %rf = call @reference(%x12d, %wf) : (tensor<?x64xf32>, tensor<5x64xf32>) -> tensor<?x?xf32>
  %yf = squant.qmatmul %x12, %idx table(%ft) form(#squant.lut<bits = 2, lut_axis = 0>) : (tensor<12x64xf32>, tensor<5x64xi8>, tensor<5x4xf32>) -> tensor<12x5xf32>
  %yfd = tensor.cast %yf : tensor<12x5xf32> to tensor<?x?xf32>
  // CHECK: {{\[\[}}[[F:[-0-9.,e+ ]+]]{{\],}}
  // CHECK-NEXT: {{\[}}[[F2:[-0-9.,e+ ]+]]{{\],}}
  // CHECK: {{\[\[}}[[F]]{{\],}}
  // CHECK-NEXT: {{\[}}[[F2]]{{\],}}
  call @print(%rf) : (tensor<?x?xf32>) -> ()
  call @print(%yfd) : (tensor<?x?xf32>) -> ()
  return
}
