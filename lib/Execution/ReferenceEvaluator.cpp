//===- ReferenceEvaluator.cpp - squant IR on concrete tensors -------------===//

#include "squant/Execution/ReferenceEvaluator.h"

#include "squant/Dialect/SQuant/IR/ConstantValues.h"
#include "squant/Dialect/SQuant/IR/SQuant.h"
#include "squant/Dialect/SQuant/Transforms/BodyInterpreter.h"
#include "squant/Reference/FloatFormat.h"
#include "squant/Reference/Matmul.h"
#include "squant/Reference/OneFma.h"
#include "squant/Reference/Pack.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/AffineMap.h"
#include "llvm/ADT/DenseMap.h"

#include <cmath>
#include <cstring>

using namespace mlir;
using namespace mlir::squant;

using Accuracy = ReferenceValue::Accuracy;

namespace {

bool isFloatTensorOf(Type type) {
  auto shaped = dyn_cast<ShapedType>(type);
  return shaped && isa<FloatType>(shaped.getElementType());
}

/// Every element of a tensor attribute as interpreter scalars.
std::optional<std::vector<ScalarValue>> readScalars(Attribute attr, ShapedType type) {
  std::vector<ScalarValue> out;
  if (isa<FloatType>(type.getElementType())) {
    std::optional<std::vector<float>> f = readFloats(attr);
    if (!f)
      return std::nullopt;
    out.reserve(f->size());
    for (float v : *f)
      out.push_back(ScalarValue::floating(v));
    return out;
  }
  std::optional<std::vector<int32_t>> i = readInts(attr, /*isSigned=*/false);
  if (!i)
    return std::nullopt;
  out.reserve(i->size());
  for (int32_t v : *i)
    out.push_back(ScalarValue::integer(static_cast<uint32_t>(v)));
  return out;
}

Attribute makeScalars(ShapedType type, const std::vector<ScalarValue> &values) {
  if (isa<FloatType>(type.getElementType())) {
    std::vector<float> f(values.size());
    for (size_t i = 0; i < values.size(); ++i)
      f[i] = values[i].value;
    return makeFloats(type, f);
  }
  std::vector<int32_t> ints(values.size());
  for (size_t i = 0; i < values.size(); ++i)
    ints[i] = static_cast<int32_t>(values[i].bits);
  return makeInts(type, ints);
}

std::vector<int64_t> stridesOf(ArrayRef<int64_t> shape) {
  std::vector<int64_t> strides(shape.size(), 1);
  for (int64_t d = int64_t(shape.size()) - 2; d >= 0; --d)
    strides[d] = strides[d + 1] * shape[d + 1];
  return strides;
}

class Evaluator {
public:
  FailureOr<SmallVector<ReferenceValue>> run(func::FuncOp func,
                                             ArrayRef<Attribute> args);

private:
  LogicalResult evaluate(Operation *op);
  LogicalResult evaluateFolded(Operation *op);
  LogicalResult evaluateUnpack(UnpackOp op);
  LogicalResult evaluateQMatmul(QMatmulOp op);
  LogicalResult evaluateMatmul(linalg::MatmulOp op);
  LogicalResult evaluateLinalg(linalg::LinalgOp op);

  /// Accuracy of a result computed from `operands` by an op that is exact
  /// itself: exact only if every operand is.
  ReferenceValue derived(Attribute value, ValueRange operands, Operation *op) {
    ReferenceValue r;
    r.value = value;
    for (Value v : operands) {
      const ReferenceValue &in = values.find(v)->second;
      if (in.accuracy != Accuracy::Exact) {
        r.accuracy = Accuracy::Unbounded;
        r.why = inexactOperand(operands, op);
        break;
      }
    }
    return r;
  }

  /// Why an operand is not exact (the first one), or empty when all are.
  std::string inexactOperand(ValueRange operands, Operation *op) {
    for (Value v : operands) {
      const ReferenceValue &in = values.find(v)->second;
      if (in.accuracy == Accuracy::D8)
        return "a matmul feeding '" + op->getName().getStringRef().str() + "'";
      if (in.accuracy == Accuracy::Unbounded)
        return in.why;
    }
    return "";
  }

