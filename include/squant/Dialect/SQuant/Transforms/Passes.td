//===- Passes.td - squant transform passes ------------------*- tablegen -*-===//
//
// Each pass is a thin driver over a populate*Patterns function declared in
// Transforms.h, so users of the plugin and the CMake package can compose the
// patterns themselves.
//
//===----------------------------------------------------------------------===//

#ifndef SQUANT_DIALECT_SQUANT_TRANSFORMS_PASSES_TD
#define SQUANT_DIALECT_SQUANT_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def SQuantFoldZeroPoints : Pass<"squant-fold-zero-points"> {
  let summary = "rewrite dequantization into one FMA, w = q·s + b";
  let description = [{
    Rewrites `squant.dequantize` into `squant.fma_dequantize` with a bias
    b per group (SEMANTICS.md section 7, D6):

    | scheme | b | exact |
    |---|---|---|
    | stretched | 0.5·s | yes (s not subnormal) |
    | symmetric | -zp·s (0 when signed) | yes |
    | INT asymmetric | fl(-zp·s) | no |
    | float_zero_point | fma(s, -mid, zp) | no |

    Exact folds always fire. Inexact folds change the numerics of a
    standalone dequantize and fire only with `allow-inexact` (D7 allows them
    inside fused matmuls, which `squant-fuse-dequant-matmul` does itself).
    For constant scales the bias is folded to a constant; for dynamic scales
    it is computed once per group with elementwise ops on the scale tensor,
    outside any loop over the weight. A stretched scheme whose eps allows a
    subnormal scale (eps / qmax < 2^-125) is folded only for constant scales,
    after checking every group.
  }];
  let options = [
    Option<"allowInexact", "allow-inexact", "bool", /*default=*/"false",
           "also fold INT-asymmetric and float zero points (changes numerics "
           "within D7's 2 ulp(M))">
  ];
  let dependentDialects = ["::mlir::squant::SQuantDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::tensor::TensorDialect"];
}

def SQuantToLut : Pass<"squant-to-lut"> {
  let summary = "rewrite affine dequantization into an exact lookup table";
  let description = [{
    Rewrites `squant.dequantize` into `squant.lut_dequantize` with an int8
    table T and an fp32 `s_table = s·2^-e` when section 6.3 rule 1 holds
    (bit-exact): stretched with bits <= 7 (T = 2q + 1, e = 1), symmetric
    (T = q - zp), and INT asymmetric whose constant zero point is the same in
    every group. The indices are `q - qmin` (unsigned).

    Where rule 1 does not hold the IR is left unchanged and an optimization
    remark says why (D9). With `float-lut`, such a dequantize whose scales and
    zero points are constants becomes a per-group float table (rule 2),
    computed with the scheme's own rounding sequence, so still bit-exact.
  }];
  let options = [
    Option<"floatLut", "float-lut", "bool", /*default=*/"false",
           "build per-group float tables (rule 2) where no int8 table exists">
  ];
  let dependentDialects = ["::mlir::squant::SQuantDialect",
                           "::mlir::arith::ArithDialect"];
}

