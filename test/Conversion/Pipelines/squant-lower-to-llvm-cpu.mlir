// The passes squant-lower-to-llvm-cpu runs. With threads > 1 the row loop
// goes to squant_rt_parallel_for (squant-parallel-to-runtime), after
// bufferization and before the conversion to LLVM.
// RUN: squant-opt %s --squant-lower-to-llvm-cpu=threads=2 --dump-pass-pipeline -o /dev/null 2>&1 | FileCheck %s --check-prefix=THREADS
// RUN: squant-opt %s --squant-lower-to-llvm-cpu --dump-pass-pipeline -o /dev/null 2>&1 | FileCheck %s --check-prefix=SEQUENTIAL

// THREADS: convert-squant-to-vector{
// THREADS: one-shot-bufferize{
// THREADS: bufferization-lower-deallocations
// THREADS: squant-parallel-to-runtime{remarks=false threads=2}
// THREADS: convert-scf-to-cf
// THREADS: reconcile-unrealized-casts
// SEQUENTIAL: convert-squant-to-vector{
// SEQUENTIAL-NOT: squant-parallel-to-runtime
// SEQUENTIAL: reconcile-unrealized-casts

func.func @f() {
  return
}
