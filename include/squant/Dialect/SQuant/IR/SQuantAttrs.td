//===- SQuantAttrs.td - squant attributes and enums ---------*- tablegen -*-===//
//
// Schemes are attributes; everything of a model's size (scales, zero points,
// tables) is an SSA operand of the ops that use a scheme.
//
//===----------------------------------------------------------------------===//

#ifndef SQUANT_DIALECT_SQUANT_IR_SQUANTATTRS_TD
#define SQUANT_DIALECT_SQUANT_IR_SQUANTATTRS_TD

include "squant/Dialect/SQuant/IR/SQuantBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

def SQuant_SchemeKind : I32EnumAttr<"SchemeKind",
    "how an affine scheme chooses its scale and zero point", [
      I32EnumAttrCase<"Asymmetric", 0, "asymmetric">,
      I32EnumAttrCase<"AsymmetricNoPreserveZero", 1, "asymmetric_no_preserve_zero">,
      I32EnumAttrCase<"Symmetric", 2, "symmetric">,
      I32EnumAttrCase<"SymmetricNoClippingErr", 3, "symmetric_no_clipping_err">,
      I32EnumAttrCase<"Stretched", 4, "stretched">,
      I32EnumAttrCase<"FloatZeroPoint", 5, "float_zero_point">
    ]> {
  let cppNamespace = "::mlir::squant";
  let genSpecializedAttr = 0;
}

def SQuant_Storage : I32EnumAttr<"Storage",
    "whether integer codes are read as signed or unsigned", [
      I32EnumAttrCase<"Signed", 0, "signed">,
      I32EnumAttrCase<"Unsigned", 1, "unsigned">
    ]> {
  let cppNamespace = "::mlir::squant";
  let genSpecializedAttr = 0;
}

def SQuant_PackOrder : I32EnumAttr<"PackOrder",
    "bit order of packed sub-byte codes", [
      I32EnumAttrCase<"LsbFirst", 0, "lsb_first">,
      I32EnumAttrCase<"MsbFirst", 1, "msb_first">
    ]> {
  let cppNamespace = "::mlir::squant";
  let genSpecializedAttr = 0;
}

class SQuant_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<SQuant_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

//===----------------------------------------------------------------------===//
// #squant.affine
//===----------------------------------------------------------------------===//

