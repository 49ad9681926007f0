// RUN: squant-opt %s --convert-squant-to-vector=remarks=true --split-input-file --verify-diagnostics | FileCheck %s

// Configurations the vector kernel does not take still lower, to scalar
// loops that evaluate the reference formulas, and say why when asked.

// CHECK-LABEL: func.func @lut_5bit
// CHECK: scf.for
// CHECK-NOT: squant.qmatmul
func.func @lut_5bit(%x: tensor<1x64xf32>, %q: tensor<3x64xi8>, %t: tensor<32xf32>) -> tensor<1x3xf32> {
  // expected-remark @+1 {{scalar loops: the vector kernel does not take a table of more than 16 entries (no in-register lookup)}}
  %y = squant.qmatmul %x, %q table(%t) form(#squant.lut<bits = 5>)
      : (tensor<1x64xf32>, tensor<3x64xi8>, tensor<32xf32>) -> tensor<1x3xf32>
  return %y : tensor<1x3xf32>
}

// -----

func.func @dynamic(%x: tensor<?x64xf32>, %q: tensor<3x64xi8>, %s: tensor<3x2xf32>, %b: tensor<3x2xf32>) -> tensor<?x3xf32> {
  // expected-error @+1 {{'squant.qmatmul' op cannot be lowered with dynamic shapes}}
  %y = squant.qmatmul %x, %q scales(%s) bias(%b) form(#squant.fma<bits = 4, axis = 1, group_size = 32>)
      : (tensor<?x64xf32>, tensor<3x64xi8>, tensor<3x2xf32>, tensor<3x2xf32>) -> tensor<?x3xf32>
  return %y : tensor<?x3xf32>
}

// -----

func.func @choose(%x: tensor<4x64xf32>) -> tensor<4x2xf32> {
  // expected-error @+1 {{'squant.choose_qparams' op has no lowering to loops; fold it first (a constant input folds under --canonicalize)}}
  %s = squant.choose_qparams %x scheme <symmetric, bits = 4, axis = 1, group_size = 32> : tensor<4x64xf32> -> tensor<4x2xf32>
  return %s : tensor<4x2xf32>
}
