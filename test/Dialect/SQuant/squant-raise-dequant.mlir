// RUN: squant-opt %s -squant-raise-dequant -split-input-file | FileCheck %s

// Front-end weight dequantization, written as front ends emit it, raised to
// squant ops by what it computes.

#id = affine_map<(d0, d1) -> (d0, d1)>
#g32 = affine_map<(d0, d1) -> (d0, d1 floordiv 32)>

// CHECK-LABEL: func @int4_asymmetric_fused
// CHECK-SAME: (%[[Q:.*]]: tensor<8x64xi4>, %[[S:.*]]: tensor<8x2xf32>)
func.func @int4_asymmetric_fused(%q: tensor<8x64xi4>, %s: tensor<8x2xf32>) -> tensor<8x64xf32> {
  /// extui -> uitofp -> subf zp -> mulf scale, zero points a constant
  /// integral f32 tensor (after elementwise fusion, torch-mlir style).
  // CHECK: %[[Z:.*]] = arith.constant dense<{{\[}}[3, 5], [3, 5], [3, 5], [3, 5], [3, 5], [3, 5], [3, 5], [3, 5]]> : tensor<8x2xi32>
  // CHECK: squant.dequantize %[[Q]], %[[S]], %[[Z]] scheme <asymmetric, bits = 4, storage = unsigned, axis = 1, group_size = 32> : tensor<8x64xi4>, tensor<8x2xf32>, tensor<8x2xi32> -> tensor<8x64xf32>
  // CHECK-NOT: linalg.generic
  %z = arith.constant dense<[[3.0, 5.0], [3.0, 5.0], [3.0, 5.0], [3.0, 5.0], [3.0, 5.0], [3.0, 5.0], [3.0, 5.0], [3.0, 5.0]]> : tensor<8x2xf32>
  %e = tensor.empty() : tensor<8x64xf32>
  %w = linalg.generic {indexing_maps = [#id, #g32, #g32, #id], iterator_types = ["parallel", "parallel"]}
      ins(%q, %s, %z : tensor<8x64xi4>, tensor<8x2xf32>, tensor<8x2xf32>) outs(%e : tensor<8x64xf32>) {
  ^bb0(%qi: i4, %si: f32, %zi: f32, %o: f32):
    %0 = arith.extui %qi : i4 to i32
    %1 = arith.uitofp %0 : i32 to f32
    %2 = arith.subf %1, %zi : f32
    %3 = arith.mulf %2, %si : f32
    linalg.yield %3 : f32
  } -> tensor<8x64xf32>
  return %w : tensor<8x64xf32>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0, 0)>

// CHECK-LABEL: func @int8_asymmetric_unfused_integer_zero_point
// CHECK-SAME: (%[[Q:.*]]: tensor<8x64xi8>, %[[S:.*]]: tensor<8x1xf32>, %[[Z:.*]]: tensor<8x1xi8>)
func.func @int8_asymmetric_unfused_integer_zero_point(%q: tensor<8x64xi8>, %s: tensor<8x1xf32>, %z: tensor<8x1xi8>) -> tensor<8x64xf32> {
  /// Before elementwise fusion: three generics (convert, subtract an
  /// integer zero point, scale), per-row parameters [8, 1].
  // CHECK: squant.dequantize %[[Q]], %[[S]], %[[Z]] scheme <asymmetric, bits = 8, axis = 1, group_size = 64> : tensor<8x64xi8>, tensor<8x1xf32>, tensor<8x1xi8> -> tensor<8x64xf32>
  // CHECK-NOT: linalg.generic
  %e = tensor.empty() : tensor<8x64xi32>
  %d = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]}
      ins(%q, %z : tensor<8x64xi8>, tensor<8x1xi8>) outs(%e : tensor<8x64xi32>) {
  ^bb0(%qi: i8, %zi: i8, %o: i32):
    %0 = arith.extsi %qi : i8 to i32
    %1 = arith.extsi %zi : i8 to i32
    %2 = arith.subi %0, %1 : i32
    linalg.yield %2 : i32
  } -> tensor<8x64xi32>
  %ef = tensor.empty() : tensor<8x64xf32>
  %f = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%d : tensor<8x64xi32>) outs(%ef : tensor<8x64xf32>) {
  ^bb0(%di: i32, %o: f32):
    %0 = arith.sitofp %di : i32 to f32
    linalg.yield %0 : f32
  } -> tensor<8x64xf32>
  %w = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]}
      ins(%f, %s : tensor<8x64xf32>, tensor<8x1xf32>) outs(%ef : tensor<8x64xf32>) {
  ^bb0(%fi: f32, %si: f32, %o: f32):
    %0 = arith.mulf %si, %fi : f32
    linalg.yield %0 : f32
  } -> tensor<8x64xf32>
  return %w : tensor<8x64xf32>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>
