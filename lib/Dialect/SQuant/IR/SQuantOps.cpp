//===- SQuantOps.cpp - squant op verifiers ---------------------------------===//
//
// Each check carries the label of the constraint it enforces in the op's
// description; test/Dialect/SQuant/invalid.mlir has a case named after it.
//
//===----------------------------------------------------------------------===//

#include "squant/Dialect/SQuant/IR/SQuant.h"

#include "squant/Dialect/SQuant/IR/ConstantValues.h"

#include "mlir/IR/Matchers.h"
#include "mlir/IR/TypeUtilities.h"
#include "squant/Reference/Pack.h"
#include "llvm/Support/FormatVariadic.h"

#define GET_OP_CLASSES
#include "squant/Dialect/SQuant/IR/SQuantOps.cpp.inc"

using namespace mlir;
using namespace mlir::squant;

namespace {

/// Prints a shape as [8, 2] with `?` for dynamic sizes.
std::string shapeStr(ArrayRef<int64_t> shape) {
  std::string s = "[";
  llvm::raw_string_ostream os(s);
  llvm::interleaveComma(shape, os, [&](int64_t d) {
    if (ShapedType::isDynamic(d))
      os << "?";
    else
      os << d;
  });
  os << "]";
  return s;
}

/// True when two shapes agree wherever both are static.
bool shapesCompatible(ArrayRef<int64_t> a, ArrayRef<int64_t> b) {
  if (a.size() != b.size())
    return false;
  for (auto [x, y] : llvm::zip(a, b))
    if (!ShapedType::isDynamic(x) && !ShapedType::isDynamic(y) && x != y)
      return false;
  return true;
}

/// (C1) of the grouped ops: the axis exists and a group size divides the
/// dimension along it (D4: ragged groups are an error, padding is explicit).
LogicalResult verifyGrouping(Operation *op, ArrayRef<int64_t> shape,
                             std::optional<int64_t> axis,
                             std::optional<int64_t> groupSize,
                             StringRef axisName = "axis",
                             StringRef groupName = "group_size") {
  if (!axis)
    return success();
  int64_t rank = shape.size();
  if (*axis >= rank)
    return op->emitOpError() << axisName << " = " << *axis
                             << " is out of range for a tensor of rank " << rank;
  int64_t dim = shape[*axis];
  if (groupSize && !ShapedType::isDynamic(dim) && dim % *groupSize != 0)
    return op->emitOpError()
           << "ragged groups: dimension " << dim << " along " << axisName
           << " " << *axis << " is not a multiple of " << groupName << " = "
           << *groupSize << " (pad explicitly first)";
  return success();
}

/// Checks that `type` has shape `expected`.
LogicalResult verifyShape(Operation *op, Type type, ArrayRef<int64_t> expected,
                          StringRef name, StringRef expectation) {
  auto shape = cast<RankedTensorType>(type).getShape();
  if (!shapesCompatible(shape, expected))
    return op->emitOpError() << name << " shape " << shapeStr(shape)
                             << " does not match " << expectation << " "
                             << shapeStr(expected);
  return success();
}

/// An integer element type that holds `bits`-bit codes.
LogicalResult verifyCodeType(Operation *op, Type type, unsigned bits,
                             StringRef name) {
  auto elementType = getElementTypeOrSelf(type);
  if (!elementType.isSignlessInteger() ||
      elementType.getIntOrFloatBitWidth() < bits)
    return op->emitOpError() << name << " element type " << elementType
                             << " cannot hold " << bits << "-bit codes";
  return success();
}

/// The scale and zero-point checks (C1)-(C4) shared by choose_qparams,
/// quantize and dequantize. `floatType` is the expressed tensor, `shape` the
/// weight's shape.
LogicalResult verifyAffineParams(Operation *op, AffineSchemeAttr scheme,
                                 ArrayRef<int64_t> shape, Type expressedType,
                                 Type scaleType, Type zeroPointType) {
  // (C1)
  if (failed(verifyGrouping(op, shape, scheme.getAxis(), scheme.getGroupSize())))
    return failure();
  SmallVector<int64_t> paramShape = scheme.getParamShape(shape);
  // (C2)
  if (failed(verifyShape(op, scaleType, paramShape, "scale",
                         "the scheme's parameter shape")))
    return failure();
  if (getElementTypeOrSelf(scaleType) != expressedType)
    return op->emitOpError() << "scale element type "
                             << getElementTypeOrSelf(scaleType)
                             << " differs from the expressed type "
                             << expressedType;
  // (C3)
  bool wantsZeroPoint = scheme.hasZeroPointOperand();
  if (wantsZeroPoint && !zeroPointType)
    return op->emitOpError() << "scheme '" << stringifySchemeKind(scheme.getKind())
                             << "' needs a zero point";
  if (!wantsZeroPoint && zeroPointType)
    return op->emitOpError() << "scheme '" << stringifySchemeKind(scheme.getKind())
                             << "' implies its zero point and takes none";
  if (!zeroPointType)
    return success();
  // (C4)
  if (failed(verifyShape(op, zeroPointType, paramShape, "zero point",
                         "the scheme's parameter shape")))
    return failure();
  Type zpElement = getElementTypeOrSelf(zeroPointType);
  if (scheme.hasIntZeroPoint()) {
    if (!zpElement.isSignlessInteger() ||
        zpElement.getIntOrFloatBitWidth() < scheme.getBits())
      return op->emitOpError()
             << "integer zero point of a " << scheme.getBits()
             << "-bit scheme needs an integer type of at least "
             << scheme.getBits() << " bits, got " << zpElement;
  } else if (zpElement != expressedType) {
    return op->emitOpError() << "float zero point element type " << zpElement
                             << " differs from the expressed type "
                             << expressedType;
  }
  return success();
}

/// (D5) A constant weight that is quantized at compile time must be finite.
LogicalResult verifyFiniteConstant(Operation *op, Value input) {
  Attribute attr;
  if (!matchPattern(input, m_Constant(&attr)))
    return success();
  std::optional<std::vector<float>> values = readFloats(attr);
  if (!values)
    return success();
  for (size_t i = 0; i < values->size(); ++i) {
    float v = (*values)[i];
    if (std::isfinite(v))
      continue;
    StringRef name = std::isnan(v) ? "nan" : (v > 0 ? "inf" : "-inf");
    return op->emitOpError() << "constant input has a non-finite value "
                             << name << " at flat index " << i
                             << "; squant quantizes finite weights only (D5)";
  }
  return success();
}

} // namespace

