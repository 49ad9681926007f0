// A weight large enough that its codes are stored as a dense_resource blob
// (>= 1 MiB): its [K, N] -> [N, K] transpose still folds at compile time and
// the packed codes reach the kernel as bytes (no linalg.transpose left,
// which would take the slow scalar path).
//
// RUN: squant-run %s --const-args=1 --lower=threads=1 --print-squant-ir --check \
// RUN:   --transform='squant-optimize{scheme=float_zero_point bits=4 group-size=128 pack=lsb_first}' | FileCheck %s

// CHECK-NOT: linalg.transpose
// CHECK: %[[P:.*]] = squant.unpack %{{.*}} layout <order = lsb_first, bits = 4, storage = unsigned> : tensor<1024x512xi8> -> tensor<1024x1024xi8>
// CHECK: squant.qmatmul %{{.*}}, %[[P]]
// CHECK: check #0: ok within D8
func.func @layer(%x: tensor<1x1024xf32>, %w: tensor<1024x1024xf32>) -> tensor<1x1024xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x1024xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<1x1024xf32>) -> tensor<1x1024xf32>
  %y = linalg.matmul ins(%x, %w : tensor<1x1024xf32>, tensor<1024x1024xf32>) outs(%acc : tensor<1x1024xf32>) -> tensor<1x1024xf32>
  return %y : tensor<1x1024xf32>
}
