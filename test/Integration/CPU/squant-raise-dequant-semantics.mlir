// Before: the front end's dequantization, executed through upstream's own
// lowering. After: squant-raise-dequant, then folding by squant's reference
// numerics. Both print the result's bits; the CHECK lines are the same, so
// the raised squant ops compute exactly what the front-end IR computed.
//
// RUN: mlir-opt %s %{lower} | mlir-runner -e main -entry-point-result=void %{runner_libs} | FileCheck %s
// RUN: squant-opt %s --squant-raise-dequant --canonicalize | mlir-opt %{lower} | mlir-runner -e main -entry-point-result=void %{runner_libs} | FileCheck %s
// RUN: squant-opt %s --squant-raise-dequant | FileCheck %s --check-prefix=RAISED

#id = affine_map<(d0, d1) -> (d0, d1)>
#g4 = affine_map<(d0, d1) -> (d0, d1 floordiv 4)>
#row = affine_map<(d0, d1) -> (d0)>

func.func private @printMemrefI32(memref<*xi32>)

/// Prints a float tensor's bits (widened to f32 exactly) as int32.
func.func @print_bits(%t: tensor<2x8xf32>) {
  %e = tensor.empty() : tensor<2x8xi32>
  %bits = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%t : tensor<2x8xf32>) outs(%e : tensor<2x8xi32>) {
  ^bb0(%x: f32, %o: i32):
    %b = arith.bitcast %x : f32 to i32
    linalg.yield %b : i32
  } -> tensor<2x8xi32>
  %m = bufferization.to_buffer %bits : tensor<2x8xi32> to memref<2x8xi32>
  %u = memref.cast %m : memref<2x8xi32> to memref<*xi32>
  call @printMemrefI32(%u) : (memref<*xi32>) -> ()
  return
}

/// Prints a bf16 tensor's bits as int32 (zero-extended).
func.func @print_bits_bf16(%t: tensor<2x8xbf16>) {
  %e = tensor.empty() : tensor<2x8xi32>
  %bits = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%t : tensor<2x8xbf16>) outs(%e : tensor<2x8xi32>) {
  ^bb0(%x: bf16, %o: i32):
    %b = arith.bitcast %x : bf16 to i16
    %w = arith.extui %b : i16 to i32
    linalg.yield %w : i32
  } -> tensor<2x8xi32>
  %m = bufferization.to_buffer %bits : tensor<2x8xi32> to memref<2x8xi32>
  %u = memref.cast %m : memref<2x8xi32> to memref<*xi32>
  call @printMemrefI32(%u) : (memref<*xi32>) -> ()
  return
}

func.func @main() {
  // INT4 asymmetric, unsigned codes, integral f32 zero points, groups of 4.
  // RAISED: squant.dequantize %{{.*}} scheme <asymmetric, bits = 4, storage = unsigned, axis = 1, group_size = 4>
  %q = arith.constant dense<[[0, 1, 2, 15, 7, 8, 9, 3], [4, 5, 6, 14, 13, 12, 11, 10]]> : tensor<2x8xi4>
  %s = arith.constant dense<[[0.1, 0.37], [1.7, 0.013]]> : tensor<2x2xf32>
  %z = arith.constant dense<[[3.0, 8.0], [0.0, 15.0]]> : tensor<2x2xf32>
  %e = tensor.empty() : tensor<2x8xf32>
  %w = linalg.generic {indexing_maps = [#id, #g4, #g4, #id], iterator_types = ["parallel", "parallel"]}
      ins(%q, %s, %z : tensor<2x8xi4>, tensor<2x2xf32>, tensor<2x2xf32>) outs(%e : tensor<2x8xf32>) {
  ^bb0(%qi: i4, %si: f32, %zi: f32, %o: f32):
    %0 = arith.extui %qi : i4 to i32
    %1 = arith.uitofp %0 : i32 to f32
    %2 = arith.subf %1, %zi : f32
    %3 = arith.mulf %2, %si : f32
    linalg.yield %3 : f32
  } -> tensor<2x8xf32>
  // CHECK: {{\[}}[-1097229926, -1102263091, -1110651699, 1067030938, -1094881116, 0, 1052602532, -1075000115],
  // CHECK-NEXT: [1088002458, 1091043328, 1092825908, 1102997095, -1126892044, -1121993097, -1118503436, -1115349320]]
  call @print_bits(%w) : (tensor<2x8xf32>) -> ()

  // tinygemm in bf16: (q - 8) * s + z, each op rounded to bf16.
  // RAISED: squant.dequantize %{{.*}} scheme <float_zero_point, bits = 8, storage = unsigned, axis = 1, group_size = 4>
  %qb = arith.constant dense<[[0, 7, 8, 9, 15, 1, 200, 255], [3, 4, 5, 6, 128, 127, 10, 11]]> : tensor<2x8xi8>
  %sb = arith.constant dense<[[0.1, 0.37], [1.7, 0.013]]> : tensor<2x2xbf16>
  %zb = arith.constant dense<[[-0.3, 1.1], [0.77, -2.5]]> : tensor<2x2xbf16>
  %eb = tensor.empty() : tensor<2x8xbf16>
  %wb = linalg.generic {indexing_maps = [#id, #g4, #g4, #id], iterator_types = ["parallel", "parallel"]}
      ins(%qb, %sb, %zb : tensor<2x8xi8>, tensor<2x2xbf16>, tensor<2x2xbf16>) outs(%eb : tensor<2x8xbf16>) {
  ^bb0(%qi: i8, %si: bf16, %zi: bf16, %o: bf16):
    %mid = arith.constant 1.280000e+02 : bf16
    %0 = arith.uitofp %qi : i8 to bf16
    %1 = arith.subf %0, %mid : bf16
    %2 = arith.mulf %1, %si : bf16
    %3 = arith.addf %2, %zi : bf16
    linalg.yield %3 : bf16
  } -> tensor<2x8xbf16>
  // CHECK: {{\[}}[49490, 49479, 49477, 49476, 49699, 49720, 16862, 16960],
  // CHECK-NEXT: [50004, 50002, 50000, 49999, 49184, 49185, 49281, 49281]]
  call @print_bits_bf16(%wb) : (tensor<2x8xbf16>) -> ()

  // Signed int8, per-row f16 scales widened in the body, no zero point.
  // RAISED: squant.dequantize %{{.*}} scheme <symmetric, bits = 8, axis = 0>
  %qs = arith.constant dense<[[-128, -1, 0, 1, 2, 63, 100, 127], [-7, -100, 5, 9, -64, 33, 64, -128]]> : tensor<2x8xi8>
  %ss = arith.constant dense<[0.0371, 2.5e-3]> : tensor<2xf16>
  %ws = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]}
      ins(%qs, %ss : tensor<2x8xi8>, tensor<2xf16>) outs(%e : tensor<2x8xf32>) {
  ^bb0(%qi: i8, %si: f16, %o: f32):
    %0 = arith.sitofp %qi : i8 to f32
    %1 = arith.extf %si : f16 to f32
    %2 = arith.mulf %0, %1 : f32
    linalg.yield %2 : f32
  } -> tensor<2x8xf32>
  // CHECK: {{\[}}[-1063780352, -1122500608, 0, 1024983040, 1033371648, 1075159040, 1080918016, 1083625472],
  // CHECK-NEXT: [-1131453440, -1098905856, 1011668992, 1018715136, -1104945152, 1034485504, 1042538496, -1096556544]]
  call @print_bits(%ws) : (tensor<2x8xf32>) -> ()
  return
}
