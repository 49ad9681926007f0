// RUN: squant-opt %s --squant-parallel-to-runtime="threads=3 remarks=true" --split-input-file --verify-diagnostics | FileCheck %s
// RUN: not squant-opt %s --squant-parallel-to-runtime=threads=0 --split-input-file 2>&1 | FileCheck %s --check-prefix=BAD

// BAD: error: squant-parallel-to-runtime: threads must be in [1, 256], got 0

// A 1-D loop with a lower bound and a step: the body becomes a function of
// (ctx, begin, end) that maps iteration j to lb + j * step; the values it
// uses from outside travel in a record on the caller's stack (memrefs as
// descriptors, indices as i64); constants are cloned into the body.

// CHECK-LABEL: func.func private @squant_rt_parallel_for((!llvm.ptr, i64, i64) -> (), !llvm.ptr, i64, i32)

// CHECK-LABEL: func.func @scale(
// CHECK-SAME:    %[[BUF:.*]]: memref<64xf32>, %[[LB:.*]]: index, %[[UB:.*]]: index, %[[F:.*]]: f32)
// CHECK:         %[[ONE:.*]] = llvm.mlir.constant(1 : i64) : i64
// CHECK:         %[[CTX:.*]] = llvm.alloca %[[ONE]] x !llvm.struct<(struct<(ptr, ptr, i64, array<1 x i64>, array<1 x i64>)>, f32, i64)>
// CHECK:         %[[P0:.*]] = llvm.getelementptr %[[CTX]][0, 0]
// CHECK:         %[[DESC:.*]] = builtin.unrealized_conversion_cast %[[BUF]] : memref<64xf32> to !llvm.struct<(ptr, ptr, i64, array<1 x i64>, array<1 x i64>)>
// CHECK:         llvm.store %[[DESC]], %[[P0]]
// CHECK:         %[[P1:.*]] = llvm.getelementptr %[[CTX]][0, 1]
// CHECK:         llvm.store %[[F]], %[[P1]]
// CHECK:         %[[P2:.*]] = llvm.getelementptr %[[CTX]][0, 2]
// CHECK:         %[[LB64:.*]] = arith.index_cast %[[LB]] : index to i64
// CHECK:         llvm.store %[[LB64]], %[[P2]]
// CHECK:         %[[SPAN:.*]] = arith.subi %[[UB]], %[[LB]]
// CHECK:         %[[COUNT:.*]] = arith.ceildivsi %[[SPAN]], %{{.*}}
// CHECK:         %[[FN:.*]] = constant @scale_parallel : (!llvm.ptr, i64, i64) -> ()
// CHECK:         %[[THREADS:.*]] = arith.constant 3 : i32
// CHECK:         %[[COUNT64:.*]] = arith.index_cast %[[COUNT]] : index to i64
// CHECK:         call @squant_rt_parallel_for(%[[FN]], %[[CTX]], %[[COUNT64]], %[[THREADS]])
// CHECK-NOT:     scf.parallel
// CHECK:         return

// CHECK-LABEL: func.func private @scale_parallel(
// CHECK-SAME:    %[[C:.*]]: !llvm.ptr, %[[BEGIN:.*]]: i64, %[[END:.*]]: i64)
// CHECK:         %[[Q0:.*]] = llvm.getelementptr %[[C]][0, 0]
// CHECK:         %[[D:.*]] = llvm.load %[[Q0]] : !llvm.ptr -> !llvm.struct<(ptr, ptr, i64, array<1 x i64>, array<1 x i64>)>
// CHECK:         %[[M:.*]] = builtin.unrealized_conversion_cast %[[D]] : {{.*}} to memref<64xf32>
// CHECK:         %[[FV:.*]] = llvm.load %{{.*}} : !llvm.ptr -> f32
// CHECK:         %[[L64:.*]] = llvm.load %{{.*}} : !llvm.ptr -> i64
// CHECK:         %[[L:.*]] = arith.index_cast %[[L64]] : i64 to index
// CHECK:         %[[STEP:.*]] = arith.constant 2 : index
// CHECK:         %[[B:.*]] = arith.index_cast %[[BEGIN]] : i64 to index
// CHECK:         %[[E:.*]] = arith.index_cast %[[END]] : i64 to index
// CHECK:         scf.for %[[J:.*]] = %[[B]] to %[[E]] step %{{.*}} {
// CHECK:           %[[JS:.*]] = arith.muli %[[J]], %[[STEP]]
// CHECK:           %[[I:.*]] = arith.addi %[[L]], %[[JS]]
// CHECK:           memref.load %[[M]][%[[I]]]
// CHECK:           arith.mulf %{{.*}}, %[[FV]]
// CHECK:           memref.store %{{.*}}, %[[M]][%[[I]]]
// CHECK:         return
func.func @scale(%buf: memref<64xf32>, %lb: index, %ub: index, %f: f32) {
  %c2 = arith.constant 2 : index
  scf.parallel (%i) = (%lb) to (%ub) step (%c2) {
    %v = memref.load %buf[%i] : memref<64xf32>
    %w = arith.mulf %v, %f : f32
    memref.store %w, %buf[%i] : memref<64xf32>
    scf.reduce
  }
  return
}

