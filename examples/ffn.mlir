// squant's main job: a transformer feed-forward block (SwiGLU, as in
// Llama-style models) with hidden size 2048 and intermediate size 5632:
//
//   y = (silu(x · W_gate) ⊙ (x · W_up)) · W_down
//
// The weights are arguments here; `squant-run --const-args=1,2,3` binds
// them to values (random with a seed, or .npy files) at compile time, so
// squant-optimize sees constant fp32 weights and quantizes them (torchao's
// stretched 2-bit grid through the LUT path, tinygemm int4 through the
// one-FMA path, ...). scripts/demo.sh runs it.

func.func @ffn(%x: tensor<1x2048xf32>, %w_gate: tensor<2048x5632xf32>,
               %w_up: tensor<2048x5632xf32>, %w_down: tensor<5632x2048xf32>)
    -> tensor<1x2048xf32> {
  %zero = arith.constant 0.0 : f32
  %e_h = tensor.empty() : tensor<1x5632xf32>
  %acc_h = linalg.fill ins(%zero : f32) outs(%e_h : tensor<1x5632xf32>) -> tensor<1x5632xf32>
  %gate = linalg.matmul ins(%x, %w_gate : tensor<1x2048xf32>, tensor<2048x5632xf32>)
                        outs(%acc_h : tensor<1x5632xf32>) -> tensor<1x5632xf32>
  %up = linalg.matmul ins(%x, %w_up : tensor<1x2048xf32>, tensor<2048x5632xf32>)
                      outs(%acc_h : tensor<1x5632xf32>) -> tensor<1x5632xf32>
  // silu(g) · u = g / (1 + exp(-g)) · u
  %h = linalg.generic {
      indexing_maps = [affine_map<(m, n) -> (m, n)>, affine_map<(m, n) -> (m, n)>,
                       affine_map<(m, n) -> (m, n)>],
      iterator_types = ["parallel", "parallel"]}
      ins(%gate, %up : tensor<1x5632xf32>, tensor<1x5632xf32>)
      outs(%e_h : tensor<1x5632xf32>) {
  ^bb0(%g: f32, %u: f32, %out: f32):
    %one = arith.constant 1.0 : f32
    %neg = arith.negf %g : f32
    %exp = math.exp %neg : f32
    %den = arith.addf %one, %exp : f32
    %silu = arith.divf %g, %den : f32
    %prod = arith.mulf %silu, %u : f32
    linalg.yield %prod : f32
  } -> tensor<1x5632xf32>
  %e_y = tensor.empty() : tensor<1x2048xf32>
  %acc_y = linalg.fill ins(%zero : f32) outs(%e_y : tensor<1x2048xf32>) -> tensor<1x2048xf32>
  %y = linalg.matmul ins(%h, %w_down : tensor<1x5632xf32>, tensor<5632x2048xf32>)
                     outs(%acc_y : tensor<1x2048xf32>) -> tensor<1x2048xf32>
  return %y : tensor<1x2048xf32>
}
