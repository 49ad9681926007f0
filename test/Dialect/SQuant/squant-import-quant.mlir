// RUN: squant-opt %s -squant-import-quant -split-input-file -verify-diagnostics | FileCheck %s

// CHECK-LABEL: func @per_tensor_qcast_dcast
// CHECK-SAME: (%[[X:.*]]: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xi8>)
func.func @per_tensor_qcast_dcast(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xi8>) {
  /// Scale and zero point leave the type and become constants; the
  /// dcast(qcast(x)) round trip is kept (upstream folds it to x).
  // CHECK-DAG: %[[S:.*]] = arith.constant dense<5.000000e-01> : tensor<f32>
  // CHECK-DAG: %[[Z:.*]] = arith.constant dense<-3> : tensor<i32>
  // CHECK: %[[Q:.*]] = squant.quantize %[[X]], %[[S]], %[[Z]] scheme <asymmetric, bits = 8> : tensor<4xf32>, tensor<f32>, tensor<i32> -> tensor<4xi8>
  // CHECK: %[[D:.*]] = squant.dequantize %[[Q]], %{{.*}}, %{{.*}} scheme <asymmetric, bits = 8>
  // CHECK: return %[[D]], %[[Q]]
  %q = quant.qcast %x : tensor<4xf32> to tensor<4x!quant.uniform<i8:f32, 0.5:-3>>
  %i = quant.scast %q : tensor<4x!quant.uniform<i8:f32, 0.5:-3>> to tensor<4xi8>
  %d = quant.dcast %q : tensor<4x!quant.uniform<i8:f32, 0.5:-3>> to tensor<4xf32>
  return %d, %i : tensor<4xf32>, tensor<4xi8>
}

// -----

// CHECK-LABEL: func @per_axis_unsigned_signature
// CHECK-SAME: (%[[W:.*]]: tensor<2x16xi4>) -> tensor<2x16xf32>
func.func @per_axis_unsigned_signature(%w: tensor<2x16x!quant.uniform<u4:f32:0, {0.1:8, 0.2:7}>>) -> tensor<2x16xf32> {
  /// Quantized function arguments become storage tensors.
  // CHECK-DAG: arith.constant dense<[1.000000e-01, 2.000000e-01]> : tensor<2xf32>
  // CHECK-DAG: arith.constant dense<[8, 7]> : tensor<2xi32>
  // CHECK: squant.dequantize %[[W]], %{{.*}}, %{{.*}} scheme <asymmetric, bits = 4, storage = unsigned, axis = 0>
  %d = quant.dcast %w : tensor<2x16x!quant.uniform<u4:f32:0, {0.1:8, 0.2:7}>> to tensor<2x16xf32>
  return %d : tensor<2x16xf32>
}

// -----

// CHECK-LABEL: func @sub_channel_symmetric
func.func @sub_channel_symmetric(%w: tensor<2x64x!quant.uniform<i4:f32:{0:1, 1:32}, {{0.1, 0.2}, {0.3, 0.4}}>>) -> tensor<2x64xf32> {
  /// Blocks of 32 along axis 1 and zero points all 0 on signed storage:
  /// squant's symmetric per-group scheme.
  // CHECK: %[[S:.*]] = arith.constant dense<{{\[}}[1.000000e-01, 2.000000e-01], [3.000000e-01, 4.000000e-01]]> : tensor<2x2xf32>
  // CHECK: squant.dequantize %{{.*}}, %[[S]] scheme <symmetric, bits = 4, axis = 1, group_size = 32> : tensor<2x64xi4>, tensor<2x2xf32> -> tensor<2x64xf32>
  %d = quant.dcast %w : tensor<2x64x!quant.uniform<i4:f32:{0:1, 1:32}, {{0.1, 0.2}, {0.3, 0.4}}>> to tensor<2x64xf32>
  return %d : tensor<2x64xf32>
}

// -----

// CHECK-LABEL: func @narrow_range_bf16
func.func @narrow_range_bf16(%x: tensor<4xbf16>) -> tensor<4xi8> {
  /// A narrowed storage range becomes qmin/qmax; the scale is rounded to
  /// the expressed type.
  // CHECK: arith.constant dense<1.000980e-01> : tensor<bf16>
  // CHECK: squant.quantize %{{.*}}, %{{.*}} scheme <symmetric, bits = 8, qmin = -127>
  %q = quant.qcast %x : tensor<4xbf16> to tensor<4x!quant.uniform<i8<-127:127>:bf16, 0.1>>
  %i = quant.scast %q : tensor<4x!quant.uniform<i8<-127:127>:bf16, 0.1>> to tensor<4xi8>
  return %i : tensor<4xi8>
}

// -----

// CHECK-LABEL: func @calls_and_returns
// CHECK-SAME: (%{{.*}}: tensor<4xi8>) -> tensor<4xi8>
// CHECK: call @callee(%{{.*}}) : (tensor<4xi8>) -> tensor<4xi8>
func.func private @callee(tensor<4x!quant.uniform<i8:f32, 0.5>>) -> tensor<4x!quant.uniform<i8:f32, 0.5>>
func.func @calls_and_returns(%q: tensor<4x!quant.uniform<i8:f32, 0.5>>) -> tensor<4x!quant.uniform<i8:f32, 0.5>> {
  %r = call @callee(%q) : (tensor<4x!quant.uniform<i8:f32, 0.5>>) -> tensor<4x!quant.uniform<i8:f32, 0.5>>
  return %r : tensor<4x!quant.uniform<i8:f32, 0.5>>
}

// -----

func.func @error_wide_storage(%x: tensor<4xf32>) -> tensor<4xi16> {
  // expected-error@+1 {{cannot import 'tensor<4x!quant.uniform<i16:f32, 1.000000e+00>>' into squant: storage of 16 bits: squant codes have 1 to 8 bits}}
  %q = quant.qcast %x : tensor<4xf32> to tensor<4x!quant.uniform<i16:f32, 1.0>>
  %i = quant.scast %q : tensor<4x!quant.uniform<i16:f32, 1.0>> to tensor<4xi16>
  return %i : tensor<4xi16>
}

// -----

func.func @error_scalar(%x: f32) -> f32 {
  // expected-error@+1 {{cannot import '!quant.uniform<i8:f32, 1.000000e+00>' into squant: a scalar quantized value}}
  %q = quant.qcast %x : f32 to !quant.uniform<i8:f32, 1.0>
  %d = quant.dcast %q : !quant.uniform<i8:f32, 1.0> to f32
  return %d : f32
}

// -----

// expected-error@+1 {{sub-channel blocks along more than one axis}}
func.func @error_two_block_axes(%w: tensor<4x64x!quant.uniform<i8:f32:{0:2, 1:32}, {{0.1, 0.2}, {0.3, 0.4}}>>) -> tensor<4x64xf32> {
  %d = quant.dcast %w : tensor<4x64x!quant.uniform<i8:f32:{0:2, 1:32}, {{0.1, 0.2}, {0.3, 0.4}}>> to tensor<4x64xf32>
  return %d : tensor<4x64xf32>
}