//===----------------------------------------------------------------------===//
// ChooseQParamsOp
//===----------------------------------------------------------------------===//

LogicalResult ChooseQParamsOp::verify() {
  auto inputType = getInput().getType();
  Type zpType = getZeroPoint() ? getZeroPoint().getType() : Type();
  if (failed(verifyAffineParams(*this, getScheme(), inputType.getShape(),
                                inputType.getElementType(),
                                getScale().getType(), zpType)))
    return failure();
  // (C5)
  return verifyFiniteConstant(*this, getInput());
}

//===----------------------------------------------------------------------===//
// QuantizeOp
//===----------------------------------------------------------------------===//

LogicalResult QuantizeOp::verify() {
  auto inputType = getInput().getType();
  Type zpType = getZeroPoint() ? getZeroPoint().getType() : Type();
  if (failed(verifyAffineParams(*this, getScheme(), inputType.getShape(),
                                inputType.getElementType(),
                                getScale().getType(), zpType)))
    return failure();
  // (C5)
  if (failed(verifyShape(*this, getResult().getType(), inputType.getShape(),
                         "result", "the input shape")) ||
      failed(verifyCodeType(*this, getResult().getType(),
                            getScheme().getBits(), "result")))
    return failure();
  // (C6)
  return verifyFiniteConstant(*this, getInput());
}

//===----------------------------------------------------------------------===//
// DequantizeOp
//===----------------------------------------------------------------------===//

LogicalResult DequantizeOp::verify() {
  auto resultType = getResult().getType();
  Type zpType = getZeroPoint() ? getZeroPoint().getType() : Type();
  // (C5)
  if (failed(verifyShape(*this, getInput().getType(), resultType.getShape(),
                         "codes", "the result shape")) ||
      failed(verifyCodeType(*this, getInput().getType(), getScheme().getBits(),
                            "codes")))
    return failure();
  return verifyAffineParams(*this, getScheme(), resultType.getShape(),
                            resultType.getElementType(), getScale().getType(),
                            zpType);
}

//===----------------------------------------------------------------------===//
// FmaDequantizeOp
//===----------------------------------------------------------------------===//

