// Executed: squant.qmatmul with bf16 activations, bf16 scales and biases
// and a bf16 result, lowered to squant_rt_qgemm_bf16 (use-runtime: M = 40
// on the AMX tiles where the CPU has them, M = 3 widened to fp32) and by
// convert-squant-to-vector, against upstream linalg on the widened inputs
// in f32, rounded to bf16 once. Activations are small integers and the
// scales powers of two, so every product and sum is exact and the results
// agree bit for bit: the largest difference printed is 0. Codes are
// computed at run time (the runtime packs them), N = 37 is ragged, K = 256
// is two groups of 128.
//
// RUN: squant-opt %s --squant-lower-to-llvm-cpu=use-runtime=1 | mlir-runner -e main -entry-point-result=void %{runner_libs_rt} | FileCheck %s
// RUN: squant-opt %s --squant-lower-to-llvm-cpu | mlir-runner -e main -entry-point-result=void %{runner_libs} | FileCheck %s

#map = affine_map<(m, k) -> (m, k)>
#all = affine_map<(m, n) -> (m, n)>
#none = affine_map<(m, n) -> ()>

/// x[m][k] = (3 m + 5 k) mod 7 - 3, in bf16.
func.func @activations(%m: index) -> tensor<?x256xbf16> {
  %e = tensor.empty(%m) : tensor<?x256xbf16>
  %x = linalg.generic {indexing_maps = [#map], iterator_types = ["parallel", "parallel"]}
      outs(%e : tensor<?x256xbf16>) {
  ^bb0(%out: bf16):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %c3 = arith.constant 3 : index
    %c5 = arith.constant 5 : index
    %c7 = arith.constant 7 : index
    %a = arith.muli %i, %c3 : index
    %b = arith.muli %j, %c5 : index
    %s = arith.addi %a, %b : index
    %r = arith.remui %s, %c7 : index
    %v = arith.index_cast %r : index to i32
    %f = arith.sitofp %v : i32 to f32
    %c3f = arith.constant 3.0 : f32
    %d = arith.subf %f, %c3f : f32
    %h = arith.truncf %d : f32 to bf16
    linalg.yield %h : bf16
  } -> tensor<?x256xbf16>
  return %x : tensor<?x256xbf16>
}

/// The largest |a - b| over two [M, 37] results.
func.func @maxAbsDiff(%a: tensor<?x37xf32>, %b: tensor<?x37xf32>) -> f32 {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<f32>
  %init = linalg.fill ins(%z : f32) outs(%e : tensor<f32>) -> tensor<f32>
  %r = linalg.generic {indexing_maps = [#all, #all, #none], iterator_types = ["reduction", "reduction"]}
      ins(%a, %b : tensor<?x37xf32>, tensor<?x37xf32>) outs(%init : tensor<f32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %d = arith.subf %x, %y : f32
    %ad = math.absf %d : f32
    %m = arith.maximumf %ad, %acc : f32
    linalg.yield %m : f32
  } -> tensor<f32>
  %v = tensor.extract %r[] : tensor<f32>
  return %v : f32
}

/// The largest |a| over a result (that it is not all zeros).
func.func @maxAbs(%a: tensor<?x37xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  %m = tensor.dim %a, %c0 : tensor<?x37xf32>
  %e = tensor.empty(%m) : tensor<?x37xf32>
  %z = arith.constant 0.0 : f32
  %zeros = linalg.fill ins(%z : f32) outs(%e : tensor<?x37xf32>) -> tensor<?x37xf32>
  %v = call @maxAbsDiff(%a, %zeros) : (tensor<?x37xf32>, tensor<?x37xf32>) -> f32
  return %v : f32
}

/// The weight: codes, scales and biases.
func.func @weight() -> (tensor<37x256xi8>, tensor<37x2xbf16>, tensor<37x2xbf16>) {
  // Codes (n * 5 + k * 11) mod 16, 4-bit unsigned; scales 2^-((n + g) mod 3)
  // and biases ((n + g) mod 5 - 2) / 2 per group of 128, in bf16.
  %qe = tensor.empty() : tensor<37x256xi8>
  %q = linalg.generic {indexing_maps = [#map], iterator_types = ["parallel", "parallel"]}
      outs(%qe : tensor<37x256xi8>) {
  ^bb0(%out: i8):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %c5 = arith.constant 5 : index
    %c11 = arith.constant 11 : index
    %c16 = arith.constant 16 : index
    %a = arith.muli %i, %c5 : index
    %b = arith.muli %j, %c11 : index
    %s = arith.addi %a, %b : index
    %r = arith.remui %s, %c16 : index
    %v = arith.index_cast %r : index to i8
    linalg.yield %v : i8
  } -> tensor<37x256xi8>
  %pe = tensor.empty() : tensor<37x2xbf16>
  %s, %b = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel"]}
      outs(%pe, %pe : tensor<37x2xbf16>, tensor<37x2xbf16>) {
  ^bb0(%o1: bf16, %o2: bf16):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %c3 = arith.constant 3 : index
    %c5 = arith.constant 5 : index
    %ng = arith.addi %i, %j : index
    %e = arith.remui %ng, %c3 : index
    %ei = arith.index_cast %e : index to i32
    %one = arith.constant 1 : i32
    %p = arith.shli %one, %ei : i32
    %pf = arith.sitofp %p : i32 to f32
    %c1 = arith.constant 1.0 : f32
    %sc = arith.divf %c1, %pf : f32
    %bi = arith.remui %ng, %c5 : index
    %bii = arith.index_cast %bi : index to i32
    %bf = arith.sitofp %bii : i32 to f32
    %c2 = arith.constant 2.0 : f32
    %bm = arith.subf %bf, %c2 : f32
    %half = arith.constant 0.5 : f32
    %bb = arith.mulf %bm, %half : f32
    %s16 = arith.truncf %sc : f32 to bf16
    %b16 = arith.truncf %bb : f32 to bf16
    linalg.yield %s16, %b16 : bf16, bf16
  } -> (tensor<37x2xbf16>, tensor<37x2xbf16>)
  return %q, %s, %b : tensor<37x256xi8>, tensor<37x2xbf16>, tensor<37x2xbf16>
}

/// Prints the largest difference between y and the reference, and y's
/// largest magnitude.
func.func @compare(%x: tensor<?x256xbf16>, %y16: tensor<?x37xbf16>) {
  %c0 = arith.constant 0 : index
  %m = tensor.dim %x, %c0 : tensor<?x256xbf16>
  %q, %s, %b = call @weight() : () -> (tensor<37x256xi8>, tensor<37x2xbf16>, tensor<37x2xbf16>)
  // The reference: f32 weights and activations, linalg, then bf16.
  %s32 = arith.extf %s : tensor<37x2xbf16> to tensor<37x2xf32>
  %b32 = arith.extf %b : tensor<37x2xbf16> to tensor<37x2xf32>
  %w = squant.fma_dequantize %q, %s32, %b32 form(<bits = 4, storage = unsigned, axis = 1, group_size = 128>) : tensor<37x256xi8>, tensor<37x2xf32>, tensor<37x2xf32> -> tensor<37x256xf32>
  %x32 = arith.extf %x : tensor<?x256xbf16> to tensor<?x256xf32>
  %ye = tensor.empty(%m) : tensor<?x37xf32>
  %z = arith.constant 0.0 : f32
  %yz = linalg.fill ins(%z : f32) outs(%ye : tensor<?x37xf32>) -> tensor<?x37xf32>
  %ref32 = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
      ins(%x32, %w : tensor<?x256xf32>, tensor<37x256xf32>) outs(%yz : tensor<?x37xf32>) -> tensor<?x37xf32>
  %ref16 = arith.truncf %ref32 : tensor<?x37xf32> to tensor<?x37xbf16>
  %ref = arith.extf %ref16 : tensor<?x37xbf16> to tensor<?x37xf32>

  %y = arith.extf %y16 : tensor<?x37xbf16> to tensor<?x37xf32>
  %diff = call @maxAbsDiff(%ref, %y) : (tensor<?x37xf32>, tensor<?x37xf32>) -> f32
  %size = call @maxAbs(%y) : (tensor<?x37xf32>) -> f32
  vector.print %diff : f32
  vector.print %size : f32
  return
}

func.func @main() {
  %c3 = arith.constant 3 : index
  %c40 = arith.constant 40 : index
  %q, %s, %b = call @weight() : () -> (tensor<37x256xi8>, tensor<37x2xbf16>, tensor<37x2xbf16>)
  %x3d = call @activations(%c3) : (index) -> tensor<?x256xbf16>
  %x3 = tensor.cast %x3d : tensor<?x256xbf16> to tensor<3x256xbf16>
  %y3 = squant.qmatmul %x3, %q scales(%s) bias(%b) form(#squant.fma<bits = 4, storage = unsigned, axis = 1, group_size = 128>) : (tensor<3x256xbf16>, tensor<37x256xi8>, tensor<37x2xbf16>, tensor<37x2xbf16>) -> tensor<3x37xbf16>
  %y3d = tensor.cast %y3 : tensor<3x37xbf16> to tensor<?x37xbf16>
  // CHECK: 0
  // CHECK-NEXT: {{[1-9][0-9]*}}
  call @compare(%x3d, %y3d) : (tensor<?x256xbf16>, tensor<?x37xbf16>) -> ()
  %x40d = call @activations(%c40) : (index) -> tensor<?x256xbf16>
  %x40 = tensor.cast %x40d : tensor<?x256xbf16> to tensor<40x256xbf16>
  %y40 = squant.qmatmul %x40, %q scales(%s) bias(%b) form(#squant.fma<bits = 4, storage = unsigned, axis = 1, group_size = 128>) : (tensor<40x256xbf16>, tensor<37x256xi8>, tensor<37x2xbf16>, tensor<37x2xbf16>) -> tensor<40x37xbf16>
  %y40d = tensor.cast %y40 : tensor<40x37xbf16> to tensor<?x37xbf16>
  // CHECK-NEXT: 0
  // CHECK-NEXT: {{[1-9][0-9]*}}
  call @compare(%x40d, %y40d) : (tensor<?x256xbf16>, tensor<?x37xbf16>) -> ()
  return
}
