//===- ConstantValues.cpp - Read and build constant tensors ---------------===//

#include "squant/Dialect/SQuant/IR/ConstantValues.h"

#include "squant/Dialect/SQuant/IR/SQuant.h"

#include "mlir/IR/DialectResourceBlobManager.h"
#include "squant/Reference/FloatFormat.h"

#include <cstring>

using namespace mlir;
using namespace mlir::squant;

namespace {

/// The raw little-endian bytes of a loaded dense_resource, or nothing.
std::optional<ArrayRef<char>> resourceBytes(Attribute attr) {
  auto res = dyn_cast<DenseResourceElementsAttr>(attr);
  if (!res)
    return std::nullopt;
  AsmResourceBlob *blob = res.getRawHandle().getBlob();
  if (!blob)
    return std::nullopt;
  return blob->getData();
}

float widen(Type elementType, uint16_t bits) {
  return elementType.isBF16() ? ref::floatFromBF16Bits(bits)
                              : ref::floatFromF16Bits(bits);
}

} // namespace

std::optional<std::vector<float>> mlir::squant::readFloats(Attribute attr) {
  auto typed = dyn_cast_or_null<TypedAttr>(attr);
  if (!typed)
    return std::nullopt;
  auto type = dyn_cast<ShapedType>(typed.getType());
  if (!type || !type.hasStaticShape())
    return std::nullopt;
  Type elementType = type.getElementType();
  if (!elementType.isF32() && !elementType.isBF16() && !elementType.isF16())
    return std::nullopt;
  int64_t n = type.getNumElements();
  std::vector<float> values(n);
  if (auto dense = dyn_cast<DenseElementsAttr>(attr)) {
    if (elementType.isF32()) {
      auto range = dense.getValues<float>();
      std::copy(range.begin(), range.end(), values.begin());
    } else {
      int64_t i = 0;
      for (const APFloat &v : dense.getValues<APFloat>())
        values[i++] = widen(elementType, static_cast<uint16_t>(
                                             v.bitcastToAPInt().getZExtValue()));
    }
    return values;
  }
  std::optional<ArrayRef<char>> bytes = resourceBytes(attr);
  int64_t width = elementType.isF32() ? 4 : 2;
  if (!bytes || static_cast<int64_t>(bytes->size()) != n * width)
    return std::nullopt;
  for (int64_t i = 0; i < n; ++i) {
    if (width == 4) {
      std::memcpy(&values[i], bytes->data() + 4 * i, 4);
    } else {
      uint16_t bits;
      std::memcpy(&bits, bytes->data() + 2 * i, 2);
      values[i] = widen(elementType, bits);
    }
  }
  return values;
}

std::optional<std::vector<int32_t>> mlir::squant::readInts(Attribute attr,
                                                           bool isSigned) {
  auto typed = dyn_cast_or_null<TypedAttr>(attr);
  if (!typed)
    return std::nullopt;
  auto type = dyn_cast<ShapedType>(typed.getType());
  if (!type || !type.hasStaticShape() || !type.getElementType().isSignlessInteger())
    return std::nullopt;
  unsigned width = type.getElementTypeBitWidth();
  if (width > 32)
    return std::nullopt;
  int64_t n = type.getNumElements();
  std::vector<int32_t> values(n);
  auto extend = [&](uint64_t raw) {
    APInt v(width, raw & ((width == 64 ? ~0ull : (1ull << width) - 1)));
    return static_cast<int32_t>(isSigned ? v.getSExtValue() : v.getZExtValue());
  };
  if (auto dense = dyn_cast<DenseElementsAttr>(attr)) {
    int64_t i = 0;
    for (const APInt &v : dense.getValues<APInt>())
      values[i++] = extend(v.getZExtValue());
    return values;
  }
  std::optional<ArrayRef<char>> bytes = resourceBytes(attr);
  int64_t stride = (width + 7) / 8;
  if (!bytes || static_cast<int64_t>(bytes->size()) != n * stride)
    return std::nullopt;
  for (int64_t i = 0; i < n; ++i) {
    uint64_t raw = 0;
    std::memcpy(&raw, bytes->data() + stride * i, stride);
    values[i] = extend(raw);
  }
  return values;
}

DenseElementsAttr mlir::squant::makeFloats(ShapedType type,
                                           const std::vector<float> &values) {
  Type elementType = type.getElementType();
  if (elementType.isF32())
    return DenseElementsAttr::get(type, ArrayRef<float>(values));
  std::vector<uint16_t> bits(values.size());
  for (size_t i = 0; i < values.size(); ++i)
    bits[i] = elementType.isBF16() ? ref::bf16BitsFromFloat(values[i])
                                   : ref::f16BitsFromFloat(values[i]);
  return DenseElementsAttr::getFromRawBuffer(
      type, ArrayRef<char>(reinterpret_cast<const char *>(bits.data()),
                           bits.size() * sizeof(uint16_t)));
}

DenseElementsAttr mlir::squant::makeInts(ShapedType type,
                                         const std::vector<int32_t> &values) {
  unsigned width = type.getElementTypeBitWidth();
  SmallVector<APInt> ints;
  ints.reserve(values.size());
  uint64_t mask = width >= 64 ? ~0ull : (1ull << width) - 1;
  for (int32_t v : values)
    ints.emplace_back(width, static_cast<uint64_t>(static_cast<int64_t>(v)) & mask);
  return DenseElementsAttr::get(type, ints);
}

std::optional<std::vector<float>>
mlir::squant::readZeroPoints(AffineSchemeAttr scheme, Attribute zeroPoint,
                             int64_t numParams) {
  if (!scheme.hasZeroPointOperand())
    return std::vector<float>(
        numParams, scheme.toReference(ref::FloatFormat::F32).impliedZeroPoint());
  if (!scheme.hasIntZeroPoint())
    return readFloats(zeroPoint);
  std::optional<std::vector<int32_t>> ints = readInts(zeroPoint, scheme.isSigned());
  if (!ints)
    return std::nullopt;
  return std::vector<float>(ints->begin(), ints->end());
}