#g32 = affine_map<(d0, d1) -> (d0, d1 floordiv 32)>

// CHECK-LABEL: func @tinygemm_bf16
// CHECK-SAME: (%[[Q:.*]]: tensor<8x64xi8>, %[[S:.*]]: tensor<8x2xbf16>, %[[Z:.*]]: tensor<8x2xbf16>)
func.func @tinygemm_bf16(%q: tensor<8x64xi8>, %s: tensor<8x2xbf16>, %z: tensor<8x2xbf16>) -> tensor<8x64xbf16> {
  /// (q - 8) * s + z in bf16: the float zero point of tinygemm.
  // CHECK: squant.dequantize %[[Q]], %[[S]], %[[Z]] scheme <float_zero_point, bits = 8, storage = unsigned, axis = 1, group_size = 32>
  %e = tensor.empty() : tensor<8x64xbf16>
  %w = linalg.generic {indexing_maps = [#id, #g32, #g32, #id], iterator_types = ["parallel", "parallel"]}
      ins(%q, %s, %z : tensor<8x64xi8>, tensor<8x2xbf16>, tensor<8x2xbf16>) outs(%e : tensor<8x64xbf16>) {
  ^bb0(%qi: i8, %si: bf16, %zi: bf16, %o: bf16):
    %c = arith.constant 1.280000e+02 : bf16
    %0 = arith.uitofp %qi : i8 to bf16
    %1 = arith.subf %0, %c : bf16
    %2 = arith.mulf %1, %si : bf16
    %3 = arith.addf %2, %zi : bf16
    linalg.yield %3 : bf16
  } -> tensor<8x64xbf16>
  return %w : tensor<8x64xbf16>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>
#packed = affine_map<(d0, d1) -> (d0, d1 floordiv 2)>
#g32 = affine_map<(d0, d1) -> (d0, d1 floordiv 32)>

// CHECK-LABEL: func @int4_packed_in_i8_symmetric
// CHECK-SAME: (%[[P:.*]]: tensor<8x32xi8>, %[[S:.*]]: tensor<8x2xf16>)
func.func @int4_packed_in_i8_symmetric(%p: tensor<8x32xi8>, %s: tensor<8x2xf16>) -> tensor<8x64xf32> {
  /// Two signed nibbles per byte, low nibble first, unpacked with shifts
  /// indexed by linalg.index; f16 scales widened in the body.
  // CHECK: %[[U:.*]] = squant.unpack %[[P]] layout <order = lsb_first, bits = 4> : tensor<8x32xi8> -> tensor<8x64xi8>
  // CHECK: %[[SF:.*]] = arith.extf %[[S]] : tensor<8x2xf16> to tensor<8x2xf32>
  // CHECK: squant.dequantize %[[U]], %[[SF]] scheme <symmetric, bits = 4, axis = 1, group_size = 32>
  %e = tensor.empty() : tensor<8x64xf32>
  %w = linalg.generic {indexing_maps = [#packed, #g32, #id], iterator_types = ["parallel", "parallel"]}
      ins(%p, %s : tensor<8x32xi8>, tensor<8x2xf16>) outs(%e : tensor<8x64xf32>) {
  ^bb0(%b: i8, %si: f16, %o: f32):
    %k = linalg.index 1 : index
    %ki = arith.index_cast %k : index to i8
    %two = arith.constant 2 : i8
    %four = arith.constant 4 : i8
    %r = arith.remui %ki, %two : i8
    %sh = arith.muli %r, %four : i8
    %up = arith.subi %four, %sh : i8
    %l = arith.shli %b, %up : i8
    %n = arith.shrsi %l, %four : i8
    %f = arith.sitofp %n : i8 to f32
    %sf = arith.extf %si : f16 to f32
    %y = arith.mulf %f, %sf : f32
    linalg.yield %y : f32
  } -> tensor<8x64xf32>
  return %w : tensor<8x64xf32>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>
#packed = affine_map<(d0, d1) -> (d0, d1 floordiv 8)>
#g32 = affine_map<(d0, d1) -> (d0, d1 floordiv 32)>

// CHECK-LABEL: func @gptq_int4_in_i32_with_zero_point
// CHECK-SAME: (%[[P:.*]]: tensor<8x8xi32>, %[[S:.*]]: tensor<8x2xf32>, %[[Z:.*]]: tensor<8x2xi32>)
func.func @gptq_int4_in_i32_with_zero_point(%p: tensor<8x8xi32>, %s: tensor<8x2xf32>, %z: tensor<8x2xi32>) -> tensor<8x64xf32> {
  /// Eight unsigned nibbles per int32 (GPTQ): (w >> 4 (k mod 8)) & 15.
  // CHECK: %[[U:.*]] = squant.unpack %[[P]] layout <order = lsb_first, bits = 4, storage = unsigned> : tensor<8x8xi32> -> tensor<8x64xi8>
  // CHECK: squant.dequantize %[[U]], %[[S]], %[[Z]] scheme <asymmetric, bits = 4, storage = unsigned, axis = 1, group_size = 32>
  %e = tensor.empty() : tensor<8x64xf32>
  %w = linalg.generic {indexing_maps = [#packed, #g32, #g32, #id], iterator_types = ["parallel", "parallel"]}
      ins(%p, %s, %z : tensor<8x8xi32>, tensor<8x2xf32>, tensor<8x2xi32>) outs(%e : tensor<8x64xf32>) {
  ^bb0(%word: i32, %si: f32, %zi: i32, %o: f32):
    %k = linalg.index 1 : index
    %ki = arith.index_cast %k : index to i32
    %eight = arith.constant 8 : i32
    %four = arith.constant 4 : i32
    %mask = arith.constant 15 : i32
    %r = arith.remui %ki, %eight : i32
    %sh = arith.muli %r, %four : i32
    %v = arith.shrui %word, %sh : i32
    %n = arith.andi %v, %mask : i32
    %d = arith.subi %n, %zi : i32
    %f = arith.sitofp %d : i32 to f32
    %y = arith.mulf %f, %si : f32
    linalg.yield %y : f32
  } -> tensor<8x64xf32>
  return %w : tensor<8x64xf32>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>
#packed = affine_map<(d0, d1) -> (d0, d1 floordiv 4)>
#row = affine_map<(d0, d1) -> (d0)>

// CHECK-LABEL: func @int2_msb_first_fma
func.func @int2_msb_first_fma(%p: tensor<8x16xi8>, %s: tensor<8xf32>, %b: tensor<8xf32>) -> tensor<8x64xf32> {
  /// Four 2-bit codes per byte, first code in the top bits, and one FMA.
  // CHECK: %[[U:.*]] = squant.unpack %{{.*}} layout <order = msb_first, bits = 2, storage = unsigned>
  // CHECK: squant.fma_dequantize %[[U]], %{{.*}}, %{{.*}} form(<bits = 2, storage = unsigned, axis = 0>)
  %e = tensor.empty() : tensor<8x64xf32>
  %w = linalg.generic {indexing_maps = [#packed, #row, #row, #id], iterator_types = ["parallel", "parallel"]}
      ins(%p, %s, %b : tensor<8x16xi8>, tensor<8xf32>, tensor<8xf32>) outs(%e : tensor<8x64xf32>) {
  ^bb0(%byte: i8, %si: f32, %bi: f32, %o: f32):
    %k = linalg.index 1 : index
    %ki = arith.index_cast %k : index to i8
    %three = arith.constant 3 : i8
    %two = arith.constant 2 : i8
    %six = arith.constant 6 : i8
    %r = arith.andi %ki, %three : i8
    %m = arith.muli %r, %two : i8
    %sh = arith.subi %six, %m : i8
    %v = arith.shrui %byte, %sh : i8
    %n = arith.andi %v, %three : i8
    %f = arith.uitofp %n : i8 to f32
    %y = math.fma %f, %si, %bi : f32
    linalg.yield %y : f32
  } -> tensor<8x64xf32>
  return %w : tensor<8x64xf32>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>
#g32 = affine_map<(d0, d1) -> (d0, d1 floordiv 32)>

// CHECK-LABEL: func @negative_float_zero_point_not_integral
func.func @negative_float_zero_point_not_integral(%q: tensor<8x64xi8>, %s: tensor<8x2xf32>, %z: tensor<8x2xf32>) -> tensor<8x64xf32> {
  /// HQQ-style (q - z) * s with a run-time float z: no squant scheme rounds
  /// like that unless z is a known integer. Left untouched.
  // CHECK: linalg.generic
  // CHECK-NOT: squant.dequantize
  %e = tensor.empty() : tensor<8x64xf32>
  %w = linalg.generic {indexing_maps = [#id, #g32, #g32, #id], iterator_types = ["parallel", "parallel"]}
      ins(%q, %s, %z : tensor<8x64xi8>, tensor<8x2xf32>, tensor<8x2xf32>) outs(%e : tensor<8x64xf32>) {
  ^bb0(%qi: i8, %si: f32, %zi: f32, %o: f32):
    %0 = arith.uitofp %qi : i8 to f32
    %1 = arith.subf %0, %zi : f32
    %2 = arith.mulf %1, %si : f32
    linalg.yield %2 : f32
  } -> tensor<8x64xf32>
  return %w : tensor<8x64xf32>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>
#g32 = affine_map<(d0, d1) -> (d0, d1 floordiv 32)>

// CHECK-LABEL: func @negative_not_a_scheme
func.func @negative_not_a_scheme(%q: tensor<8x64xi8>, %s: tensor<8x2xf32>) -> tensor<8x64xf32> {
  /// q * s + 1 looks like dequantization but is none of squant's schemes.
  // CHECK: linalg.generic
  // CHECK-NOT: squant.
  %e = tensor.empty() : tensor<8x64xf32>
  %w = linalg.generic {indexing_maps = [#id, #g32, #id], iterator_types = ["parallel", "parallel"]}
      ins(%q, %s : tensor<8x64xi8>, tensor<8x2xf32>) outs(%e : tensor<8x64xf32>) {
  ^bb0(%qi: i8, %si: f32, %o: f32):
    %one = arith.constant 1.0 : f32
    %0 = arith.sitofp %qi : i8 to f32
    %1 = arith.mulf %0, %si : f32
    %2 = arith.addf %1, %one : f32
    linalg.yield %2 : f32
  } -> tensor<8x64xf32>
  return %w : tensor<8x64xf32>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>
#g32 = affine_map<(d0, d1) -> (d0, d1 floordiv 32)>

// CHECK-LABEL: func @negative_select_in_body
func.func @negative_select_in_body(%q: tensor<8x64xi8>, %s: tensor<8x2xf32>) -> tensor<8x64xf32> {
  /// A comparison and a select: outside what the interpreter evaluates.
  // CHECK: linalg.generic
  // CHECK-NOT: squant.
  %e = tensor.empty() : tensor<8x64xf32>
  %w = linalg.generic {indexing_maps = [#id, #g32, #id], iterator_types = ["parallel", "parallel"]}
      ins(%q, %s : tensor<8x64xi8>, tensor<8x2xf32>) outs(%e : tensor<8x64xf32>) {
  ^bb0(%qi: i8, %si: f32, %o: f32):
    %c0 = arith.constant 0 : i8
    %0 = arith.sitofp %qi : i8 to f32
    %1 = arith.mulf %0, %si : f32
    %neg = arith.cmpi slt, %qi, %c0 : i8
    %2 = arith.select %neg, %si, %1 : f32
    linalg.yield %2 : f32
  } -> tensor<8x64xf32>
  return %w : tensor<8x64xf32>
}
