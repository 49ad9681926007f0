// The passes squant-lower-to-llvm-cpu runs. With threads > 1 the row loop
// goes to async-parallel-for with min-task-size=1: a block of weight rows is
// a heavy iteration, and upstream's default (1000 iterations per task) put
// 1000 of 1024 row blocks of a 4096-row GEMV into one task.
// RUN: squant-opt %s --squant-lower-to-llvm-cpu=threads=2 --dump-pass-pipeline -o /dev/null 2>&1 | FileCheck %s --check-prefix=THREADS
// RUN: squant-opt %s --squant-lower-to-llvm-cpu --dump-pass-pipeline -o /dev/null 2>&1 | FileCheck %s --check-prefix=SEQUENTIAL

// THREADS: convert-squant-to-vector{
// THREADS: one-shot-bufferize{
// THREADS: async-parallel-for{async-dispatch=false min-task-size=1 num-workers=2}
// THREADS: convert-async-to-llvm
// THREADS: reconcile-unrealized-casts
// SEQUENTIAL: convert-squant-to-vector{
// SEQUENTIAL-NOT: async-parallel-for
// SEQUENTIAL: reconcile-unrealized-casts

func.func @f() {
  return
}
