// Debian's own mlir-opt, with squant loaded as a plugin: it parses squant IR
// and runs squant passes and the squant-optimize pipeline.
//
// RUN: mlir-opt %s --load-dialect-plugin=%squant_plugin | FileCheck %s --check-prefix=PARSE
// RUN: mlir-opt %s --load-dialect-plugin=%squant_plugin --load-pass-plugin=%squant_plugin --pass-pipeline="builtin.module(func.func(squant-fold-zero-points))" | FileCheck %s --check-prefix=PASS
// RUN: mlir-opt %s --load-dialect-plugin=%squant_plugin --load-pass-plugin=%squant_plugin --pass-pipeline="builtin.module(squant-optimize)" | FileCheck %s --check-prefix=PIPELINE

// PARSE-LABEL: func @linear
// PARSE: squant.dequantize %{{.*}} scheme <stretched, bits = 2, axis = 1, group_size = 32>
// PASS: squant.fma_dequantize
// PIPELINE: squant.qmatmul {{.*}} table({{.*}}) form(#squant.lut<bits = 2, axis = 1, group_size = 32>)
func.func @linear(%x: tensor<2x64xf32>, %q: tensor<3x64xi8>, %s: tensor<3x2xf32>) -> tensor<2x3xf32> {
  %w = squant.dequantize %q, %s scheme <stretched, bits = 2, axis = 1, group_size = 32> : tensor<3x64xi8>, tensor<3x2xf32> -> tensor<3x64xf32>
  %e = tensor.empty() : tensor<2x3xf32>
  %c0 = arith.constant 0.0 : f32
  %f = linalg.fill ins(%c0 : f32) outs(%e : tensor<2x3xf32>) -> tensor<2x3xf32>
  %y = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
      ins(%x, %w : tensor<2x64xf32>, tensor<3x64xf32>) outs(%f : tensor<2x3xf32>) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}