  Attribute attrOf(Value v) { return values.find(v)->second.value; }

  llvm::DenseMap<Value, ReferenceValue> values;
};

FailureOr<SmallVector<ReferenceValue>>
Evaluator::run(func::FuncOp func, ArrayRef<Attribute> args) {
  if (func.isExternal())
    return func.emitError("cannot evaluate an external function");
  Block &entry = func.getBody().front();
  if (args.size() != entry.getNumArguments())
    return func.emitError("expected ") << entry.getNumArguments()
                                       << " arguments, got " << args.size();
  if (!func.getBody().hasOneBlock())
    return func.emitError("the reference evaluator takes single-block functions");
  for (auto [arg, attr] : llvm::zip(entry.getArguments(), args)) {
    ReferenceValue v;
    v.value = attr;
    values[arg] = v;
  }
  for (Operation &op : entry) {
    if (auto ret = dyn_cast<func::ReturnOp>(op)) {
      SmallVector<ReferenceValue> results;
      for (Value v : ret.getOperands())
        results.push_back(values.find(v)->second);
      return results;
    }
    if (failed(evaluate(&op)))
      return failure();
  }
  return func.emitError("function has no func.return");
}

LogicalResult Evaluator::evaluate(Operation *op) {
  if (auto c = dyn_cast<arith::ConstantOp>(op)) {
    ReferenceValue v;
    v.value = c.getValue();
    values[c.getResult()] = v;
    return success();
  }
  if (auto e = dyn_cast<tensor::EmptyOp>(op)) {
    auto type = e.getType();
    if (!type.hasStaticShape())
      return op->emitError("reference evaluator: dynamic shapes are not supported");
    Attribute zero = isa<FloatType>(type.getElementType())
                         ? Attribute(FloatAttr::get(type.getElementType(), 0.0))
                         : Attribute(IntegerAttr::get(type.getElementType(), 0));
    ReferenceValue v;
    v.value = DenseElementsAttr::get(type, zero);
    values[e.getResult()] = v;
    return success();
  }
  if (isa<tensor::ExpandShapeOp, tensor::CollapseShapeOp>(op)) {
    auto dense = dyn_cast<DenseElementsAttr>(attrOf(op->getOperand(0)));
    auto type = cast<ShapedType>(op->getResult(0).getType());
    if (!dense)
      return op->emitError("reference evaluator: reshape of a non-dense value");
    ReferenceValue v = values.find(op->getOperand(0))->second;
    v.value = dense.reshape(type);
    values[op->getResult(0)] = v;
    return success();
  }
  if (auto unpack = dyn_cast<UnpackOp>(op))
    return evaluateUnpack(unpack);
  if (auto qmm = dyn_cast<QMatmulOp>(op))
    return evaluateQMatmul(qmm);
  if (op->getDialect() && isa<SQuantDialect>(op->getDialect()))
    return evaluateFolded(op);
  if (auto mm = dyn_cast<linalg::MatmulOp>(op))
    return evaluateMatmul(mm);
  if (auto linalgOp = dyn_cast<linalg::LinalgOp>(op))
    return evaluateLinalg(linalgOp);
  return op->emitError("reference evaluator: '")
         << op->getName() << "' is not supported (squant ops, arith.constant, "
         << "tensor.empty/expand_shape/collapse_shape, linalg ops with scalar "
         << "bodies and linalg.matmul are)";
}

LogicalResult Evaluator::evaluateFolded(Operation *op) {
  SmallVector<Attribute> operands;
  for (Value v : op->getOperands())
    operands.push_back(attrOf(v));
  SmallVector<OpFoldResult> folded;
  if (failed(op->fold(operands, folded)) || folded.size() != op->getNumResults())
    return op->emitError("reference evaluator: the op does not fold on these operands");
  for (auto [result, f] : llvm::zip(op->getResults(), folded)) {
    auto attr = dyn_cast<Attribute>(f);
    if (!attr)
      return op->emitError("reference evaluator: the op folded to a value, not a constant");
    values[result] = derived(attr, op->getOperands(), op);
  }
  return success();
}

LogicalResult Evaluator::evaluateUnpack(UnpackOp op) {
  PackedLayoutAttr layout = op.getLayout();
  auto inType = op.getInput().getType();
  auto outType = op.getResult().getType();
  std::optional<std::vector<int32_t>> words = readInts(attrOf(op.getInput()), false);
  if (!words || !inType.hasStaticShape())
    return op.emitError("reference evaluator: cannot read the packed bytes");
  int64_t wordBytes = inType.getElementTypeBitWidth() / 8;
  int64_t wordsPerRow = inType.getShape().back();
  int64_t cols = outType.getShape().back();
  int64_t rows = cols == 0 ? 0 : outType.getNumElements() / cols;
  int64_t rowBytes = ref::packedRowBytes(cols, layout.getBits());
  std::vector<uint8_t> bytes(rows * rowBytes);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t b = 0; b < rowBytes; ++b)
      bytes[r * rowBytes + b] = static_cast<uint8_t>(
          static_cast<uint32_t>((*words)[r * wordsPerRow + b / wordBytes]) >>
          (8 * (b % wordBytes)));
  std::vector<int32_t> codes =
      ref::unpackCodes(bytes, rows, cols, layout.getBits(),
                       layout.getStorage() == Storage::Signed,
                       static_cast<ref::PackOrder>(layout.getOrder()));
  values[op.getResult()] = derived(makeInts(outType, codes), op->getOperands(), op);
  return success();
}

