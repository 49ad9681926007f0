// RUN: squant-opt %s -squant-fuse-dequant-matmul -split-input-file | FileCheck %s

// CHECK-LABEL: func @matmul_transposed_b_stretched
// CHECK-SAME: (%[[X:.*]]: tensor<3x64xf32>, %[[Q:.*]]: tensor<13x64xi8>, %[[S:.*]]: tensor<13x2xf32>)
func.func @matmul_transposed_b_stretched(%x: tensor<3x64xf32>, %q: tensor<13x64xi8>, %s: tensor<13x2xf32>) -> tensor<3x13xf32> {
  /// The linear-layer form y = x W^T with W [N, K]: no transposition; the
  /// zero fill is the qmatmul's own zero.
  // CHECK: %[[B:.*]] = arith.mulf %[[S]], %{{.*}} : tensor<13x2xf32>
  // CHECK: %[[Y:.*]] = squant.qmatmul %[[X]], %[[Q]] scales(%[[S]]) bias(%[[B]]) form(#squant.fma<bits = 2, axis = 1, group_size = 32>) : (tensor<3x64xf32>, tensor<13x64xi8>, tensor<13x2xf32>, tensor<13x2xf32>) -> tensor<3x13xf32>
  // CHECK-NOT: linalg.matmul
  // CHECK: return %[[Y]]
  %w = squant.dequantize %q, %s scheme <stretched, bits = 2, axis = 1, group_size = 32> : tensor<13x64xi8>, tensor<13x2xf32> -> tensor<13x64xf32>
  %e = tensor.empty() : tensor<3x13xf32>
  %c0 = arith.constant 0.0 : f32
  %f = linalg.fill ins(%c0 : f32) outs(%e : tensor<3x13xf32>) -> tensor<3x13xf32>
  %y = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>] ins(%x, %w : tensor<3x64xf32>, tensor<13x64xf32>) outs(%f : tensor<3x13xf32>) -> tensor<3x13xf32>
  return %y : tensor<3x13xf32>
}

// -----

// CHECK-LABEL: func @matmul_kn_tinygemm_accumulates
// CHECK-SAME: (%[[X:.*]]: tensor<3x64xf32>, %[[Q:.*]]: tensor<64x13xi8>, %[[S:.*]]: tensor<2x13xf32>, %[[Z:.*]]: tensor<2x13xf32>, %[[ACC:.*]]: tensor<3x13xf32>)
func.func @matmul_kn_tinygemm_accumulates(%x: tensor<3x64xf32>, %q: tensor<64x13xi8>, %s: tensor<2x13xf32>, %z: tensor<2x13xf32>, %acc: tensor<3x13xf32>) -> tensor<3x13xf32> {
  /// W stored [K, N] (groups along K = axis 0): codes and parameters are
  /// transposed to [N, K] / [N, K/g]; b = fma(s, -8, zp) (D7); the init is
  /// not a zero fill, so it is added back.
  // CHECK: %[[B:.*]] = math.fma %[[S]], %{{.*}}, %[[Z]] : tensor<2x13xf32>
  // CHECK: %[[ST:.*]] = linalg.transpose ins(%[[S]] : tensor<2x13xf32>)
  // CHECK: %[[BT:.*]] = linalg.transpose ins(%[[B]] : tensor<2x13xf32>)
  // CHECK: %[[QT:.*]] = linalg.transpose ins(%[[Q]] : tensor<64x13xi8>)
  // CHECK: %[[Y:.*]] = squant.qmatmul %[[X]], %[[QT]] scales(%[[ST]]) bias(%[[BT]]) form(#squant.fma<bits = 4, storage = unsigned, axis = 1, group_size = 32>)
  // CHECK: arith.addf %[[ACC]], %[[Y]] : tensor<3x13xf32>
  %w = squant.dequantize %q, %s, %z scheme <float_zero_point, bits = 4, storage = unsigned, axis = 0, group_size = 32> : tensor<64x13xi8>, tensor<2x13xf32>, tensor<2x13xf32> -> tensor<64x13xf32>
  %y = linalg.matmul ins(%x, %w : tensor<3x64xf32>, tensor<64x13xf32>) outs(%acc : tensor<3x13xf32>) -> tensor<3x13xf32>
  return %y : tensor<3x13xf32>
}

// -----

