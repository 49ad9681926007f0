// Upstream interop end to end: IR as upstream's quant dialect writes it and
// as a front end spells dequantization (a linalg.generic of extui/uitofp/
// subf/mulf), each taken by squant-optimize (import, raise, fuse) to one
// squant.qmatmul, by squant-lower-to-llvm-cpu (upstream one-shot
// bufferization and convert-to-llvm inside) to running code, and judged
// against the reference evaluation: within D8.
//
// RUN: squant-run %s --entry=upstream_quant --print-squant-ir --check | FileCheck %s --check-prefix=QUANT
// RUN: squant-run %s --entry=frontend_dequant --print-squant-ir --check --lower=threads=2 | FileCheck %s --check-prefix=FRONT

// QUANT: func.func @upstream_quant(%{{.*}}: tensor<3x64xf32>, %{{.*}}: tensor<8x64xi8>)
// QUANT-NOT: quant.
// QUANT: squant.qmatmul {{.*}} form(#squant.fma<bits = 8, axis = 1, group_size = 32>)
// QUANT-NOT: linalg.matmul
// QUANT: check #0: ok within D8: 0 of 24 elements outside
func.func @upstream_quant(%x: tensor<3x64xf32>,
    %w: tensor<8x64x!quant.uniform<i8:f32:{0:1, 1:32}, {{0.1:1, 0.2:-2}, {0.3:0, 0.4:5}, {0.1:1, 0.2:-2}, {0.3:0, 0.4:5}, {0.1:1, 0.2:-2}, {0.3:0, 0.4:5}, {0.1:1, 0.2:-2}, {0.3:0, 0.4:5}}>>)
    -> tensor<3x8xf32> {
  %d = quant.dcast %w : tensor<8x64x!quant.uniform<i8:f32:{0:1, 1:32}, {{0.1:1, 0.2:-2}, {0.3:0, 0.4:5}, {0.1:1, 0.2:-2}, {0.3:0, 0.4:5}, {0.1:1, 0.2:-2}, {0.3:0, 0.4:5}, {0.1:1, 0.2:-2}, {0.3:0, 0.4:5}}>> to tensor<8x64xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<3x8xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<3x8xf32>) -> tensor<3x8xf32>
  %y = linalg.matmul
      indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>,
                       affine_map<(m, n, k) -> (m, n)>]
      ins(%x, %d : tensor<3x64xf32>, tensor<8x64xf32>) outs(%acc : tensor<3x8xf32>) -> tensor<3x8xf32>
  return %y : tensor<3x8xf32>
}

#id = affine_map<(d0, d1) -> (d0, d1)>
#g32 = affine_map<(d0, d1) -> (d0, d1 floordiv 32)>

// FRONT: func.func @frontend_dequant(%{{.*}}: tensor<2x64xf32>, %{{.*}}: tensor<8x64xi4>, %{{.*}}: tensor<8x2xf32>)
// FRONT-NOT: linalg.generic
// FRONT: squant.qmatmul {{.*}} form(#squant.fma<bits = 4, storage = unsigned, axis = 1, group_size = 32>)
// FRONT: check #0: ok within D8: 0 of 16 elements outside
func.func @frontend_dequant(%x: tensor<2x64xf32>, %q: tensor<8x64xi4>, %s: tensor<8x2xf32>) -> tensor<2x8xf32> {
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
  %zero = arith.constant 0.0 : f32
  %ey = tensor.empty() : tensor<2x8xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%ey : tensor<2x8xf32>) -> tensor<2x8xf32>
  %y = linalg.matmul
      indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>,
                       affine_map<(m, n, k) -> (m, n)>]
      ins(%x, %w : tensor<2x64xf32>, tensor<8x64xf32>) outs(%acc : tensor<2x8xf32>) -> tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}