/// Stores an fp64 matmul result: rounded to the element type as the value,
/// fp64 and bound kept when the operands were exact.
ReferenceValue matmulResult(ShapedType type, std::vector<double> y,
                            std::vector<double> bound, const std::string &inexact,
                            Operation *op) {
  std::vector<float> rounded(y.size());
  ref::FloatFormat format = getFloatFormat(type.getElementType());
  for (size_t i = 0; i < y.size(); ++i) {
    rounded[i] = ref::roundTo(static_cast<float>(y[i]), format);
    // The result's own rounding in a narrower type.
    if (format != ref::FloatFormat::F32)
      bound[i] += std::fabs(y[i]) * (format == ref::FloatFormat::BF16 ? 0x1p-8 : 0x1p-11);
  }
  ReferenceValue v;
  v.value = makeFloats(type, rounded);
  if (inexact.empty()) {
    v.accuracy = Accuracy::D8;
    v.f64 = std::move(y);
    v.bound = std::move(bound);
  } else {
    v.accuracy = Accuracy::Unbounded;
    v.why = inexact;
  }
  return v;
}

LogicalResult Evaluator::evaluateQMatmul(QMatmulOp op) {
  auto inType = op.getInput().getType();
  auto resultType = op.getResult().getType();
  std::optional<std::vector<float>> x = readFloats(attrOf(op.getInput()));
  Attribute scales = op.getScales() ? attrOf(op.getScales()) : Attribute();
  Attribute bias = op.getBias() ? attrOf(op.getBias()) : Attribute();
  Attribute table = op.getTable() ? attrOf(op.getTable()) : Attribute();
  std::optional<std::vector<float>> w =
      dequantizedQMatmulWeight(op, attrOf(op.getWeight()), scales, bias, table);
  if (!x || !w)
    return op.emitError("reference evaluator: cannot read the operands");
  auto wType = op.getWeight().getType();
  int64_t n = wType.getDimSize(0), k = wType.getDimSize(1);
  int64_t m = inType.getNumElements() / k;
  std::vector<double> bound;
  std::vector<double> y = ref::matmulF64(*x, *w, m, n, k, &bound);
  // The hoisted path (s·Σxq + b·Σx) rounds with |q·s| + |b| instead of |w|
  // (docs/Numerics.md, "Factorized accumulation").
  if (auto fma = dyn_cast<FmaFormAttr>(op.getForm())) {
    std::vector<int32_t> q = *readInts(attrOf(op.getWeight()), fma.isSigned());
    std::vector<float> s = *readFloats(scales), b = *readFloats(bias);
    int64_t g = *fma.getGroupSize(), groups = k / g;
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double extra = 0;
        for (int64_t e = 0; e < k; ++e) {
          int64_t p = j * groups + e / g;
          extra += std::fabs((*x)[i * k + e]) *
                   (std::fabs(double(q[j * k + e]) * s[p]) + std::fabs(b[p]));
        }
        bound[i * n + j] += k * 0x1p-22 * extra;
      }
  }
  values[op.getResult()] =
      matmulResult(resultType, std::move(y), std::move(bound),
                   inexactOperand(op->getOperands(), op), op);
  return success();
}