// -----

// Two loops in one function: two outlined bodies with distinct names and one
// declaration; a loop inside a loop (the outer is outlined) stays inside the
// body, sequential.

// CHECK-LABEL: func.func private @squant_rt_parallel_for(
// CHECK-LABEL: func.func @two(
// CHECK:         call @squant_rt_parallel_for
// CHECK:         call @squant_rt_parallel_for
// CHECK-LABEL: func.func private @two_parallel_0(
// CHECK:         scf.for
// CHECK-NOT:     call
// CHECK:         return
// CHECK-LABEL: func.func private @two_parallel(
// CHECK:         scf.for
// CHECK:           scf.parallel
func.func @two(%buf: memref<8x8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %zero = arith.constant 0.0 : f32
  scf.parallel (%i) = (%c0) to (%c8) step (%c1) {
    // expected-remark @below {{stays sequential: it is nested in another scf.parallel}}
    scf.parallel (%j) = (%c0) to (%c8) step (%c1) {
      memref.store %zero, %buf[%i, %j] : memref<8x8xf32>
      scf.reduce
    }
    scf.reduce
  }
  scf.parallel (%i) = (%c0) to (%c8) step (%c1) {
    memref.store %zero, %buf[%i, %i] : memref<8x8xf32>
    scf.reduce
  }
  return
}

// -----

// Loops the pass leaves: two dimensions, reductions.

// CHECK-LABEL: func.func @left(
// CHECK-NOT:     squant_rt_parallel_for
// CHECK:         scf.parallel (%{{.*}}, %{{.*}}) =
// CHECK:         scf.parallel (%{{.*}}) = {{.*}} -> f32
func.func @left(%buf: memref<8x8xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %zero = arith.constant 0.0 : f32
  // expected-remark @below {{stays sequential: it has 2 dimensions}}
  scf.parallel (%i, %j) = (%c0, %c0) to (%c8, %c8) step (%c1, %c1) {
    memref.store %zero, %buf[%i, %j] : memref<8x8xf32>
    scf.reduce
  }
  // expected-remark @below {{stays sequential: it has reductions}}
  %sum = scf.parallel (%i) = (%c0) to (%c8) step (%c1) init (%zero) -> f32 {
    %v = memref.load %buf[%i, %i] : memref<8x8xf32>
    scf.reduce(%v : f32) {
    ^bb0(%a: f32, %b: f32):
      %s = arith.addf %a, %b : f32
      scf.reduce.return %s : f32
    }
  }
  return %sum : f32
}

// -----

// Only host loops of the module's functions: not in a gpu.launch.

// CHECK-LABEL: func.func @on_device(
// CHECK-NOT:     squant_rt_parallel_for
// CHECK:         gpu.launch
// CHECK:           scf.parallel
func.func @on_device(%buf: memref<8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %zero = arith.constant 0.0 : f32
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    // expected-remark @below {{stays sequential: it is inside 'gpu.launch'}}
    scf.parallel (%i) = (%c0) to (%c8) step (%c1) {
      memref.store %zero, %buf[%i] : memref<8xf32>
      scf.reduce
    }
    gpu.terminator
  }
  return
}

