// RUN: squant-opt %s -squant-pack-weights -split-input-file | FileCheck %s
// RUN: squant-opt %s -squant-pack-weights="order=msb_first" -split-input-file | FileCheck %s --check-prefix=MSB
// RUN: not squant-opt %s -squant-pack-weights="order=middle" -split-input-file -o /dev/null 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: squant-opt %s -squant-optimize="scheme=stretched bits=2 group-size=4 pack=lsb_first" -split-input-file 2>/dev/null | FileCheck %s --check-prefix=PIPE

// BAD: error: squant-pack-weights: order must be lsb_first or msb_first, got 'middle'

// Unsigned 4-bit codes of an fma-form qmatmul: rows of 8 codes in 4 bytes,
// low nibble first (lsb_first) or high nibble first (msb_first).
// CHECK-LABEL: func @fma_int4
// CHECK-DAG: %[[P:.*]] = arith.constant dense<{{\[\[}}16, 50, 84, 118], [-104, -70, -36, -2]]> : tensor<2x4xi8>
// CHECK: %[[Q:.*]] = squant.unpack %[[P]] layout <order = lsb_first, bits = 4, storage = unsigned> : tensor<2x4xi8> -> tensor<2x8xi8>
// CHECK: squant.qmatmul %{{.*}}, %[[Q]] scales
// CHECK-NOT: dense<{{\[\[}}0, 1, 2
// MSB-LABEL: func @fma_int4
// MSB: arith.constant dense<{{\[\[}}1, 35, 69, 103], [-119, -85, -51, -17]]> : tensor<2x4xi8>
// MSB: squant.unpack %{{.*}} layout <order = msb_first, bits = 4, storage = unsigned>
func.func @fma_int4(%x: tensor<1x8xf32>) -> tensor<1x2xf32> {
  %q = arith.constant dense<[[0, 1, 2, 3, 4, 5, 6, 7], [8, 9, 10, 11, 12, 13, 14, 15]]> : tensor<2x8xi8>
  %s = arith.constant dense<0.5> : tensor<2x1xf32>
  %b = arith.constant dense<-4.0> : tensor<2x1xf32>
  %y = squant.qmatmul %x, %q scales(%s) bias(%b)
      form(#squant.fma<bits = 4, storage = unsigned, axis = 1, group_size = 8>)
      : (tensor<1x8xf32>, tensor<2x8xi8>, tensor<2x1xf32>, tensor<2x1xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

// Signed 3-bit codes keep their storage (unpacking sign-extends); a row of
// 5 codes takes 2 bytes.
// CHECK-LABEL: func @fma_signed_int3_ragged
// CHECK: squant.unpack %{{.*}} layout <order = lsb_first, bits = 3> : tensor<1x2xi8> -> tensor<1x5xi8>
func.func @fma_signed_int3_ragged(%x: tensor<1x5xf32>) -> tensor<1x1xf32> {
  %q = arith.constant dense<[[-4, -1, 0, 1, 3]]> : tensor<1x5xi8>
  %s = arith.constant dense<0.5> : tensor<1x1xf32>
  %b = arith.constant dense<0.0> : tensor<1x1xf32>
  %y = squant.qmatmul %x, %q scales(%s) bias(%b)
      form(#squant.fma<bits = 3, axis = 1, group_size = 5>)
      : (tensor<1x5xf32>, tensor<1x5xi8>, tensor<1x1xf32>, tensor<1x1xf32>) -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}

// -----

// 8-bit codes and codes that are not constants stay as they are.
// CHECK-LABEL: func @left_alone
// CHECK-NOT: squant.unpack
func.func @left_alone(%x: tensor<1x4xf32>, %q4: tensor<2x4xi8>) -> (tensor<1x2xf32>, tensor<1x2xf32>) {
  %q8 = arith.constant dense<[[0, 1, 2, 3], [4, 5, 6, 7]]> : tensor<2x4xi8>
  %s = arith.constant dense<0.5> : tensor<2x1xf32>
  %b = arith.constant dense<0.0> : tensor<2x1xf32>
  %y8 = squant.qmatmul %x, %q8 scales(%s) bias(%b)
      form(#squant.fma<bits = 8, axis = 1, group_size = 4>)
      : (tensor<1x4xf32>, tensor<2x4xi8>, tensor<2x1xf32>, tensor<2x1xf32>) -> tensor<1x2xf32>
  %y4 = squant.qmatmul %x, %q4 scales(%s) bias(%b)
      form(#squant.fma<bits = 4, axis = 1, group_size = 4>)
      : (tensor<1x4xf32>, tensor<2x4xi8>, tensor<2x1xf32>, tensor<2x1xf32>) -> tensor<1x2xf32>
  return %y8, %y4 : tensor<1x2xf32>, tensor<1x2xf32>
}

// -----

// In squant-optimize, packing comes after fusion: the [K, N] weight of
// linalg.matmul is packed in its [N, K] orientation, lut indices unsigned.
// PIPE-LABEL: func @pipeline_packs_fused_weight
// PIPE: %[[Q:.*]] = squant.unpack %{{.*}} layout <order = lsb_first, bits = 2, storage = unsigned> : tensor<2x2xi8> -> tensor<2x8xi8>
// PIPE: squant.qmatmul %{{.*}}, %[[Q]] scales(%{{.*}}) table(%{{.*}}) form(#squant.lut<bits = 2
func.func @pipeline_packs_fused_weight(%x: tensor<1x8xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense<[[0.1, -0.2], [0.3, 0.4], [-0.5, 0.6], [0.7, -0.8],
                             [0.9, 1.0], [-1.1, 1.2], [1.3, -1.4], [1.5, 1.6]]> : tensor<8x2xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2xf32>) -> tensor<1x2xf32>
  %y = linalg.matmul ins(%x, %w : tensor<1x8xf32>, tensor<8x2xf32>) outs(%acc : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}