LogicalResult Evaluator::evaluateMatmul(linalg::MatmulOp op) {
  if (!op.hasPureTensorSemantics())
    return op.emitError("reference evaluator: matmul on buffers");
  Value a = op.getDpsInputOperand(0)->get(), b = op.getDpsInputOperand(1)->get();
  Value c = op.getDpsInitOperand(0)->get();
  auto aType = cast<ShapedType>(a.getType()), bType = cast<ShapedType>(b.getType());
  if (!isFloatTensorOf(aType) || !isFloatTensorOf(bType) || !aType.hasStaticShape() ||
      !bType.hasStaticShape())
    return op.emitError("reference evaluator: matmul of static float tensors only");
  MLIRContext *ctx = op.getContext();
  AffineExpr dm, dn, dk;
  bindDims(ctx, dm, dn, dk);
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  bool transposedB;
  if (maps[0] == AffineMap::get(3, 0, {dm, dk}, ctx) &&
      maps[2] == AffineMap::get(3, 0, {dm, dn}, ctx) &&
      (maps[1] == AffineMap::get(3, 0, {dk, dn}, ctx) ||
       maps[1] == AffineMap::get(3, 0, {dn, dk}, ctx)))
    transposedB = maps[1] == AffineMap::get(3, 0, {dn, dk}, ctx);
  else
    return op.emitError("reference evaluator: matmul with these indexing maps");
  int64_t m = aType.getDimSize(0), k = aType.getDimSize(1);
  int64_t n = transposedB ? bType.getDimSize(0) : bType.getDimSize(1);
  std::optional<std::vector<float>> x = readFloats(attrOf(a)), wIn = readFloats(attrOf(b)),
                                    init = readFloats(attrOf(c));
  if (!x || !wIn || !init)
    return op.emitError("reference evaluator: cannot read the matmul operands");
  std::vector<float> w = *wIn;
  if (!transposedB)
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < k; ++j)
        w[i * k + j] = (*wIn)[j * n + i];
  std::vector<double> bound;
  std::vector<double> y = ref::matmulF64(*x, w, m, n, k, &bound);
  for (size_t i = 0; i < y.size(); ++i) {
    y[i] += (*init)[i];
    bound[i] += std::fabs((*init)[i]) * 0x1p-23;
  }
  values[op->getResult(0)] =
      matmulResult(cast<ShapedType>(op->getResult(0).getType()), std::move(y),
                   std::move(bound), inexactOperand(op->getOperands(), op), op);
  return success();
}

