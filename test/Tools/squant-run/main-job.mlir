// The main job (scripts/demo.sh) at a small size: examples/ffn.mlir with
// its weights bound at compile time, compiled in three variants, one table.
// Each variant's compiled output is compared with the reference evaluation
// of its own squant-level IR (rel ~1e-7: only the activations' rounding
// differs) and with the fp32 block (the quantization error: 4-bit well
// below 2-bit).
//
// RUN: sed 's/2048/256/g; s/5632/512/g' %S/../../../examples/ffn.mlir > %t.mlir
// RUN: squant-run %t.mlir --const-args=1,2,3 --check --bench-windows=1 --lower=threads=2 \
// RUN:   --variant='fp32=none' \
// RUN:   --variant='int4=squant-optimize{scheme=float_zero_point bits=4 group-size=128 pack=lsb_first}' \
// RUN:   --variant='stretched2=squant-optimize{scheme=stretched bits=2 group-size=32 pack=lsb_first}' \
// RUN:   --print-squant-ir | FileCheck %s

// CHECK: | variant | weight MB | rel. error vs fp32 | time ms [min, max] | weight GB/s | of read BW | check vs squant semantics |
// fp32 weights: 3 x 256 x 512 x 4 bytes.
// CHECK: | fp32 | 1.57 | {{[0-9.]+}}e-0{{[6-9]}} | {{.*}} | rel {{[0-9.]+}}e-0{{[6-9]}} |

// The quantized variants are fused, packed matmuls: 4-bit one-FMA, 2-bit LUT.
// CHECK: // squant-level IR of int4
// CHECK-COUNT-3: squant.qmatmul {{.*}} form(#squant.fma<bits = 4, storage = unsigned, axis = 1, group_size = 128>)
// 4-bit codes (0.20 MB) and per-128 scales and biases (0.02 MB).
// CHECK: | int4 | 0.22 | {{1\.[0-9]+e-01|2\.[0-9]+e-01}} | {{.*}} | rel {{[0-9.]+}}e-0{{[6-9]}} |

// CHECK: // squant-level IR of stretched2
// CHECK-COUNT-3: squant.qmatmul {{.*}} table({{.*}}) form(#squant.lut<bits = 2, axis = 1, group_size = 32>)
// 2-bit codes (0.10 MB) and per-32 scales (0.05 MB).
// CHECK: | stretched2 | 0.15 | {{[4-7]\.[0-9]+e-01}} | {{.*}} | rel {{[0-9.]+}}e-0{{[6-9]}} |
// CHECK: read bandwidth probe (2 threads)
