// RUN: squant-opt %s -squant-optimize 2>/dev/null | FileCheck %s

// The transform path users take: a float weight quantized at compile time
// (folded by the reference numerics) and dequantized for a matmul becomes one
// squant.qmatmul: stretched 2-bit in the exact LUT form, tinygemm int4 in
// the one-FMA form.

// CHECK-LABEL: func @stretched_2bit_linear
// CHECK-SAME: (%[[X:.*]]: tensor<2x64xf32>)
func.func @stretched_2bit_linear(%x: tensor<2x64xf32>) -> tensor<2x3xf32> {
  // CHECK-DAG: %[[T:.*]] = arith.constant dense<[-3, -1, 1, 3]> : tensor<4xi8>
  // CHECK-DAG: %[[ST:.*]] = arith.constant dense<{{.*}}> : tensor<3x2xf32>
  // CHECK-DAG: %[[IDX:.*]] = arith.constant dense<"0x{{[0-9A-F]+}}"> : tensor<3x64xi8>
  // CHECK: %[[Y:.*]] = squant.qmatmul %[[X]], %[[IDX]] scales(%[[ST]]) table(%[[T]]) form(#squant.lut<bits = 2, axis = 1, group_size = 32>)
  // CHECK-NOT: squant.dequantize
  // CHECK-NOT: linalg.matmul
  // CHECK: return %[[Y]]
  %w = arith.constant dense<[[0.000, 0.644, 0.985, 0.863, 0.335, -0.351, -0.872, -0.982, -0.631, 0.017, 0.657, 0.988, 0.855, 0.319, -0.366, -0.880, -0.979, -0.618, 0.034, 0.670, 0.991, 0.846, 0.303, -0.382, -0.888, -0.976, -0.605, 0.050, 0.682, 0.993, 0.837, 0.287, -0.398, -0.895, -0.972, -0.591, 0.067, 0.694, 0.995, 0.827, 0.271, -0.413, -0.903, -0.968, -0.578, 0.084, 0.706, 0.996, 0.818, 0.255, -0.428, -0.910, -0.963, -0.564, 0.101, 0.718, 0.998, 0.808, 0.238, -0.443, -0.917, -0.959, -0.550, 0.117], [0.730, 0.999, 0.798, 0.222, -0.458, -0.923, -0.954, -0.536, 0.134, 0.741, 0.999, 0.788, 0.206, -0.473, -0.929, -0.949, -0.522, 0.151, 0.752, 1.000, 0.777, 0.189, -0.488, -0.936, -0.943, -0.507, 0.167, 0.763, 1.000, 0.767, 0.173, -0.503, -0.941, -0.937, -0.493, 0.184, 0.774, 1.000, 0.756, 0.156, -0.517, -0.947, -0.931, -0.478, 0.200, 0.784, 1.000, 0.745, 0.139, -0.531, -0.952, -0.925, -0.463, 0.217, 0.795, 0.999, 0.733, 0.123, -0.546, -0.957, -0.919, -0.448, 0.233, 0.805], [0.998, 0.722, 0.106, -0.560, -0.962, -0.912, -0.433, 0.250, 0.815, 0.997, 0.710, 0.089, -0.573, -0.966, -0.905, -0.418, 0.266, 0.824, 0.995, 0.698, 0.072, -0.587, -0.971, -0.898, -0.402, 0.282, 0.834, 0.993, 0.686, 0.056, -0.601, -0.974, -0.890, -0.387, 0.298, 0.843, 0.991, 0.673, 0.039, -0.614, -0.978, -0.882, -0.371, 0.314, 0.852, 0.989, 0.661, 0.022, -0.627, -0.981, -0.874, -0.356, 0.330, 0.861, 0.986, 0.648, 0.005, -0.640, -0.985, -0.866, -0.340, 0.346, 0.869, 0.983]]> : tensor<3x64xf32>
  %s = squant.choose_qparams %w scheme <stretched, bits = 2, axis = 1, group_size = 32> : tensor<3x64xf32> -> tensor<3x2xf32>
  %q = squant.quantize %w, %s scheme <stretched, bits = 2, axis = 1, group_size = 32> : tensor<3x64xf32>, tensor<3x2xf32> -> tensor<3x64xi8>
  %d = squant.dequantize %q, %s scheme <stretched, bits = 2, axis = 1, group_size = 32> : tensor<3x64xi8>, tensor<3x2xf32> -> tensor<3x64xf32>
  %e = tensor.empty() : tensor<2x3xf32>
  %c0 = arith.constant 0.0 : f32
  %f = linalg.fill ins(%c0 : f32) outs(%e : tensor<2x3xf32>) -> tensor<2x3xf32>
  %y = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
      ins(%x, %d : tensor<2x64xf32>, tensor<3x64xf32>) outs(%f : tensor<2x3xf32>) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

// CHECK-LABEL: func @tinygemm_int4_linear
// CHECK-SAME: (%[[X:.*]]: tensor<2x64xf32>)
func.func @tinygemm_int4_linear(%x: tensor<2x64xf32>) -> tensor<2x3xf32> {
  /// No int8 table for a float zero point: the one-FMA form with
  /// b = fma(s, -8, zp) folded at compile time (D7).
  // CHECK-DAG: %[[B:.*]] = arith.constant dense<{{\[\[}}-{{.*}}> : tensor<3x2xf32>
  // CHECK-DAG: %[[S:.*]] = arith.constant dense<{{\[\[}}0.1{{.*}}> : tensor<3x2xf32>
  // CHECK: %[[Y:.*]] = squant.qmatmul %[[X]], %{{.*}} scales(%[[S]]) bias(%[[B]]) form(#squant.fma<bits = 4, storage = unsigned, axis = 1, group_size = 32>)
  // CHECK-NOT: squant.dequantize
  // CHECK: return %[[Y]]
  %w = arith.constant dense<[[0.000, 0.644, 0.985, 0.863, 0.335, -0.351, -0.872, -0.982, -0.631, 0.017, 0.657, 0.988, 0.855, 0.319, -0.366, -0.880, -0.979, -0.618, 0.034, 0.670, 0.991, 0.846, 0.303, -0.382, -0.888, -0.976, -0.605, 0.050, 0.682, 0.993, 0.837, 0.287, -0.398, -0.895, -0.972, -0.591, 0.067, 0.694, 0.995, 0.827, 0.271, -0.413, -0.903, -0.968, -0.578, 0.084, 0.706, 0.996, 0.818, 0.255, -0.428, -0.910, -0.963, -0.564, 0.101, 0.718, 0.998, 0.808, 0.238, -0.443, -0.917, -0.959, -0.550, 0.117], [0.730, 0.999, 0.798, 0.222, -0.458, -0.923, -0.954, -0.536, 0.134, 0.741, 0.999, 0.788, 0.206, -0.473, -0.929, -0.949, -0.522, 0.151, 0.752, 1.000, 0.777, 0.189, -0.488, -0.936, -0.943, -0.507, 0.167, 0.763, 1.000, 0.767, 0.173, -0.503, -0.941, -0.937, -0.493, 0.184, 0.774, 1.000, 0.756, 0.156, -0.517, -0.947, -0.931, -0.478, 0.200, 0.784, 1.000, 0.745, 0.139, -0.531, -0.952, -0.925, -0.463, 0.217, 0.795, 0.999, 0.733, 0.123, -0.546, -0.957, -0.919, -0.448, 0.233, 0.805], [0.998, 0.722, 0.106, -0.560, -0.962, -0.912, -0.433, 0.250, 0.815, 0.997, 0.710, 0.089, -0.573, -0.966, -0.905, -0.418, 0.266, 0.824, 0.995, 0.698, 0.072, -0.587, -0.971, -0.898, -0.402, 0.282, 0.834, 0.993, 0.686, 0.056, -0.601, -0.974, -0.890, -0.387, 0.298, 0.843, 0.991, 0.673, 0.039, -0.614, -0.978, -0.882, -0.371, 0.314, 0.852, 0.989, 0.661, 0.022, -0.627, -0.981, -0.874, -0.356, 0.330, 0.861, 0.986, 0.648, 0.005, -0.640, -0.985, -0.866, -0.340, 0.346, 0.869, 0.983]]> : tensor<3x64xf32>
  %s, %z = squant.choose_qparams %w scheme <float_zero_point, bits = 4, storage = unsigned, axis = 1, group_size = 32> : tensor<3x64xf32> -> tensor<3x2xf32>, tensor<3x2xf32>
  %q = squant.quantize %w, %s, %z scheme <float_zero_point, bits = 4, storage = unsigned, axis = 1, group_size = 32> : tensor<3x64xf32>, tensor<3x2xf32>, tensor<3x2xf32> -> tensor<3x64xi8>
  %d = squant.dequantize %q, %s, %z scheme <float_zero_point, bits = 4, storage = unsigned, axis = 1, group_size = 32> : tensor<3x64xi8>, tensor<3x2xf32>, tensor<3x2xf32> -> tensor<3x64xf32>
  %e = tensor.empty() : tensor<2x3xf32>
  %c0 = arith.constant 0.0 : f32
  %f = linalg.fill ins(%c0 : f32) outs(%e : tensor<2x3xf32>) -> tensor<2x3xf32>
  %y = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
      ins(%x, %d : tensor<2x64xf32>, tensor<3x64xf32>) outs(%f : tensor<2x3xf32>) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

// RUN: squant-opt %s -squant-optimize="scheme=stretched bits=2 group-size=32" 2>/dev/null | FileCheck %s --check-prefix=OPT

// OPT-LABEL: func @float_weight_by_option
// CHECK-LABEL: func @float_weight_by_option
func.func @float_weight_by_option(%x: tensor<64xf32>) -> tensor<2xf32> {
  /// A plain float weight of a GEMV: quantized by the pipeline's options
  /// (stretched 2-bit, groups of 32 along K), then LUT and fusion.
  // OPT: squant.qmatmul %{{.*}}, %{{.*}} scales(%{{.*}}) table(%{{.*}}) form(#squant.lut<bits = 2, axis = 1, group_size = 32>) : (tensor<64xf32>, tensor<2x64xi8>, tensor<2x2xf32>, tensor<4xi8>) -> tensor<2xf32>
  /// Without a scheme the float weight is left alone.
  // CHECK: linalg.matvec
  %w = arith.constant dense<0.25> : tensor<2x64xf32>
  %e = tensor.empty() : tensor<2xf32>
  %c0 = arith.constant 0.0 : f32
  %f = linalg.fill ins(%c0 : f32) outs(%e : tensor<2xf32>) -> tensor<2xf32>
  %y = linalg.matvec ins(%w, %x : tensor<2x64xf32>, tensor<64xf32>) outs(%f : tensor<2xf32>) -> tensor<2xf32>
  return %y : tensor<2xf32>
}

// CHECK-LABEL: func @raised_gptq_int4_linear
// CHECK-SAME: (%[[X:.*]]: tensor<2x64xf32>, %[[P:.*]]: tensor<3x8xi32>, %[[S:.*]]: tensor<3x2xf32>, %[[Z:.*]]: tensor<3x2xi32>)
func.func @raised_gptq_int4_linear(%x: tensor<2x64xf32>, %p: tensor<3x8xi32>, %s: tensor<3x2xf32>, %z: tensor<3x2xi32>) -> tensor<2x3xf32> {
  /// Front-end GPTQ dequantization (int4 packed in int32, integer zero
  /// points) feeding a linear layer: raised, then fused in the one-FMA form
  /// with b = -zp * s computed once per group.
  // CHECK: %[[U:.*]] = squant.unpack %[[P]] layout <order = lsb_first, bits = 4, storage = unsigned>
  // CHECK: %[[Y:.*]] = squant.qmatmul %[[X]], %[[U]] scales(%[[S]]) bias(%{{.*}}) form(#squant.fma<bits = 4, storage = unsigned, axis = 1, group_size = 32>)
  // CHECK: return %[[Y]]
  %e = tensor.empty() : tensor<3x64xf32>
  %w = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1 floordiv 8)>, affine_map<(d0, d1) -> (d0, d1 floordiv 32)>, affine_map<(d0, d1) -> (d0, d1 floordiv 32)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%p, %s, %z : tensor<3x8xi32>, tensor<3x2xf32>, tensor<3x2xi32>) outs(%e : tensor<3x64xf32>) {
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
  } -> tensor<3x64xf32>
  %ey = tensor.empty() : tensor<2x3xf32>
  %c0 = arith.constant 0.0 : f32
  %fill = linalg.fill ins(%c0 : f32) outs(%ey : tensor<2x3xf32>) -> tensor<2x3xf32>
  %out = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
      ins(%x, %w : tensor<2x64xf32>, tensor<3x64xf32>) outs(%fill : tensor<2x3xf32>) -> tensor<2x3xf32>
  return %out : tensor<2x3xf32>
}