LogicalResult Evaluator::evaluateLinalg(linalg::LinalgOp op) {
  if (!op.hasPureTensorSemantics())
    return op.emitError("reference evaluator: linalg ops on buffers are not supported");
  Block *body = op.getBlock();
  if (!body || !isInterpretableBody(*body))
    return op.emitError("reference evaluator: the op's body has ops it cannot interpret");
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  for (int64_t r : ranges)
    if (ShapedType::isDynamic(r))
      return op.emitError("reference evaluator: dynamic shapes are not supported");

  struct OperandData {
    std::vector<ScalarValue> data; // empty for scalars
    ScalarValue scalar;
    AffineMap map;
    std::vector<int64_t> strides;
  };
  std::vector<OperandData> operands;
  for (OpOperand &operand : op->getOpOperands()) {
    OperandData d;
    Attribute attr = attrOf(operand.get());
    if (auto shaped = dyn_cast<ShapedType>(operand.get().getType())) {
      std::optional<std::vector<ScalarValue>> data = readScalars(attr, shaped);
      if (!data)
        return op.emitError("reference evaluator: cannot read operand #")
               << operand.getOperandNumber();
      d.data = std::move(*data);
      d.map = op.getMatchingIndexingMap(&operand);
      d.strides = stridesOf(shaped.getShape());
    } else if (auto f = dyn_cast_or_null<FloatAttr>(attr)) {
      d.scalar = ScalarValue::floating(static_cast<float>(f.getValueAsDouble()));
    } else if (auto i = dyn_cast_or_null<IntegerAttr>(attr)) {
      d.scalar = ScalarValue::integer(i.getValue().getZExtValue());
    } else {
      return op.emitError("reference evaluator: cannot read operand #")
             << operand.getOperandNumber();
    }
    operands.push_back(std::move(d));
  }
  int64_t numInputs = op.getNumDpsInputs();
  auto flatIndex = [](const OperandData &d, ArrayRef<int64_t> point) {
    SmallVector<int64_t> idx = d.map.compose(point);
    int64_t flat = 0;
    for (size_t i = 0; i < idx.size(); ++i)
      flat += idx[i] * d.strides[i];
    return flat;
  };
  int64_t total = 1;
  for (int64_t r : ranges)
    total *= r;
  SmallVector<int64_t> point(ranges.size(), 0);
  SmallVector<ScalarValue> args(operands.size());
  for (int64_t step = 0; step < total; ++step) {
    for (size_t i = 0; i < operands.size(); ++i)
      args[i] = operands[i].data.empty() ? operands[i].scalar
                                         : operands[i].data[flatIndex(operands[i], point)];
    std::optional<SmallVector<ScalarValue, 1>> yields =
        interpretBodyYields(*body, args, point);
    if (!yields || int64_t(yields->size()) != op.getNumDpsInits())
      return op.emitError("reference evaluator: the body could not be evaluated");
    for (int64_t o = 0; o < op.getNumDpsInits(); ++o) {
      OperandData &out = operands[numInputs + o];
      out.data[flatIndex(out, point)] = (*yields)[o];
    }
    for (int64_t d = int64_t(point.size()) - 1; d >= 0; --d) {
      if (++point[d] < ranges[d])
        break;
      point[d] = 0;
    }
  }
  bool parallel = llvm::all_of(op.getIteratorTypesArray(), [](utils::IteratorType t) {
    return t == utils::IteratorType::parallel;
  });
  for (int64_t o = 0; o < op.getNumDpsInits(); ++o) {
    auto type = cast<ShapedType>(op->getResult(o).getType());
    ReferenceValue v = derived(makeScalars(type, operands[numInputs + o].data),
                               op->getOperands(), op);
    if (v.accuracy == Accuracy::Exact && (!parallel || !isCorrectlyRoundedBody(*body))) {
      v.accuracy = Accuracy::Unbounded;
      v.why = parallel ? "a math-library function in '" +
                             op->getName().getStringRef().str() + "'"
                       : "a reduction in '" + op->getName().getStringRef().str() + "'";
    }
    values[op->getResult(o)] = v;
  }
  return success();
}

} // namespace

FailureOr<SmallVector<ReferenceValue>>
mlir::squant::evaluateReference(func::FuncOp func, ArrayRef<Attribute> args) {
  Evaluator evaluator;
  return evaluator.run(func, args);
}

std::optional<std::vector<float>>
mlir::squant::dequantizedQMatmulWeight(QMatmulOp op, Attribute weight,
                                       Attribute scales, Attribute bias,
                                       Attribute table) {
  auto wType = op.getWeight().getType();
  int64_t n = wType.getDimSize(0), k = wType.getDimSize(1);
  std::vector<float> w(n * k);
  if (auto fma = dyn_cast<FmaFormAttr>(op.getForm())) {
    std::optional<std::vector<int32_t>> q = readInts(weight, fma.isSigned());
    std::optional<std::vector<float>> s = readFloats(scales), b = readFloats(bias);
    if (!q || !s || !b)
      return std::nullopt;
    int64_t g = *fma.getGroupSize(), groups = k / g;
    ref::FloatFormat format = getFloatFormat(op.getScales().getType().getElementType());
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < k; ++j) {
        int64_t p = i * groups + j / g;
        w[i * k + j] = ref::roundTo(ref::fmaDequantize((*q)[i * k + j], (*s)[p], (*b)[p]),
                                    format);
      }
    return w;
  }
  auto lut = cast<LutSchemeAttr>(op.getForm());
  std::optional<std::vector<int32_t>> idx = readInts(weight, false);
  if (!idx)
    return std::nullopt;
  std::vector<float> entries;
  if (op.getTable().getType().getElementType().isInteger(8)) {
    std::optional<std::vector<int32_t>> t = readInts(table, true);
    if (!t)
      return std::nullopt;
    entries.assign(t->begin(), t->end());
  } else {
    std::optional<std::vector<float>> t = readFloats(table);
    if (!t)
      return std::nullopt;
    entries = std::move(*t);
  }
  std::vector<float> s;
  if (op.getScales()) {
    std::optional<std::vector<float>> read = readFloats(scales);
    if (!read)
      return std::nullopt;
    s = std::move(*read);
  }
  std::vector<int64_t> si = lut.getScaleGrouping({n, k}).paramIndices();
  std::vector<int64_t> ti = lut.getTableGrouping({n, k}).paramIndices();
  int64_t size = int64_t(1) << lut.getBits();
  for (int64_t i = 0; i < n * k; ++i) {
    float entry = entries[ti[i] * size + (*idx)[i]];
    w[i] = s.empty() ? entry : s[si[i]] * entry;
  }
  return w;
}