// CHECK-LABEL: func @matvec_per_channel_symmetric
func.func @matvec_per_channel_symmetric(%x: tensor<64xf32>, %q: tensor<13x64xi8>, %s: tensor<13xf32>) -> tensor<13xf32> {
  /// GEMV with per-channel scales: [N] becomes [N, 1], one group of K.
  // CHECK: %[[SE:.*]] = tensor.expand_shape %{{.*}} {{\[}}[0, 1]] output_shape [13, 1] : tensor<13xf32> into tensor<13x1xf32>
  // CHECK: squant.qmatmul %{{.*}}, %{{.*}} scales(%[[SE]]) bias(%{{.*}}) form(#squant.fma<bits = 8, axis = 1, group_size = 64>) : (tensor<64xf32>, tensor<13x64xi8>, tensor<13x1xf32>, tensor<13x1xf32>) -> tensor<13xf32>
  %w = squant.dequantize %q, %s scheme <symmetric, bits = 8, axis = 0> : tensor<13x64xi8>, tensor<13xf32> -> tensor<13x64xf32>
  %e = tensor.empty() : tensor<13xf32>
  %c0 = arith.constant 0.0 : f32
  %f = linalg.fill ins(%c0 : f32) outs(%e : tensor<13xf32>) -> tensor<13xf32>
  %y = linalg.matvec ins(%w, %x : tensor<13x64xf32>, tensor<64xf32>) outs(%f : tensor<13xf32>) -> tensor<13xf32>
  return %y : tensor<13xf32>
}

// -----

// CHECK-LABEL: func @vecmat_lut_constant_weight
func.func @vecmat_lut_constant_weight(%x: tensor<4xf32>, %acc: tensor<2xf32>) -> tensor<2xf32> {
  /// A constant [K, N] weight is transposed at compile time.
  // CHECK-DAG: %[[QT:.*]] = arith.constant dense<{{\[}}[0, 1, 2, 3], [3, 2, 1, 0]]> : tensor<2x4xi8>
  // CHECK-DAG: %[[ST:.*]] = arith.constant dense<{{\[}}[5.000000e-01], [2.500000e-01]]> : tensor<2x1xf32>
  // CHECK: squant.qmatmul %{{.*}}, %[[QT]] scales(%[[ST]]) table(%{{.*}}) form(#squant.lut<bits = 2, axis = 1, group_size = 4>)
  %idx = arith.constant dense<[[0, 3], [1, 2], [2, 1], [3, 0]]> : tensor<4x2xi8>
  %t = arith.constant dense<[-3, -1, 1, 3]> : tensor<4xi8>
  %st = arith.constant dense<[[0.5, 0.25]]> : tensor<1x2xf32>
  %w = squant.lut_dequantize %idx, %t scales(%st) scheme <bits = 2, axis = 0, group_size = 4> : tensor<4x2xi8>, tensor<4xi8>, tensor<1x2xf32> -> tensor<4x2xf32>
  %y = linalg.vecmat ins(%x, %w : tensor<4xf32>, tensor<4x2xf32>) outs(%acc : tensor<2xf32>) -> tensor<2xf32>
  return %y : tensor<2xf32>
}

// -----

// CHECK-LABEL: func @batch_matmul_broadcast_weight
func.func @batch_matmul_broadcast_weight(%x: tensor<2x3x64xf32>, %q: tensor<64x13xi8>, %s: tensor<2x13xf32>, %b: tensor<2x13xf32>) -> tensor<2x3x13xf32> {
  /// One [K, N] weight broadcast over the batch: activations keep their
  /// batch dims; an fma_dequantize keeps its bias.
  // CHECK: %[[QT:.*]] = linalg.transpose ins(%{{.*}} : tensor<64x13xi8>)
  // CHECK: squant.qmatmul %{{.*}}, %[[QT]] scales(%{{.*}}) bias(%{{.*}}) form(#squant.fma<bits = 4, axis = 1, group_size = 32>) : (tensor<2x3x64xf32>, tensor<13x64xi8>, tensor<13x2xf32>, tensor<13x2xf32>) -> tensor<2x3x13xf32>
  %w = squant.fma_dequantize %q, %s, %b form(<bits = 4, axis = 0, group_size = 32>) : tensor<64x13xi8>, tensor<2x13xf32>, tensor<2x13xf32> -> tensor<64x13xf32>
  %e = tensor.empty() : tensor<2x3x13xf32>
  %c0 = arith.constant 0.0 : f32
  %f = linalg.fill ins(%c0 : f32) outs(%e : tensor<2x3x13xf32>) -> tensor<2x3x13xf32>
  %y = linalg.batch_matmul indexing_maps = [affine_map<(b, m, n, k) -> (b, m, k)>, affine_map<(b, m, n, k) -> (k, n)>, affine_map<(b, m, n, k) -> (b, m, n)>]
      ins(%x, %w : tensor<2x3x64xf32>, tensor<64x13xf32>) outs(%f : tensor<2x3x13xf32>) -> tensor<2x3x13xf32>
  return %y : tensor<2x3x13xf32>
}

