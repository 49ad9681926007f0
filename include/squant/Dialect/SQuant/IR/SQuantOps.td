//===- SQuantOps.td - squant operations ---------------------*- tablegen -*-===//
//
// Each op's description gives its formula, an example and its constraints
// (C1), (C2)...; the verifier carries the same labels and invalid.mlir has a
// test named after each.
//
//===----------------------------------------------------------------------===//

#ifndef SQUANT_DIALECT_SQUANT_IR_SQUANTOPS_TD
#define SQUANT_DIALECT_SQUANT_IR_SQUANTOPS_TD

include "squant/Dialect/SQuant/IR/SQuantAttrs.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"

def SQuant_FloatTensor : RankedTensorOf<[F32, BF16, F16]>;
def SQuant_CodeTensor : RankedTensorOf<[AnySignlessInteger]>;
def SQuant_ZeroPointTensor : RankedTensorOf<[AnySignlessInteger, F32, BF16, F16]>;
def SQuant_TableTensor : RankedTensorOf<[I8, F32, BF16, F16]>;
def SQuant_ByteTensor : RankedTensorOf<[I8, I32]>;

//===----------------------------------------------------------------------===//
// choose_qparams
//===----------------------------------------------------------------------===//

def SQuant_ChooseQParamsOp : SQuant_Op<"choose_qparams", [Pure]> {
  let summary = "choose scales (and zero points) of an affine scheme";
  let description = [{
    Computes each group's scale and, for schemes with a zero-point operand,
    its zero point from the float tensor `input`, with the rule of the
    scheme's `kind` (see `#squant.affine` and docs/Numerics.md). Examples of
    the rules: asymmetric `s = max(fl(fl(mx' - mn') / (qmax - qmin)), eps)`,
    `zp = clamp(qmin - rint(fl(mn' / s)), qmin, qmax)`; stretched
    `s = fl(max(min(fl(b·mean|x|), max|x|), eps) / (2^(b-1) - 0.5))` with the
    mean summed in the 8-lane cascade order (D2).

    On a constant input it folds to constants computed by the reference
    library: compile-time weight quantization, bit-exact with the spec.

    ```mlir
    %s, %zp = squant.choose_qparams %w
        #squant.affine<asymmetric, bits = 4, axis = 1, group_size = 32>
        : tensor<8x64xf32> -> tensor<8x2xf32>, tensor<8x2xi8>
    ```

    Constraints:
    (C1) the scheme's axis is < rank(input) and its group size divides the
         dimension along it (ragged groups are an error, D4).
    (C2) `scale` has the scheme's parameter shape and input's element type.
    (C3) `zero_point` is present iff the scheme has a zero-point operand
         (asymmetric kinds, float_zero_point).
    (C4) `zero_point` has the parameter shape; an integer type of at least
         `bits` bits for integer zero points, input's element type for
         float_zero_point.
    (C5) a constant input is finite (D5).
  }];
  let arguments = (ins SQuant_FloatTensor:$input,
                       SQuant_AffineSchemeAttr:$scheme);
  let results = (outs SQuant_FloatTensor:$scale,
                      Optional<SQuant_ZeroPointTensor>:$zero_point);
  let assemblyFormat = [{
    $input `scheme` $scheme attr-dict `:` type($input) `->` type($scale) (`,` type($zero_point)^)?
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// quantize
//===----------------------------------------------------------------------===//

def SQuant_QuantizeOp : SQuant_Op<"quantize", [Pure]> {
  let summary = "quantize float values to integer codes";
  let description = [{
    Maps each value to the code of its group's parameters (SEMANTICS.md):

        INT domain:  q = clamp(rint(fl(x · fl(1/s))) + zp, qmin, qmax)
        stretched:   q = rint(fl(fl(clamp(x, -m, m) / s) - 0.5)),  m = fl(s·(2^(b-1) - 0.5))
        float zp:    q = clamp(rint(fl(fl(x - fl(zp - fl(s·mid))) / s)), qmin, qmax)

    Folds on constant operands (reference library).

    ```mlir
    %q = squant.quantize %w, %s, %zp
        #squant.affine<asymmetric, bits = 4, axis = 1, group_size = 32>
        : tensor<8x64xf32>, tensor<8x2xf32>, tensor<8x2xi8> -> tensor<8x64xi8>
    ```

    Constraints:
    (C1) axis and group size as in choose_qparams.
    (C2) `scale` has the parameter shape and input's element type.
    (C3) `zero_point` is present iff the scheme has a zero-point operand.
    (C4) `zero_point` has the parameter shape and the zero-point domain's type.
    (C5) `result` has input's shape and an integer type of at least `bits`
         bits.
    (C6) a constant input is finite (D5).
  }];
  let arguments = (ins SQuant_FloatTensor:$input,
                       SQuant_FloatTensor:$scale,
                       Optional<SQuant_ZeroPointTensor>:$zero_point,
                       SQuant_AffineSchemeAttr:$scheme);
  let results = (outs SQuant_CodeTensor:$result);
  let assemblyFormat = [{
    $input `,` $scale (`,` $zero_point^)? `scheme` $scheme attr-dict `:`
    type($input) `,` type($scale) (`,` type($zero_point)^)? `->` type($result)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// dequantize
//===----------------------------------------------------------------------===//

def SQuant_DequantizeOp : SQuant_Op<"dequantize", [Pure]> {
  let summary = "dequantize integer codes with an affine scheme";
  let description = [{
    Bit-exact with the scheme's reference sequence (D6):

        INT domain and stretched:  w = fl((q - zp) · s)       (q - zp exact)
        float_zero_point:          w = fl(fl((q - mid) · s) + zp)

    The one-FMA form `w = fl(q·s + b)` replaces it only through the
    `squant-fold-zero-points` rewrite, where it is exact or allowed (D6, D7).
    Folds on constant operands.

    ```mlir
    %w = squant.dequantize %q, %s #squant.affine<stretched, bits = 2, axis = 1, group_size = 32>
        : tensor<8x64xi8>, tensor<8x2xf32> -> tensor<8x64xf32>
    ```

    Constraints:
    (C1) axis and group size as in choose_qparams, against the codes' shape.
    (C2) `scale` has the parameter shape; its element type is the result's.
    (C3) `zero_point` is present iff the scheme has a zero-point operand.
    (C4) `zero_point` has the parameter shape and the zero-point domain's type.
    (C5) the codes have the result's shape and at least `bits` bits.
  }];
  let arguments = (ins SQuant_CodeTensor:$input,
                       SQuant_FloatTensor:$scale,
                       Optional<SQuant_ZeroPointTensor>:$zero_point,
                       SQuant_AffineSchemeAttr:$scheme);
  let results = (outs SQuant_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $scale (`,` $zero_point^)? `scheme` $scheme attr-dict `:`
    type($input) `,` type($scale) (`,` type($zero_point)^)? `->` type($result)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// fma_dequantize
//===----------------------------------------------------------------------===//

def SQuant_FmaDequantizeOp : SQuant_Op<"fma_dequantize", [Pure]> {
  let summary = "dequantize integer codes with one FMA: w = q·s + b";
  let description = [{
    The one-FMA form of dequantization (SEMANTICS.md section 7):

        w = fma(q, s[g], b[g])          (one rounding, in the scales' type)

    `squant-fold-zero-points` produces it from `squant.dequantize` where it is
    exact (stretched b = 0.5·s, symmetric) or where an option allows the
    inexact folds of D7. Folds on constant operands.

    ```mlir
    %w = squant.fma_dequantize %q, %s, %b form(<bits = 2, axis = 1, group_size = 32>)
        : tensor<8x64xi8>, tensor<8x2xf32>, tensor<8x2xf32> -> tensor<8x64xf32>
    ```

    Constraints:
    (C1) the form's axis is < rank and its group size divides the dimension.
    (C2) `scale` and `bias` have the form's parameter shape and the result's
         element type.
    (C3) the codes have the result's shape and at least `bits` bits.
  }];
  let arguments = (ins SQuant_CodeTensor:$input,
                       SQuant_FloatTensor:$scale,
                       SQuant_FloatTensor:$bias,
                       SQuant_FmaFormAttr:$form);
  let results = (outs SQuant_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $scale `,` $bias `form` `(` $form `)` attr-dict `:`
    type($input) `,` type($scale) `,` type($bias) `->` type($result)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// lut_dequantize
//===----------------------------------------------------------------------===//

def SQuant_LutDequantizeOp : SQuant_Op<"lut_dequantize", [Pure]> {
  let summary = "dequantize table indices through a lookup table";
  let description = [{
    Each code is an unsigned index into its table (SEMANTICS.md section 6):

        int8 table:  w = fl(s_table[g] · T[t][idx])      (fp32 result)
        float table: w = fl(scale[g] · lut[t][idx])     (w = lut[t][idx] without scales)

    where g is the element's scale group and t its table.

    ```mlir
    %w = squant.lut_dequantize %idx, %t scales(%st) #squant.lut<bits = 2, axis = 1, group_size = 32>
        : tensor<8x64xi8>, tensor<4xi8>, tensor<8x2xf32> -> tensor<8x64xf32>
    ```

    Constraints:
    (C1) the indices have the result's shape and at least `bits` bits.
    (C2) the table has the table grouping's shape followed by 2^bits entries.
    (C3) an int8 table needs f32 scales and an f32 result.
    (C4) a float table has the result's element type; its scales, if any, too.
    (C5) scales have the scale grouping's shape; axes < rank and group sizes
         divide their dimensions.
  }];
  let arguments = (ins SQuant_CodeTensor:$input,
                       SQuant_TableTensor:$table,
                       Optional<SQuant_FloatTensor>:$scales,
                       SQuant_LutSchemeAttr:$scheme);
  let results = (outs SQuant_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $table (`scales` `(` $scales^ `)`)? `scheme` $scheme attr-dict `:`
    type($input) `,` type($table) (`,` type($scales)^)? `->` type($result)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// pack / unpack
//===----------------------------------------------------------------------===//

def SQuant_PackOp : SQuant_Op<"pack", [Pure]> {
  let summary = "pack sub-byte codes into bytes under a named layout";
  let description = [{
    Packs the last dimension of `input` into ceil(cols·bits/8) bytes per row
    with the byte format of `layout` (`#squant.packed`). Each code keeps its
    low `bits` bits. The container is i8, or i32 words holding four bytes
    each in little-endian order (rows padded to whole words), as front ends
    that pack into int32 do. Folds on a constant input.

    ```mlir
    %p = squant.pack %q #squant.packed<order = msb_first, bits = 4, storage = unsigned>
        : tensor<8x64xi8> -> tensor<8x32xi8>
    ```

    Constraints:
    (C1) input and result have the same rank >= 1 and the same leading dims.
    (C2) the result's last dim is ceil(cols·bits/8) bytes, in containers of
         the result's element width.
    (C3) the input element type has at least `bits` bits.
  }];
  let arguments = (ins SQuant_CodeTensor:$input,
                       SQuant_PackedLayoutAttr:$layout);
  let results = (outs SQuant_ByteTensor:$result);
  let assemblyFormat = [{
    $input `layout` $layout attr-dict `:` type($input) `->` type($result)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

def SQuant_UnpackOp : SQuant_Op<"unpack", [Pure]> {
  let summary = "unpack bytes into sub-byte codes under a named layout";
  let description = [{
    The inverse of `squant.pack`: reads `cols` codes of `bits` bits from each
    row of bytes and sign-extends them when the layout's storage is signed.
    It does not fold: a packed constant weight stays packed (that is why it
    was packed) until a lowering reads it in its byte layout.

    ```mlir
    %q = squant.unpack %p #squant.packed<order = lsb_first, bits = 3>
        : tensor<8x24xi8> -> tensor<8x64xi8>
    ```

    Constraints: as `squant.pack` with input and result swapped.
  }];
  let arguments = (ins SQuant_ByteTensor:$input,
                       SQuant_PackedLayoutAttr:$layout);
  let results = (outs SQuant_CodeTensor:$result);
  let assemblyFormat = [{
    $input `layout` $layout attr-dict `:` type($input) `->` type($result)
  }];
  let hasVerifier = 1;
  }

//===----------------------------------------------------------------------===//
// qmatmul
//===----------------------------------------------------------------------===//

def SQuant_QMatmulOp : SQuant_Op<"qmatmul", [Pure, AttrSizedOperandSegments]> {
  let summary = "activations times dequantized weights, in one op";
  let description = [{
    `y[..., m, n] = sum_k x[..., m, k] · w[n, k]` with the weight `w` [N, K]
    dequantized on the fly from its codes in the recorded form:

        #squant.fma:  w[n, k] = fma(q[n, k], s[n, k/g], b[n, k/g])   (axis = 1, group_size = g)
        #squant.lut:  w[n, k] = s_table[n, k/g] · T[t(n, k)][q[n, k]]   (or a float table)

    Batch dimensions lead the activations; a rank-1 input [K] is the GEMV
    case with a result [N]. Because s and b are constant over a group, a
    lowering may hoist them out of the K loop:
    `sum_k x_k (s q_k + b) = s · sum_k x_k q_k + b · sum_k x_k`; its rounding
    then scales with |q·s| + |b| rather than |w| (docs/Numerics.md,
    "Factorized accumulation").

    ```mlir
    %y = squant.qmatmul %x, %q scales(%s) bias(%b)
        form(#squant.fma<bits = 4, storage = unsigned, axis = 1, group_size = 128>)
        : (tensor<1x4096xf32>, tensor<4096x4096xi8>, tensor<4096x32xf32>,
           tensor<4096x32xf32>) -> tensor<1x4096xf32>
    ```

    Constraints:
    (C1) input is [..., M, K] or [K]; weight is [N, K] integer codes of at
         least `bits` bits; the result is [..., M, N] (or [N]) of input's
         element type.
    (C2) fma form: groups along K (axis 1, a group size g that divides K);
         `scales` and `bias` are present, [N, K/g] of one float type; no
         `table`.
    (C3) lut form: `table` is present; scale axis (if any) is 1 and table
         axis (if any) 0 or 1; group sizes divide K; the table and scales
         have the shapes of `squant.lut_dequantize` for the weight; no `bias`.
  }];
  let arguments = (ins SQuant_FloatTensor:$input,
                       SQuant_CodeTensor:$weight,
                       Optional<SQuant_FloatTensor>:$scales,
                       Optional<SQuant_FloatTensor>:$bias,
                       Optional<SQuant_TableTensor>:$table,
                       AnyAttrOf<[SQuant_FmaFormAttr, SQuant_LutSchemeAttr]>:$form);
  let results = (outs SQuant_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`scales` `(` $scales^ `)`)? (`bias` `(` $bias^ `)`)?
    (`table` `(` $table^ `)`)? `form` `(` $form `)` attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

#endif // SQUANT_DIALECT_SQUANT_IR_SQUANTOPS_TD