// CHECK-LABEL: func @imported_quant_int4_gemv
func.func @imported_quant_int4_gemv(%x: tensor<64xf32>, %w: tensor<3x64x!quant.uniform<i4:f32:{0:1, 1:32}, {{0.1, 0.2}, {0.3, 0.4}, {0.5, 0.6}}>>) -> tensor<3xf32> {
  /// Upstream quant (sub-channel, symmetric int4) imported; symmetric has an
  /// exact int8 table (T = q), so it fuses in the LUT form.
  // CHECK: %[[T:.*]] = arith.constant dense<[-8, -7, -6, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7]> : tensor<16xi8>
  // CHECK: squant.qmatmul %{{.*}}, %{{.*}} scales(%{{.*}}) table(%[[T]]) form(#squant.lut<bits = 4, axis = 1, group_size = 32>) : (tensor<64xf32>, tensor<3x64xi4>, tensor<3x2xf32>, tensor<16xi8>) -> tensor<3xf32>
  %d = quant.dcast %w : tensor<3x64x!quant.uniform<i4:f32:{0:1, 1:32}, {{0.1, 0.2}, {0.3, 0.4}, {0.5, 0.6}}>> to tensor<3x64xf32>
  %e = tensor.empty() : tensor<3xf32>
  %c0 = arith.constant 0.0 : f32
  %fill = linalg.fill ins(%c0 : f32) outs(%e : tensor<3xf32>) -> tensor<3xf32>
  %y = linalg.matvec ins(%d, %x : tensor<3x64xf32>, tensor<64xf32>) outs(%fill : tensor<3xf32>) -> tensor<3xf32>
  return %y : tensor<3xf32>
}
