// Executed: loops outlined by squant-parallel-to-runtime and run by
// squant_rt_parallel_for on 1, 2 and 8 threads (more threads than
// iterations), with a lower bound and a step, an empty loop, and a loop run
// inside another call's iteration (nested, on the calling thread). Every
// iteration writes its own element once: buf[i] = 10 * i + tag; elements no
// iteration owns keep -1.
// DEFINE: %{lower_parallel} = --convert-linalg-to-loops --expand-strided-metadata --convert-scf-to-cf --finalize-memref-to-llvm --convert-to-llvm --reconcile-unrealized-casts
//
// RUN: squant-opt %s --squant-parallel-to-runtime=threads=1 %{lower_parallel} | mlir-runner -e main -entry-point-result=void %{runner_libs_rt} | FileCheck %s
// RUN: squant-opt %s --squant-parallel-to-runtime=threads=2 %{lower_parallel} | mlir-runner -e main -entry-point-result=void %{runner_libs_rt} | FileCheck %s
// RUN: squant-opt %s --squant-parallel-to-runtime=threads=8 %{lower_parallel} | mlir-runner -e main -entry-point-result=void %{runner_libs_rt} | FileCheck %s

// CHECK: [-1, -1, -1, 31, -1, 51, -1, 71, -1, 91, -1, 111, -1, 131, -1, 151, -1, 171, -1, -1]
// CHECK: [-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1]
// CHECK: [2, 12, 22, -1, 2, 12, 22, -1, 2, 12, 22, -1, 2, 12, 22, -1, -1, -1, -1, -1]

func.func private @printMemrefF32(memref<*xf32>)

func.func @fill(%buf: memref<20xf32>, %lb: index, %ub: index, %step: index, %tag: f32) {
  scf.parallel (%i) = (%lb) to (%ub) step (%step) {
    %ii = arith.index_cast %i : index to i64
    %f = arith.sitofp %ii : i64 to f32
    %c10 = arith.constant 10.0 : f32
    %m = arith.mulf %f, %c10 : f32
    %v = arith.addf %tag, %m : f32
    memref.store %v, %buf[%i] : memref<20xf32>
    scf.reduce
  }
  return
}

// Rows of 4: row r's first three elements get 10 * c + 2 from an inner loop
// that runs inside the outer loop's iteration.
func.func @nested(%buf: memref<20xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %c4 = arith.constant 4 : index
  %tag = arith.constant 2.0 : f32
  scf.parallel (%r) = (%c0) to (%c4) step (%c1) {
    %base = arith.muli %r, %c4 : index
    %row = memref.subview %buf[%base] [4] [1] : memref<20xf32> to memref<4xf32, strided<[1], offset: ?>>
    func.call @fillRow(%row, %tag) : (memref<4xf32, strided<[1], offset: ?>>, f32) -> ()
    scf.reduce
  }
  return
}

func.func @fillRow(%row: memref<4xf32, strided<[1], offset: ?>>, %tag: f32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %c10 = arith.constant 10.0 : f32
  scf.parallel (%c) = (%c0) to (%c3) step (%c1) {
    %ci = arith.index_cast %c : index to i64
    %f = arith.sitofp %ci : i64 to f32
    %m = arith.mulf %f, %c10 : f32
    %v = arith.addf %tag, %m : f32
    memref.store %v, %row[%c] : memref<4xf32, strided<[1], offset: ?>>
    scf.reduce
  }
  return
}

func.func @reset(%buf: memref<20xf32>) {
  %minus = arith.constant -1.0 : f32
  linalg.fill ins(%minus : f32) outs(%buf : memref<20xf32>)
  return
}

func.func @main() {
  %buf = memref.alloc() : memref<20xf32>
  %u = memref.cast %buf : memref<20xf32> to memref<*xf32>
  %c3 = arith.constant 3 : index
  %c2 = arith.constant 2 : index
  %c18 = arith.constant 18 : index
  %c7 = arith.constant 7 : index
  %one = arith.constant 1.0 : f32
  call @reset(%buf) : (memref<20xf32>) -> ()
  call @fill(%buf, %c3, %c18, %c2, %one) : (memref<20xf32>, index, index, index, f32) -> ()
  call @printMemrefF32(%u) : (memref<*xf32>) -> ()
  call @reset(%buf) : (memref<20xf32>) -> ()
  call @fill(%buf, %c7, %c7, %c2, %one) : (memref<20xf32>, index, index, index, f32) -> ()
  call @printMemrefF32(%u) : (memref<*xf32>) -> ()
  call @reset(%buf) : (memref<20xf32>) -> ()
  call @nested(%buf) : (memref<20xf32>) -> ()
  call @printMemrefF32(%u) : (memref<*xf32>) -> ()
  memref.dealloc %buf : memref<20xf32>
  return
}