def SQuantFuseDequantMatmul : Pass<"squant-fuse-dequant-matmul"> {
  let summary = "fuse weight dequantization into its matmul: squant.qmatmul";
  let description = [{
    A `squant.dequantize`, `squant.fma_dequantize` or `squant.lut_dequantize`
    whose result is the weight operand of a contraction (`linalg.matmul`,
    with or without transposed operands, `linalg.matvec`, `linalg.vecmat`,
    `linalg.batch_matmul` with a broadcast weight, or a contraction
    `linalg.generic`) becomes one `squant.qmatmul`:

    - affine schemes take the one-FMA form (D7 allows the inexact bias of
      INT-asymmetric and float zero points here); per-tensor and per-axis
      scales are expanded to per-row groups of K;
    - LUT forms keep their table;
    - a weight stored [K, N] is transposed to [N, K] (folded for constants);
    - an accumulator that is not a zero fill is added back.

    The dequantized value is kept for any other users. Groups must run along
    K: a weight grouped along N is left alone with a reason.
  }];
  let dependentDialects = ["::mlir::squant::SQuantDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

def SQuantPackWeights : Pass<"squant-pack-weights"> {
  let summary = "store the constant codes of fused matmuls packed";
  let description = [{
    A `squant.qmatmul` whose weight is a constant code tensor [N, K] of a
    form narrower than 8 bits gets it as `squant.unpack` of constant bytes
    in the named layout (`#squant.packed`, version 1): each row of K codes
    in ceil(K·bits/8) bytes. Lowerings read the bytes directly (sub-byte
    decode in registers), so the weight costs bits/8 of a byte per code in
    memory. Runs after fusion, where the weight already has its [N, K]
    orientation (packing a [K, N] weight before its transpose would pack
    along N).

    ```mlir
    %y = squant.qmatmul %x, %codes ...        // %codes: dense<...> : tensor<8x64xi8>
    // becomes
    %p = arith.constant dense<...> : tensor<8x16xi8>
    %q = squant.unpack %p layout <order = lsb_first, bits = 2> : tensor<8x16xi8> -> tensor<8x64xi8>
    %y = squant.qmatmul %x, %q ...
    ```
  }];
  let options = [
    Option<"order", "order", "std::string", /*default=*/"\"lsb_first\"",
           "bit order of the packed rows: lsb_first or msb_first">
  ];
  let dependentDialects = ["::mlir::squant::SQuantDialect",
                           "::mlir::arith::ArithDialect"];
}

def SQuantQuantizeConstants : Pass<"squant-quantize-constants"> {
  let summary = "quantize constant weights at compile time";
  let description = [{
    Compile-time weight quantization, in two steps:

    1. `squant.choose_qparams`, `squant.quantize` and `squant.pack` whose
       inputs are constants fold to constants (the reference numerics,
       bit-exact). `squant.dequantize` is not folded: the weight stays
       quantized for the rewrites that follow.
    2. A float constant (`dense` or `dense_resource`) that is the weight
       operand of a contraction (the operand indexed by N and K, as in
       `squant-fuse-dequant-matmul`) is quantized with the scheme of its
       `squant.scheme` attribute (a `#squant.affine` whose granularity is
       used as written) or, without one, of the `scheme`/`bits`/`group-size`/
       `storage` options (groups along K; `group-size=0` means one group per
       output channel). The weight operand becomes `squant.dequantize` of
       constant codes, scales and zero points; with `pack`, the codes are
       stored packed (`#squant.packed`, version 1) and unpacked by
       `squant.unpack`.

    A non-finite weight is an error at the constant's location (D5).
  }];
  let options = [
    Option<"scheme", "scheme", "std::string", /*default=*/"\"\"",
           "kind of scheme for weights without a squant.scheme attribute "
           "(asymmetric, symmetric, stretched, float_zero_point, ...); empty: "
           "only attributed weights">,
    Option<"bits", "bits", "unsigned", /*default=*/"4", "bits per code">,
    Option<"groupSize", "group-size", "int64_t", /*default=*/"128",
           "group size along K; 0 for one group per output channel">,
    Option<"storage", "storage", "std::string", /*default=*/"\"\"",
           "signed or unsigned codes (default: unsigned for float_zero_point, "
           "signed otherwise)">,
    Option<"pack", "pack", "std::string", /*default=*/"\"none\"",
           "store codes packed: none, lsb_first or msb_first">
  ];
  let dependentDialects = ["::mlir::squant::SQuantDialect",
                           "::mlir::arith::ArithDialect"];
}

def SQuantImportQuant : Pass<"squant-import-quant", "::mlir::ModuleOp"> {
  let summary = "import upstream `quant` IR into squant";
  let description = [{
    Rewrites MLIR's `quant` dialect into squant:

    - tensors of `!quant.uniform` (per tensor, per axis, and sub-channel
      types whose blocks run along one axis) become tensors of their storage
      integers, in function signatures, calls and returns too;
    - `quant.dcast` becomes `squant.dequantize`, `quant.qcast` becomes
      `squant.quantize`, with the type's scales (rounded to the expressed
      type) and zero points materialized as constants; `quant.scast`
      disappears (storage and quantized tensors are the same values);
    - the scheme is `symmetric` when the storage is signed and every zero
      point is 0, `asymmetric` otherwise, with the storage range as
      qmin/qmax.

    Quantize keeps squant's semantics: multiply by the reciprocal of the
    scale and round half to even (SEMANTICS.md section 2). Upstream's own
    `lower-quant-ops` divides and converts with truncation (`fptosi`), so the
    two differ on ties and on values just below a tie; see
    docs/Numerics.md.

    What squant cannot represent is an error at the op or function that
    carries it: storage wider than 8 bits, scalar quantized values,
    sub-channel blocks along more than one axis, non-uniform quantized
    types.
  }];
  let dependentDialects = ["::mlir::squant::SQuantDialect",
                           "::mlir::arith::ArithDialect"];
}

def SQuantRaiseDequant : Pass<"squant-raise-dequant"> {
  let summary = "raise front-end weight dequantization to squant ops";
  let description = [{
    Front ends (torch-mlir's linalg lowering, IREE inputs, hand-written
    kernels) spell weight dequantization as an elementwise `linalg.generic`
    over integer codes: ext{s,u}i, {s,u}itofp, subtract a zero point, multiply
    by a scale (or (q - mid)·s + z, or fma(q, s, b)), with group broadcast
    through indexing maps such as `(d0, d1 floordiv 32)`, and with codes
    possibly packed in i8 or i32 containers and unpacked with shifts and
    masks indexed by `linalg.index`.

    The pass first fuses chains of elementwise generics (as front ends emit
    them before fusion), then recognises a generic by **what it computes**:
    its body is evaluated on every code value of the storage (and, for packed
    codes, every slot of the container) with several random scales and zero
    points, and compared bit for bit with squant's reference numerics for
    each candidate scheme: symmetric, INT asymmetric (zero point from an
    integer tensor, a constant integral float tensor or a body constant),
    float zero point (tinygemm), the one-FMA form, in both code signednesses
    and both packing orders. A match becomes `squant.dequantize` (or
    `squant.fma_dequantize`), with `squant.unpack` for packed codes and
    `arith.extf` for narrower scales. Anything else is left untouched.

    Only interpretable bodies are considered: arithmetic, casts, shifts,
    masks, constants, `linalg.index` and `math.fma`; no comparisons,
    selects or control flow.
  }];
  let dependentDialects = ["::mlir::squant::SQuantDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect"];
}

#endif // SQUANT_DIALECT_SQUANT_TRANSFORMS_PASSES_TD
