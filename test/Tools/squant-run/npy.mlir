// Inputs from .npy files, outputs to .npy files, and the errors a user
// sees for bad ones.
//
// RUN: rm -rf %t && mkdir -p %t
// RUN: %python %S/Inputs/npy.py write %t/q.npy '|i1' 2x4 0,1,2,3,12,13,14,15
// RUN: %python %S/Inputs/npy.py write %t/s.npy '<f4' 2x1 0.5,0.25
// RUN: %python %S/Inputs/npy.py write %t/z.npy '<f4' 2x1 1.0,-2.0
// RUN: squant-run %s --input=%t/q.npy --input=%t/s.npy --input=%t/z.npy --check | FileCheck %s
// RUN: squant-run %s --input=%t/q.npy --input=%t/s.npy --input=%t/z.npy --output=%t/w.npy | FileCheck %s --check-prefix=OUT
// RUN: %python %S/Inputs/npy.py read %t/w.npy | FileCheck %s --check-prefix=READ
//
// Partly given inputs: the rest are drawn from the seed.
// RUN: squant-run %s --input=%t/q.npy | FileCheck %s --check-prefix=PARTIAL
//
// RUN: not squant-run %s --input=%t/s.npy 2>&1 | FileCheck %s --check-prefix=SHAPE
// RUN: %python %S/Inputs/npy.py write %t/q64.npy '<i8' 2x4 0,1,2,3,4,5,6,7
// RUN: not squant-run %s --input=%t/q64.npy 2>&1 | FileCheck %s --check-prefix=DTYPE
// RUN: not squant-run %s --input=%t/missing.npy 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: %python %S/Inputs/npy.py raw %t/bad.npy 'hello world, not numpy'
// RUN: not squant-run %s --input=%t/bad.npy 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: not squant-run %s --input=random --input=random --input=random --input=random 2>&1 | FileCheck %s --check-prefix=TOOMANY
// RUN: not squant-run %s --input=%t/q.npy --input=%t/s.npy --input=%t/z.npy --output=%t/a.npy --output=%t/b.npy 2>&1 | FileCheck %s --check-prefix=OUTPUTS

// w = (q - 8) s + z, exactly: tinygemm's float zero point.
// CHECK: result #0: tensor<2x4xf32> [-3, -2.5, -2, -1.5, -1, -0.75, -0.5, -0.25]
// CHECK-NEXT: check #0: ok bit-exact: 0 of 8 elements differ
// OUT: result #0: tensor<2x4xf32> -> {{.*}}w.npy
// READ: descr <f4 shape (2, 4) values [-3.0, -2.5, -2.0, -1.5, -1.0, -0.75, -0.5, -0.25]
// PARTIAL: result #0: tensor<2x4xf32>
// SHAPE: squant-run: error: {{.*}}s.npy: argument #0 is tensor<2x4xi8> (dtype |i1, shape (2,4,)), the file holds dtype <f4, shape (2,1,)
// DTYPE: squant-run: error: {{.*}}q64.npy: argument #0 is tensor<2x4xi8> (dtype |i1, shape (2,4,)), the file holds dtype <i8, shape (2,4,)
// MISSING: squant-run: error: {{.*}}missing.npy: cannot read: No such file or directory
// BAD: squant-run: error: {{.*}}bad.npy: not a .npy file (no \x93NUMPY magic)
// TOOMANY: squant-run: error: 4 --input values for 3 arguments of @tinygemm_dequant
// OUTPUTS: squant-run: error: 2 --output files for 1 results
func.func @tinygemm_dequant(%q: tensor<2x4xi8>, %s: tensor<2x1xf32>, %z: tensor<2x1xf32>) -> tensor<2x4xf32> {
  %w = squant.dequantize %q, %s, %z scheme <float_zero_point, bits = 4, storage = unsigned, axis = 1, group_size = 4>
      : tensor<2x4xi8>, tensor<2x1xf32>, tensor<2x1xf32> -> tensor<2x4xf32>
  return %w : tensor<2x4xf32>
}
