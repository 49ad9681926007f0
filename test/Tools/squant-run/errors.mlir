// What a user sees for a wrong entry point, argument or pipeline: one
// line naming the problem, exit status 1, no crash.
//
// RUN: not squant-run %s 2>&1 | FileCheck %s --check-prefix=WHICH
// RUN: not squant-run %s --entry=nope 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: not squant-run %s --entry=dynamic 2>&1 | FileCheck %s --check-prefix=DYNAMIC
// RUN: not squant-run %s --entry=scale --const-args=3 2>&1 | FileCheck %s --check-prefix=CONST
// RUN: not squant-run %s --entry=scale --transform='no-such-pass' 2>&1 | FileCheck %s --check-prefix=PIPELINE
// RUN: not squant-run %s --entry=scale --lower='threads=two' 2>&1 | FileCheck %s --check-prefix=LOWER
// RUN: not squant-run %s --entry=scale --variant=novalue 2>&1 | FileCheck %s --check-prefix=VARIANT
// RUN: not squant-run %t.does-not-exist.mlir 2>&1 | FileCheck %s --check-prefix=FILE

// WHICH: squant-run: error: {{.*}}errors.mlir has 2 public functions; pick one with --entry=NAME: @scale @dynamic
// MISSING: squant-run: error: {{.*}}errors.mlir has no function @nope with a body
// DYNAMIC: squant-run: error: argument #0 of @dynamic is tensor<?x4xf32>; squant-run takes statically shaped tensors
// CONST: squant-run: error: --const-args: @scale has 2 arguments, there is no #3
// PIPELINE: squant-run: error: cannot parse the squant-level pipeline 'no-such-pass'
// LOWER: squant-run: error: cannot parse --lower='threads=two'
// VARIANT: squant-run: error: --variant takes NAME=PIPELINE, got 'novalue'
// FILE: squant-run: error: cannot open input file '{{.*}}does-not-exist.mlir'

func.func @scale(%x: tensor<4xf32>, %y: tensor<4xf32>) -> tensor<4xf32> {
  %e = tensor.empty() : tensor<4xf32>
  %r = linalg.mul ins(%x, %y : tensor<4xf32>, tensor<4xf32>) outs(%e : tensor<4xf32>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}

func.func @dynamic(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  return %x : tensor<?x4xf32>
}

func.func private @helper(%x: tensor<4xf32>) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}