ReferenceComparison mlir::squant::compareWithReference(const ReferenceValue &ref,
                                                       const void *data) {
  ReferenceComparison c;
  auto type = cast<ShapedType>(cast<TypedAttr>(ref.value).getType());
  Type element = type.getElementType();
  c.elements = type.getNumElements();
  auto note = [&](int64_t i, double got, double want) {
    if (c.outside++ == 0)
      c.firstOutside = "element " + std::to_string(i) + ": " + std::to_string(got) +
                       " vs " + std::to_string(want);
  };
  if (!isa<FloatType>(element)) {
    std::optional<std::vector<int32_t>> want = readInts(ref.value, true);
    unsigned width = element.getIntOrFloatBitWidth();
    for (int64_t i = 0; i < c.elements && want; ++i) {
      int64_t got = 0;
      std::memcpy(&got, static_cast<const char *>(data) + i * (width / 8), width / 8);
      got = llvm::SignExtend64(got, width);
      double err = std::fabs(double(got) - (*want)[i]);
      c.maxAbsError = std::max(c.maxAbsError, err);
      if (err != 0)
        note(i, double(got), (*want)[i]);
    }
    return c;
  }
  ref::FloatFormat format = getFloatFormat(element);
  std::vector<float> want = *readFloats(ref.value);
  double errNorm = 0, refNorm = 0;
  for (int64_t i = 0; i < c.elements; ++i) {
    float got;
    if (format == ref::FloatFormat::F32) {
      std::memcpy(&got, static_cast<const char *>(data) + 4 * i, 4);
    } else {
      uint16_t bits;
      std::memcpy(&bits, static_cast<const char *>(data) + 2 * i, 2);
      got = format == ref::FloatFormat::BF16 ? ref::floatFromBF16Bits(bits)
                                             : ref::floatFromF16Bits(bits);
    }
    double target = ref.accuracy == Accuracy::D8 ? ref.f64[i] : double(want[i]);
    double err = std::fabs(double(got) - target);
    bool bothNaN = std::isnan(got) && std::isnan(target);
    if (bothNaN || (std::isinf(got) && got == target))
      err = 0;
    else if (std::isnan(err))
      err = INFINITY;
    c.maxAbsError = std::max(c.maxAbsError, err);
    if (std::isfinite(target)) {
      errNorm += err * err;
      refNorm += target * target;
    }
    switch (ref.accuracy) {
    case Accuracy::Exact:
      if (!bothNaN && ref::bitsFromFloat(got) != ref::bitsFromFloat(want[i]))
        note(i, got, want[i]);
      break;
    case Accuracy::D8:
      if (ref.bound[i] > 0)
        c.maxBoundRatio = std::max(c.maxBoundRatio, err / ref.bound[i]);
      if (err > ref.bound[i])
        note(i, got, target);
      break;
    case Accuracy::Unbounded:
      break;
    }
  }
  c.relError = refNorm > 0 ? std::sqrt(errNorm / refNorm) : std::sqrt(errNorm);
  return c;
}
