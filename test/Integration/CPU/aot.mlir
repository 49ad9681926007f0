// AOT: squant-lower-to-llvm-cpu's output, translated to LLVM IR, compiled
// to an object file with clang and linked into a C program that calls the
// entry point through its C interface and checks the values against its
// own computation (integer codes, power-of-two scales: exact). The object
// is compiled for this machine (-march=native): the kernel was generated
// for its vector width (target=host) and its scalar FMAs need hardware FMA.
//
// RUN: squant-opt %s --canonicalize --squant-lower-to-llvm-cpu | mlir-translate --mlir-to-llvmir -o %t.ll
// RUN: clang -O2 -march=native -c %t.ll -o %t.o
// RUN: clang -O2 %S/Inputs/aot-main.c %t.o -o %t.exe -lm
// RUN: %t.exe | FileCheck %s
// Threaded, linked with squant_rt: one row per block (row-tile=1), so the
// three rows are three iterations of the loop squant_rt_parallel_for runs.
// RUN: squant-opt %s --canonicalize --squant-lower-to-llvm-cpu="threads=2 row-tile=1" | mlir-translate --mlir-to-llvmir -o %t.mt.ll
// RUN: FileCheck %s --check-prefix=THREADED < %t.mt.ll
// RUN: clang -O2 -march=native -c %t.mt.ll -o %t.mt.o
// RUN: clang -O2 %S/Inputs/aot-main.c %t.mt.o -o %t.mt.exe -lm %{squant_rt_link}
// RUN: %t.mt.exe | FileCheck %s

// THREADED: declare void @squant_rt_parallel_for(ptr, ptr, i64, i32)
// THREADED: call void @squant_rt_parallel_for(ptr @layer_parallel, ptr %{{.*}}, i64 3, i32 2)
// THREADED: define {{.*}}void @layer_parallel(ptr %{{.*}}, i64 %{{.*}}, i64 %{{.*}})

// CHECK: aot: 2x3 outputs, 0 mismatches
// CHECK-NEXT: y[1][2] = {{.*}}

// y = x · w^T, w[n][k] = q[n][k]·s[n][g] + b[n][g], q = (7n + 3k) mod 16
// packed at compile time (lsb_first 4-bit), groups of 16 along K.
func.func @layer(%x: tensor<2x32xf32>) -> tensor<2x3xf32> attributes {llvm.emit_c_interface} {
  %q = arith.constant dense<[[0, 3, 6, 9, 12, 15, 2, 5, 8, 11, 14, 1, 4, 7, 10, 13, 0, 3, 6, 9, 12, 15, 2, 5, 8, 11, 14, 1, 4, 7, 10, 13], [7, 10, 13, 0, 3, 6, 9, 12, 15, 2, 5, 8, 11, 14, 1, 4, 7, 10, 13, 0, 3, 6, 9, 12, 15, 2, 5, 8, 11, 14, 1, 4], [14, 1, 4, 7, 10, 13, 0, 3, 6, 9, 12, 15, 2, 5, 8, 11, 14, 1, 4, 7, 10, 13, 0, 3, 6, 9, 12, 15, 2, 5, 8, 11]]> : tensor<3x32xi8>
  %p = squant.pack %q layout <order = lsb_first, bits = 4, storage = unsigned> : tensor<3x32xi8> -> tensor<3x16xi8>
  %u = squant.unpack %p layout <order = lsb_first, bits = 4, storage = unsigned> : tensor<3x16xi8> -> tensor<3x32xi8>
  %s = arith.constant dense<[[0.5, 0.25], [1.0, 0.5], [0.125, 2.0]]> : tensor<3x2xf32>
  %b = arith.constant dense<[[-4.0, -2.0], [-8.0, 1.0], [0.0, -16.0]]> : tensor<3x2xf32>
  %y = squant.qmatmul %x, %u scales(%s) bias(%b) form(#squant.fma<bits = 4, storage = unsigned, axis = 1, group_size = 16>)
      : (tensor<2x32xf32>, tensor<3x32xi8>, tensor<3x2xf32>, tensor<3x2xf32>) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}
