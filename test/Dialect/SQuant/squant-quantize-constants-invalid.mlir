// RUN: squant-opt %s -squant-quantize-constants="scheme=symmetric bits=4 group-size=2" -split-input-file -verify-diagnostics

// The options' group size must divide K; the message names both numbers.
func.func @group_size_does_not_divide_k(%x: tensor<1x3xf32>) -> tensor<1x2xf32> {
  // expected-error@+1 {{K = 3 is not a multiple of group-size = 2 (pad the weight explicitly)}}
  %w = arith.constant dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]> : tensor<3x2xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2xf32>) -> tensor<1x2xf32>
  %y = linalg.matmul ins(%x, %w : tensor<1x3xf32>, tensor<3x2xf32>) outs(%acc : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}