LogicalResult FmaDequantizeOp::verify() {
  auto resultType = getResult().getType();
  FmaFormAttr form = getForm();
  // (C3)
  if (failed(verifyShape(*this, getInput().getType(), resultType.getShape(),
                         "codes", "the result shape")) ||
      failed(verifyCodeType(*this, getInput().getType(), form.getBits(),
                            "codes")))
    return failure();
  // (C1)
  if (failed(verifyGrouping(*this, resultType.getShape(), form.getAxis(),
                            form.getGroupSize())))
    return failure();
  // (C2)
  SmallVector<int64_t> paramShape = form.getParamShape(resultType.getShape());
  for (auto [name, value] : {std::pair<StringRef, Value>{"scale", getScale()},
                             {"bias", getBias()}}) {
    if (failed(verifyShape(*this, value.getType(), paramShape, name,
                           "the form's parameter shape")))
      return failure();
    if (getElementTypeOrSelf(value.getType()) != resultType.getElementType())
      return emitOpError() << name << " element type "
                           << getElementTypeOrSelf(value.getType())
                           << " differs from the result's "
                           << resultType.getElementType();
  }
  return success();
}

//===----------------------------------------------------------------------===//
// LutDequantizeOp
//===----------------------------------------------------------------------===//

/// Shared by lut_dequantize and the LUT form of qmatmul: table and scales
/// against a weight of `shape`.
static LogicalResult verifyLutOperands(Operation *op, LutSchemeAttr scheme,
                                       ArrayRef<int64_t> shape, Type tableType,
                                       Type scalesType, Type resultElement) {
  // (C5)
  if (failed(verifyGrouping(op, shape, scheme.getAxis(), scheme.getGroupSize())) ||
      failed(verifyGrouping(op, shape, scheme.getLutAxis(),
                            scheme.getLutGroupSize(), "lut_axis",
                            "lut_group_size")))
    return failure();
  // (C2)
  if (failed(verifyShape(op, tableType, scheme.getTableShape(shape), "table",
                         "the table grouping's shape followed by 2^bits")))
    return failure();
  Type tableElement = getElementTypeOrSelf(tableType);
  if (tableElement.isInteger(8)) {
    // (C3)
    if (!scalesType)
      return op->emitOpError("an int8 table needs f32 scales (s_table)");
    if (!getElementTypeOrSelf(scalesType).isF32() || !resultElement.isF32())
      return op->emitOpError()
             << "an int8 table computes in f32: scales "
             << getElementTypeOrSelf(scalesType) << " and result "
             << resultElement << " must be f32";
  } else if (tableElement != resultElement ||
             (scalesType && getElementTypeOrSelf(scalesType) != resultElement)) {
    // (C4)
    return op->emitOpError() << "float table " << tableElement
                             << " and its scales must have the result's "
                                "element type "
                             << resultElement;
  }
  if (scalesType &&
      failed(verifyShape(op, scalesType, scheme.getScaleShape(shape), "scales",
                         "the scale grouping's shape")))
    return failure();
  return success();
}

LogicalResult LutDequantizeOp::verify() {
  auto resultType = getResult().getType();
  // (C1)
  if (failed(verifyShape(*this, getInput().getType(), resultType.getShape(),
                         "indices", "the result shape")) ||
      failed(verifyCodeType(*this, getInput().getType(), getScheme().getBits(),
                            "indices")))
    return failure();
  return verifyLutOperands(*this, getScheme(), resultType.getShape(),
                           getTable().getType(),
                           getScales() ? getScales().getType() : Type(),
                           resultType.getElementType());
}

//===----------------------------------------------------------------------===//
// PackOp / UnpackOp
//===----------------------------------------------------------------------===//

/// (C1)-(C3) of pack, with `codes` and `bytes` the unpacked and packed types.
static LogicalResult verifyPacking(Operation *op, PackedLayoutAttr layout,
                                   RankedTensorType codes,
                                   RankedTensorType bytes) {
  // (C1)
  if (codes.getRank() < 1 || codes.getRank() != bytes.getRank())
    return op->emitOpError() << "codes " << shapeStr(codes.getShape())
                             << " and bytes " << shapeStr(bytes.getShape())
                             << " need the same rank >= 1";
  if (!shapesCompatible(codes.getShape().drop_back(),
                        bytes.getShape().drop_back()))
    return op->emitOpError() << "codes " << shapeStr(codes.getShape())
                             << " and bytes " << shapeStr(bytes.getShape())
                             << " differ in their leading dimensions";
  // (C2)
  int64_t cols = codes.getShape().back(), packed = bytes.getShape().back();
  int64_t wordBytes = bytes.getElementTypeBitWidth() / 8;
  if (!ShapedType::isDynamic(cols) && !ShapedType::isDynamic(packed)) {
    int64_t rowBytes = ref::packedRowBytes(cols, layout.getBits());
    int64_t words = (rowBytes + wordBytes - 1) / wordBytes;
    if (words != packed)
      return op->emitOpError()
             << cols << " codes of " << layout.getBits() << " bits pack into "
             << rowBytes << " bytes = " << words << " x "
             << bytes.getElementType() << ", not " << packed;
  }
  // (C3)
  return verifyCodeType(op, codes, layout.getBits(), "codes");
}