def SQuant_AffineSchemeAttr : SQuant_Attr<"AffineScheme", "affine"> {
  let summary = "an affine quantization scheme: rule, bits, range, granularity";
  let description = [{
    Describes how float weights map to `bits`-bit integer codes and back
    (SEMANTICS.md sections 2-5):

    | kind | choose | dequantize |
    |---|---|---|
    | `asymmetric` | s = (max(mx,0) - min(mn,0)) / (qmax - qmin), zp = qmin - rint(min(mn,0)/s) | w = (q - zp)·s |
    | `asymmetric_no_preserve_zero` | as above without forcing 0 into the range | w = (q - zp)·s |
    | `symmetric` | s = amax / ((qmax - qmin)/2), zp = (qmax + qmin + 1)/2 implied | w = (q - zp)·s |
    | `symmetric_no_clipping_err` | s = max(mn/qmin, mx/qmax), zp implied | w = (q - zp)·s |
    | `stretched` | s = min(b·mean\|x\|, max\|x\|) / (2^(b-1) - 0.5), zp = -0.5 implied | w = (q + 0.5)·s |
    | `float_zero_point` | s = (mx - mn)/(qmax - qmin), zp = mn + s·mid (float) | w = (q - mid)·s + zp |

    Parameters: `bits` (1-8); `storage` (`signed` or `unsigned` codes,
    default `signed`); granularity: no `axis` means per tensor, `axis` alone
    per axis (one parameter per index along it), `axis` and `group_size` per
    group of `group_size` consecutive elements along `axis`; `qmin`/`qmax`
    narrow the code range (default: the full range of `bits`); `eps` is the
    smallest scale (default 2^-23 for `stretched`, 2^-126 otherwise, D3).

    ```mlir
    #squant.affine<float_zero_point, bits = 4, storage = unsigned, axis = 1, group_size = 128>
    #squant.affine<stretched, bits = 2, axis = 1, group_size = 32>
    #squant.affine<symmetric, bits = 8, axis = 0, eps = 1.0e-06 : f32>
    ```

    Constraints:
    (A1) 1 <= bits <= 8.
    (A2) `stretched` and `symmetric_no_clipping_err` use signed codes.
    (A3) qmin < qmax, both inside the range of `bits` in `storage`; the
         stretched grid fixes its range and takes no qmin/qmax.
    (A4) `group_size` needs `axis`; axis >= 0 and group_size >= 1.
    (A5) eps is a finite positive f32.
  }];
  let parameters = (ins
    EnumParameter<SQuant_SchemeKind>:$kind,
    "unsigned":$bits,
    DefaultValuedParameter<"::mlir::squant::Storage",
                           "::mlir::squant::Storage::Signed">:$storage,
    OptionalParameter<"std::optional<int64_t>">:$axis,
    OptionalParameter<"std::optional<int64_t>">:$group_size,
    OptionalParameter<"std::optional<int64_t>">:$qmin,
    OptionalParameter<"std::optional<int64_t>">:$qmax,
    OptionalParameter<"::mlir::FloatAttr">:$eps
  );
  let assemblyFormat = [{
    `<` $kind `,` struct($bits, $storage, $axis, $group_size, $qmin, $qmax, $eps) `>`
  }];
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// The scheme as the reference library describes it.
    ::mlir::squant::ref::Scheme toReference(
        ::mlir::squant::ref::FloatFormat format) const;
    bool isSigned() const { return getStorage() == Storage::Signed; }
    /// True when quantize / dequantize take a zero-point operand.
    bool hasZeroPointOperand() const;
    /// True when the zero point is an integer (INT domain).
    bool hasIntZeroPoint() const;
    /// Shape of the scale / zero-point tensor for a tensor of `shape`.
    ::llvm::SmallVector<int64_t> getParamShape(
        ::llvm::ArrayRef<int64_t> shape) const;
    /// The grouping the reference library uses for a tensor of `shape`.
    ::mlir::squant::ref::Grouping getGrouping(
        ::llvm::ArrayRef<int64_t> shape) const;
  }];
}

//===----------------------------------------------------------------------===//
// #squant.lut
//===----------------------------------------------------------------------===//

def SQuant_LutSchemeAttr : SQuant_Attr<"LutScheme", "lut"> {
  let summary = "a lookup-table dequantization scheme";
  let description = [{
    Codes are `bits`-bit unsigned indices idx = q - qmin into a table of
    2^bits entries (SEMANTICS.md section 6):

        w = s_table[group(i)] * T[table(i)][idx]      (int8 table, 6.1)
        w = scale[group(i)] * lut[table(i)][idx]     (float table, 6.2; scale = 1 without scales)

    `axis`/`group_size` give the granularity of the scales (as in
    `#squant.affine`); `lut_axis`/`lut_group_size` give the granularity of the
    tables: none means one table per tensor, `lut_axis` alone one per index
    along it (per row for `lut_axis = 0`), both one per group.

    ```mlir
    #squant.lut<bits = 2, axis = 1, group_size = 32>             // int8 T, fp32 s_table per group
    #squant.lut<bits = 4, lut_axis = 1, lut_group_size = 128>    // float table per group, no scales
    ```

    Constraints:
    (L1) 1 <= bits <= 8.
    (L2) `group_size` needs `axis`, `lut_group_size` needs `lut_axis`; axes
         >= 0, group sizes >= 1.
  }];
  let parameters = (ins
    "unsigned":$bits,
    OptionalParameter<"std::optional<int64_t>">:$axis,
    OptionalParameter<"std::optional<int64_t>">:$group_size,
    OptionalParameter<"std::optional<int64_t>">:$lut_axis,
    OptionalParameter<"std::optional<int64_t>">:$lut_group_size
  );
  let assemblyFormat = [{
    `<` struct($bits, $axis, $group_size, $lut_axis, $lut_group_size) `>`
  }];
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Shape of the scale tensor for codes of `shape`.
    ::llvm::SmallVector<int64_t> getScaleShape(
        ::llvm::ArrayRef<int64_t> shape) const;
    /// Shape of the table tensor for codes of `shape`: the table grouping's
    /// parameter shape followed by 2^bits.
    ::llvm::SmallVector<int64_t> getTableShape(
        ::llvm::ArrayRef<int64_t> shape) const;
    ::mlir::squant::ref::Grouping getScaleGrouping(
        ::llvm::ArrayRef<int64_t> shape) const;
    ::mlir::squant::ref::Grouping getTableGrouping(
        ::llvm::ArrayRef<int64_t> shape) const;
  }];
}

