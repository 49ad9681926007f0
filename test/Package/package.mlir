// The CMake package: `cmake --install` of this build, then an external
// project (test/Package/external) configured with find_package(SQuant)
// and built against it; its tool parses squant IR and runs squant's
// pipeline. Also checks the installed squant-opt runs.
//
// RUN: rm -rf %t && cmake --install %squant_obj_root --prefix %t/install > %t.install.log
// RUN: %t/install/bin/squant-opt %s --squant-optimize="scheme=stretched bits=2 group-size=32" | FileCheck %s
// RUN: cmake -G Ninja -S %S/external -B %t/build -DCMAKE_BUILD_TYPE=Release \
// RUN:   -DCMAKE_PREFIX_PATH=%t/install -DCMAKE_C_COMPILER=%clang_path -DCMAKE_CXX_COMPILER=%clangxx_path > %t.configure.log
// RUN: cmake --build %t/build > %t.build.log
// RUN: %t/build/external-squant-opt %s --squant-optimize="scheme=stretched bits=2 group-size=32" | FileCheck %s

// CHECK-LABEL: func @linear
// CHECK: squant.qmatmul %{{.*}} table(%{{.*}}) form(#squant.lut<bits = 2, axis = 1, group_size = 32>)
// CHECK-NOT: linalg.matmul
func.func @linear(%x: tensor<1x32xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense<[[0.1, -0.2], [0.3, 0.4], [-0.5, 0.6], [0.7, -0.8], [0.9, 1.0], [-1.1, 1.2], [1.3, -1.4], [1.5, 1.6],
                             [0.1, -0.2], [0.3, 0.4], [-0.5, 0.6], [0.7, -0.8], [0.9, 1.0], [-1.1, 1.2], [1.3, -1.4], [1.5, 1.6],
                             [0.1, -0.2], [0.3, 0.4], [-0.5, 0.6], [0.7, -0.8], [0.9, 1.0], [-1.1, 1.2], [1.3, -1.4], [1.5, 1.6],
                             [0.1, -0.2], [0.3, 0.4], [-0.5, 0.6], [0.7, -0.8], [0.9, 1.0], [-1.1, 1.2], [1.3, -1.4], [1.5, 1.6]]> : tensor<32x2xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2xf32>) -> tensor<1x2xf32>
  %y = linalg.matmul ins(%x, %w : tensor<1x32xf32>, tensor<32x2xf32>) outs(%acc : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}