LogicalResult PackOp::verify() {
  return verifyPacking(*this, getLayout(), getInput().getType(),
                       getResult().getType());
}

LogicalResult UnpackOp::verify() {
  return verifyPacking(*this, getLayout(), getResult().getType(),
                       getInput().getType());
}

//===----------------------------------------------------------------------===//
// QMatmulOp
//===----------------------------------------------------------------------===//

LogicalResult QMatmulOp::verify() {
  auto inputType = getInput().getType();
  auto weightType = getWeight().getType();
  auto resultType = getResult().getType();
  // (C1)
  if (weightType.getRank() != 2)
    return emitOpError() << "weight must be [N, K], got "
                         << shapeStr(weightType.getShape());
  int64_t n = weightType.getDimSize(0), k = weightType.getDimSize(1);
  if (inputType.getRank() < 1)
    return emitOpError("input must be [..., M, K] or [K]");
  if (!shapesCompatible({inputType.getShape().back()}, {k}))
    return emitOpError() << "input " << shapeStr(inputType.getShape())
                         << " and weight " << shapeStr(weightType.getShape())
                         << " disagree on K";
  SmallVector<int64_t> expected(inputType.getShape().drop_back());
  expected.push_back(n);
  if (failed(verifyShape(*this, resultType, expected, "result",
                         "the input's batch and M dims followed by N")))
    return failure();
  if (resultType.getElementType() != inputType.getElementType())
    return emitOpError() << "result element type " << resultType.getElementType()
                         << " differs from the input's "
                         << inputType.getElementType();
  Attribute form = getForm();
  unsigned bits = isa<FmaFormAttr>(form) ? cast<FmaFormAttr>(form).getBits()
                                         : cast<LutSchemeAttr>(form).getBits();
  if (failed(verifyCodeType(*this, weightType, bits, "weight")))
    return failure();

  if (auto fma = dyn_cast<FmaFormAttr>(form)) {
    // (C2)
    if (!getScales() || !getBias())
      return emitOpError("the fma form needs scales and bias operands");
    if (getTable())
      return emitOpError("the fma form takes no table");
    if (fma.getAxis() != std::optional<int64_t>(1) || !fma.getGroupSize())
      return emitOpError("the fma form of qmatmul needs groups along K: axis = "
                         "1 and a group_size");
    int64_t g = *fma.getGroupSize();
    if (!ShapedType::isDynamic(k) && k % g != 0)
      return emitOpError() << "ragged groups: K = " << k
                           << " is not a multiple of group_size = " << g;
    SmallVector<int64_t> paramShape = {
        n, ShapedType::isDynamic(k) ? ShapedType::kDynamic : k / g};
    if (failed(verifyShape(*this, getScales().getType(), paramShape, "scales",
                           "[N, K / group_size]")) ||
        failed(verifyShape(*this, getBias().getType(), paramShape, "bias",
                           "[N, K / group_size]")))
      return failure();
    if (getScales().getType().getElementType() !=
        getBias().getType().getElementType())
      return emitOpError("scales and bias must have the same element type");
    return success();
  }

  // (C3)
  auto lut = cast<LutSchemeAttr>(form);
  if (!getTable())
    return emitOpError("the lut form needs a table operand");
  if (getBias())
    return emitOpError("the lut form takes no bias");
  if (lut.getAxis() && *lut.getAxis() != 1)
    return emitOpError() << "lut scales must be grouped along K (axis 1), got axis "
                         << *lut.getAxis();
  if (lut.getLutAxis() && *lut.getLutAxis() > 1)
    return emitOpError() << "lut tables must be per tensor, per row (lut_axis 0) "
                            "or per group along K (lut_axis 1), got lut_axis "
                         << *lut.getLutAxis();
  return verifyLutOperands(*this, lut, weightType.getShape(),
                           getTable().getType(),
                           getScales() ? getScales().getType() : Type(),
                           // LUT products are f32 unless the table is float.
                           isa<IntegerType>(getTable().getType().getElementType())
                               ? Float32Type::get(getContext())
                               : getTable().getType().getElementType());
}
