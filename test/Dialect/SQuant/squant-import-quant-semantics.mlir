// RUN: mlir-opt %s --lower-quant-ops --canonicalize | FileCheck %s --check-prefixes=BOTH,UPSTREAM
// RUN: squant-opt %s --squant-import-quant --canonicalize | FileCheck %s --check-prefixes=BOTH,SQUANT

// The same upstream-quant IR on constants, evaluated two ways: upstream's
// own lowering (folded by arith) and squant's import (folded by the
// reference numerics). Dequantization agrees bit for bit; quantization
// differs where upstream truncates (fptosi) and squant rounds half to even
// after multiplying by the reciprocal (SEMANTICS.md section 2).

// BOTH-LABEL: func @dequantize
func.func @dequantize() -> tensor<6xf32> {
  // BOTH: arith.constant dense<[-1.250000e+01, 0.000000e+00, 3.000000e-01, 4.000000e-01, 8.000000e+00, 1.300000e+01]> : tensor<6xf32>
  %c = arith.constant dense<[-128, -3, 0, 1, 77, 127]> : tensor<6xi8>
  %q = quant.scast %c : tensor<6xi8> to tensor<6x!quant.uniform<i8:f32, 0.1:-3>>
  %d = quant.dcast %q : tensor<6x!quant.uniform<i8:f32, 0.1:-3>> to tensor<6xf32>
  return %d : tensor<6xf32>
}

// BOTH-LABEL: func @quantize
func.func @quantize() -> tensor<6xi8> {
  /// x / 0.5 + 1 = [1.5, 0.5, 2.5, -1.6, 5, 1.52]: truncation gives
  /// [1, 0, 2, -1, 5, 1]; squant rounds x * 2 first (0.5 -> 0, -0.5 -> -0,
  /// 1.5 -> 2, -2.6 -> -3, 0.52 -> 1), then adds 1.
  // UPSTREAM: arith.constant dense<[1, 0, 2, -1, 5, 1]> : tensor<6xi8>
  // SQUANT: arith.constant dense<[1, 1, 3, -2, 5, 2]> : tensor<6xi8>
  %x = arith.constant dense<[0.25, -0.25, 0.75, -1.3, 2.0, 0.26]> : tensor<6xf32>
  %q = quant.qcast %x : tensor<6xf32> to tensor<6x!quant.uniform<i8:f32, 0.5:1>>
  %i = quant.scast %q : tensor<6x!quant.uniform<i8:f32, 0.5:1>> to tensor<6xi8>
  return %i : tensor<6xi8>
}