//===----------------------------------------------------------------------===//
// #squant.fma
//===----------------------------------------------------------------------===//

def SQuant_FmaFormAttr : SQuant_Attr<"FmaForm", "fma"> {
  let summary = "the one-FMA dequantization form w = q·s + b";
  let description = [{
    Codes q (read as `storage` integers of `bits` bits) dequantize as one
    fused multiply-add with the scale s and bias b of their group
    (SEMANTICS.md section 7): `w = fma(q, s[g], b[g])`, one rounding. The
    granularity is that of `#squant.affine`: no `axis` means per tensor,
    `axis` alone per axis, both per group of `group_size` along `axis`.
    Inside `squant.qmatmul` the weight is [N, K] and its groups run along K:
    `axis = 1` with a `group_size`.

    ```mlir
    #squant.fma<bits = 4, storage = unsigned, axis = 1, group_size = 128>
    ```

    Constraints:
    (F1) 1 <= bits <= 8.
    (F2) `group_size` needs `axis`; axis >= 0 and group_size >= 1.
  }];
  let parameters = (ins
    "unsigned":$bits,
    DefaultValuedParameter<"::mlir::squant::Storage",
                           "::mlir::squant::Storage::Signed">:$storage,
    OptionalParameter<"std::optional<int64_t>">:$axis,
    OptionalParameter<"std::optional<int64_t>">:$group_size
  );
  let assemblyFormat = [{
    `<` struct($bits, $storage, $axis, $group_size) `>`
  }];
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    bool isSigned() const { return getStorage() == Storage::Signed; }
    /// Shape of the scale / bias tensor for codes of `shape`.
    ::llvm::SmallVector<int64_t> getParamShape(
        ::llvm::ArrayRef<int64_t> shape) const;
    ::mlir::squant::ref::Grouping getGrouping(
        ::llvm::ArrayRef<int64_t> shape) const;
  }];
}

//===----------------------------------------------------------------------===//
// #squant.packed
//===----------------------------------------------------------------------===//

def SQuant_PackedLayoutAttr : SQuant_Attr<"PackedLayout", "packed"> {
  let summary = "a named, versioned byte layout of sub-byte codes";
  let description = [{
    Codes of `bits` bits packed along the last dimension into i8 bytes, each
    row padded to whole bytes (docs/Numerics.md, "Packed layouts"):

    - `lsb_first`: code i of a row occupies bits [i·bits, (i+1)·bits) of a
      little-endian bit stream (stream bit j = bit j%8 of byte j/8). 4 bits:
      `byte = q[2j] | q[2j+1] << 4`.
    - `msb_first`: stream bit j = bit 7 - j%8 of byte j/8, codes written most
      significant bit first. 4 bits: `byte = q[2j] << 4 | q[2j+1]` (the order
      torchao hands to tinygemm).

    `storage` says whether unpacking sign-extends. `version` names the byte
    format; this is version 1.

    ```mlir
    #squant.packed<order = msb_first, bits = 4, storage = unsigned>
    ```

    Constraints: (P1) 1 <= bits <= 8. (P2) version == 1.
  }];
  let parameters = (ins
    EnumParameter<SQuant_PackOrder>:$order,
    "unsigned":$bits,
    DefaultValuedParameter<"::mlir::squant::Storage",
                           "::mlir::squant::Storage::Signed">:$storage,
    DefaultValuedParameter<"unsigned", "1">:$version
  );
  let assemblyFormat = [{
    `<` struct($order, $bits, $storage, $version) `>`
  }];
  let genVerifyDecl = 1;
}

#endif // SQUANT_DIALECT_SQUANT_IR_SQUANTATTRS_TD