// -----

// CHECK-LABEL: func @generic_contraction_keeps_other_user
func.func @generic_contraction_keeps_other_user(%x: tensor<3x64xf32>, %q: tensor<13x64xi8>, %s: tensor<13x2xf32>, %acc: tensor<3x13xf32>) -> (tensor<3x13xf32>, tensor<13x64xf32>) {
  /// A contraction linalg.generic; the dequantized weight is also returned,
  /// so it stays for that user.
  // CHECK: %[[W:.*]] = squant.dequantize
  // CHECK: squant.qmatmul
  // CHECK-NOT: linalg.generic
  // CHECK: return %{{.*}}, %[[W]]
  %w = squant.dequantize %q, %s scheme <stretched, bits = 2, axis = 1, group_size = 32> : tensor<13x64xi8>, tensor<13x2xf32> -> tensor<13x64xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : tensor<3x64xf32>, tensor<13x64xf32>) outs(%acc : tensor<3x13xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %p = arith.mulf %a, %b : f32
    %r = arith.addf %c, %p : f32
    linalg.yield %r : f32
  } -> tensor<3x13xf32>
  return %y, %w : tensor<3x13xf32>, tensor<13x64xf32>
}

// -----

// CHECK-LABEL: func @negative_groups_along_n
func.func @negative_groups_along_n(%x: tensor<3x64xf32>, %q: tensor<64x32xi8>, %s: tensor<64x1xf32>, %acc: tensor<3x32xf32>) -> tensor<3x32xf32> {
  /// Groups run along N (axis 1 of a [K, N] weight): a group scale is not
  /// constant over K, so the K loop cannot hoist it.
  // CHECK: squant.dequantize
  // CHECK: linalg.matmul
  // CHECK-NOT: squant.qmatmul
  %w = squant.dequantize %q, %s scheme <stretched, bits = 2, axis = 1, group_size = 32> : tensor<64x32xi8>, tensor<64x1xf32> -> tensor<64x32xf32>
  %y = linalg.matmul ins(%x, %w : tensor<3x64xf32>, tensor<64x32xf32>) outs(%acc : tensor<3x32xf32>) -> tensor<3x32xf32>
  return %y : tensor<3x32xf32>
}

// -----

// CHECK-LABEL: func @negative_weight_as_lhs
func.func @negative_weight_as_lhs(%q: tensor<13x64xi8>, %s: tensor<13x2xf32>, %x: tensor<64x3xf32>, %acc: tensor<13x3xf32>) -> tensor<13x3xf32> {
  /// W x with N as the result's leading dim: qmatmul puts N last.
  // CHECK: linalg.matmul
  %w = squant.dequantize %q, %s scheme <stretched, bits = 2, axis = 1, group_size = 32> : tensor<13x64xi8>, tensor<13x2xf32> -> tensor<13x64xf32>
  %y = linalg.matmul ins(%w, %x : tensor<13x64xf32>, tensor<64x3xf32>) outs(%acc : tensor<13x3xf32>) -> tensor<13x3xf32>
  return %y : tensor<13x3xf32>
}

// -----

// CHECK-LABEL: func @negative_plain_weight
func.func @negative_plain_weight(%x: tensor<3x64xf32>, %w: tensor<64x13xf32>, %acc: tensor<3x13xf32>) -> tensor<3x13xf32> {
  /// No dequantized operand: nothing to fuse.
  // CHECK: linalg.matmul
  %y = linalg.matmul ins(%x, %w : tensor<3x64xf32>, tensor<64x13xf32>) outs(%acc : tensor<3x13xf32>) -> tensor<3x13xf32>
  return %y : tensor<3x13xf32>
}
