// squant-run compiles squant IR through squant-lower-to-llvm-cpu, runs it
// on seeded inputs and judges every result against the reference
// evaluation: dequantize bit for bit, qmatmul within D8 (on one thread and
// two), a result after a libm function reported without a verdict.
//
// RUN: squant-run %s --entry=dequant --check | FileCheck %s --check-prefix=DQ
// RUN: squant-run %s --entry=linear --check --lower=threads=1 | FileCheck %s --check-prefix=MM
// RUN: squant-run %s --entry=linear --check --lower=threads=2 --seed=7 | FileCheck %s --check-prefix=MM
// RUN: squant-run %s --entry=linear_exp --check | FileCheck %s --check-prefix=EXP
// RUN: squant-run %s --entry=dequant --print-all | FileCheck %s --check-prefix=ALL
// RUN: squant-run %s --entry=linear --bench --bench-windows=3 --lower=threads=1 | FileCheck %s --check-prefix=BENCH

// DQ: result #0: tensor<4x64xf32> [{{.*}}, ... (256 elements)]
// DQ-NEXT: check #0: ok bit-exact: 0 of 256 elements differ
func.func @dequant(%q: tensor<4x64xi8>, %s: tensor<4x2xf32>, %z: tensor<4x2xf32>) -> tensor<4x64xf32> {
  %w = squant.dequantize %q, %s, %z scheme <float_zero_point, bits = 4, storage = unsigned, axis = 1, group_size = 32>
      : tensor<4x64xi8>, tensor<4x2xf32>, tensor<4x2xf32> -> tensor<4x64xf32>
  return %w : tensor<4x64xf32>
}

// MM: result #0: tensor<3x13xf32>
// MM-NEXT: check #0: ok within D8: 0 of 39 elements outside, max |error| / bound = {{[0-9.e-]+}}
func.func @linear(%x: tensor<3x96xf32>, %q: tensor<13x96xi8>, %s: tensor<13x3xf32>, %b: tensor<13x3xf32>) -> tensor<3x13xf32> {
  %y = squant.qmatmul %x, %q scales(%s) bias(%b) form(#squant.fma<bits = 8, axis = 1, group_size = 32>)
      : (tensor<3x96xf32>, tensor<13x96xi8>, tensor<13x3xf32>, tensor<13x3xf32>) -> tensor<3x13xf32>
  return %y : tensor<3x13xf32>
}

// EXP: check #0: reported (no bound after a matmul feeding 'linalg.exp'), relative L2 error {{[0-9.e-]+}}
func.func @linear_exp(%x: tensor<1x32xf32>, %q: tensor<5x32xi8>, %s: tensor<5x1xf32>, %b: tensor<5x1xf32>) -> tensor<1x5xf32> {
  %y = squant.qmatmul %x, %q scales(%s) bias(%b) form(#squant.fma<bits = 8, axis = 1, group_size = 32>)
      : (tensor<1x32xf32>, tensor<5x32xi8>, tensor<5x1xf32>, tensor<5x1xf32>) -> tensor<1x5xf32>
  %e = tensor.empty() : tensor<1x5xf32>
  %r = linalg.exp ins(%y : tensor<1x5xf32>) outs(%e : tensor<1x5xf32>) -> tensor<1x5xf32>
  return %r : tensor<1x5xf32>
}

// ALL-NOT: elements)
// ALL: result #0: tensor<4x64xf32> [{{([^,]+, ){255}[^,]+}}]

// BENCH: bench: median {{[0-9.]+}} ms [min {{[0-9.]+}}, max {{[0-9.]+}}] over 3 windows, cold caches, threads=1; {{.*}} GB/s = {{[0-9.]+}} of the read bandwidth measured in this run

// Comparisons, selects and float max in a body are evaluated exactly:
// relu(x) two ways, bit for bit.
// RUN: squant-run %s --entry=relu --check | FileCheck %s --check-prefix=RELU
// RELU: check #0: ok bit-exact: 0 of 16 elements differ
// RELU: check #1: ok bit-exact: 0 of 16 elements differ
func.func @relu(%x: tensor<16xf32>) -> (tensor<16xf32>, tensor<16xf32>) {
  %e = tensor.empty() : tensor<16xf32>
  %r:2 = linalg.generic {indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> (i)>, affine_map<(i) -> (i)>],
                        iterator_types = ["parallel"]}
      ins(%x : tensor<16xf32>) outs(%e, %e : tensor<16xf32>, tensor<16xf32>) {
  ^bb0(%v: f32, %o0: f32, %o1: f32):
    %zero = arith.constant 0.0 : f32
    %m = arith.maximumf %v, %zero : f32
    %c = arith.cmpf ogt, %v, %zero : f32
    %s = arith.select %c, %v, %zero : f32
    linalg.yield %m, %s : f32, f32
  } -> (tensor<16xf32>, tensor<16xf32>)
  return %r#0, %r#1 : tensor<16xf32>, tensor<16xf32>
}
