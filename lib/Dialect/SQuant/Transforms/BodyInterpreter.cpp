//===- BodyInterpreter.cpp - Evaluate a linalg.generic body on scalars ----===//

#include "squant/Dialect/SQuant/Transforms/BodyInterpreter.h"

#include "squant/Dialect/SQuant/IR/SQuant.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>

using namespace mlir;
using namespace mlir::squant;

namespace {

unsigned widthOf(Type type) {
  return type.isIndex() ? 64 : type.getIntOrFloatBitWidth();
}

uint64_t mask(uint64_t v, unsigned width) {
  return width >= 64 ? v : v & ((uint64_t(1) << width) - 1);
}

int64_t signExtend(uint64_t v, unsigned width) {
  if (width >= 64)
    return static_cast<int64_t>(v);
  uint64_t sign = uint64_t(1) << (width - 1);
  return static_cast<int64_t>((mask(v, width) ^ sign) - sign);
}

/// fl for the op's result type.
float roundFloat(float v, Type type) { return ref::roundTo(v, getFloatFormat(type)); }

} // namespace

/// A scalar constant defined outside the body (fusion and canonicalization
/// hoist them), or nothing.
static std::optional<ScalarValue> externalConstant(Value v) {
  auto c = v.getDefiningOp<arith::ConstantOp>();
  if (!c)
    return std::nullopt;
  Type type = c.getType();
  if (auto i = dyn_cast<IntegerAttr>(c.getValue()))
    return ScalarValue::integer(mask(i.getValue().getZExtValue(), widthOf(type)));
  if (auto f = dyn_cast<FloatAttr>(c.getValue()))
    return ScalarValue::floating(
        roundFloat(static_cast<float>(f.getValueAsDouble()), type));
  return std::nullopt;
}

bool mlir::squant::isInterpretableBody(Block &body) {
  for (Operation &op : body) {
    // Every operand is a block argument, a value of the body, or a scalar
    // constant: nothing the interpreter would have to guess.
    for (Value operand : op.getOperands())
      if (operand.getParentBlock() != &body && !externalConstant(operand))
        return false;
    bool known = isa<arith::ExtSIOp, arith::ExtUIOp, arith::TruncIOp,
                     arith::SIToFPOp, arith::UIToFPOp, arith::ExtFOp,
                     arith::TruncFOp, arith::SubFOp, arith::MulFOp,
                     arith::AddFOp, arith::NegFOp, arith::DivFOp, arith::SubIOp,
                     arith::MulIOp, arith::AddIOp, arith::ShRUIOp,
                     arith::ShRSIOp, arith::ShLIOp, arith::AndIOp, arith::OrIOp,
                     arith::RemUIOp, arith::DivUIOp, arith::IndexCastOp,
                     arith::ConstantOp, math::FmaOp, linalg::IndexOp,
                     linalg::YieldOp, arith::MaximumFOp, arith::MinimumFOp,
                     arith::MaxNumFOp, arith::MinNumFOp, arith::CmpFOp,
                     arith::SelectOp, math::ExpOp, math::TanhOp, math::SqrtOp,
                     math::AbsFOp>(op);
    if (!known || op.getNumRegions() != 0)
      return false;
    if (auto c = dyn_cast<arith::ConstantOp>(op))
      if (!isa<IntegerAttr, FloatAttr>(c.getValue()))
        return false;
  }
  return true;
}

bool mlir::squant::isCorrectlyRoundedBody(Block &body) {
  for (Operation &op : body)
    if (isa<math::ExpOp, math::TanhOp>(op))
      return false;
  return true;
}

std::optional<ScalarValue>
mlir::squant::interpretBody(Block &body, ArrayRef<ScalarValue> args,
                            ArrayRef<int64_t> indices) {
  std::optional<SmallVector<ScalarValue, 1>> yields =
      interpretBodyYields(body, args, indices);
  if (!yields || yields->empty())
    return std::nullopt;
  return yields->front();
}

std::optional<SmallVector<ScalarValue, 1>>
mlir::squant::interpretBodyYields(Block &body, ArrayRef<ScalarValue> args,
                                  ArrayRef<int64_t> indices) {
  llvm::DenseMap<Value, ScalarValue> env;
  for (auto [arg, value] : llvm::zip(body.getArguments(), args))
    env[arg] = value;
  for (Operation &op : body)
    for (Value operand : op.getOperands())
      if (operand.getParentBlock() != &body) {
        std::optional<ScalarValue> c = externalConstant(operand);
        if (!c)
          return std::nullopt;
        env[operand] = *c;
      }
  auto get = [&](Value v) { return env.lookup(v); };
  for (Operation &op : body) {
    if (auto yield = dyn_cast<linalg::YieldOp>(op)) {
      SmallVector<ScalarValue, 1> values;
      for (Value v : yield.getOperands())
        values.push_back(get(v));
      return values;
    }
    if (op.getNumResults() != 1)
      return std::nullopt;
    Type type = op.getResult(0).getType();
    std::optional<ScalarValue> result =
        llvm::TypeSwitch<Operation *, std::optional<ScalarValue>>(&op)
            .Case([&](arith::ConstantOp c) -> std::optional<ScalarValue> {
              if (auto i = dyn_cast<IntegerAttr>(c.getValue()))
                return ScalarValue::integer(
                    mask(i.getValue().getZExtValue(), widthOf(type)));
              auto f = cast<FloatAttr>(c.getValue());
              return ScalarValue::floating(
                  roundFloat(static_cast<float>(f.getValueAsDouble()), type));
            })
            .Case([&](linalg::IndexOp i) -> std::optional<ScalarValue> {
              if (i.getDim() >= indices.size())
                return std::nullopt;
              return ScalarValue::integer(static_cast<uint64_t>(indices[i.getDim()]));
            })
            .Case([&](arith::IndexCastOp c) {
              return ScalarValue::integer(mask(get(c.getIn()).bits, 64));
            })
            .Case([&](arith::ExtSIOp e) {
              unsigned from = widthOf(e.getIn().getType());
              return ScalarValue::integer(mask(
                  static_cast<uint64_t>(signExtend(get(e.getIn()).bits, from)),
                  widthOf(type)));
            })
            .Case([&](arith::ExtUIOp e) { return ScalarValue::integer(get(e.getIn()).bits); })
            .Case([&](arith::TruncIOp t) {
              return ScalarValue::integer(mask(get(t.getIn()).bits, widthOf(type)));
            })
            .Case([&](arith::SIToFPOp c) {
              int64_t v = signExtend(get(c.getIn()).bits, widthOf(c.getIn().getType()));
              return ScalarValue::floating(roundFloat(static_cast<float>(v), type));
            })
            .Case([&](arith::UIToFPOp c) {
              return ScalarValue::floating(
                  roundFloat(static_cast<float>(get(c.getIn()).bits), type));
            })
            .Case([&](arith::ExtFOp e) { return get(e.getIn()); })
            .Case([&](arith::TruncFOp t) {
              return ScalarValue::floating(roundFloat(get(t.getIn()).value, type));
            })
            .Case([&](arith::NegFOp n) {
              return ScalarValue::floating(-get(n.getOperand()).value);
            })
            .Case([&](arith::SelectOp s) {
              return get(s.getCondition()).bits & 1 ? get(s.getTrueValue())
                                                    : get(s.getFalseValue());
            })
            .Case([&](arith::CmpFOp c) -> std::optional<ScalarValue> {
              float x = get(c.getLhs()).value, y = get(c.getRhs()).value;
              bool unordered = std::isnan(x) || std::isnan(y), r;
              switch (c.getPredicate()) {
              case arith::CmpFPredicate::AlwaysFalse: r = false; break;
              case arith::CmpFPredicate::OEQ: r = !unordered && x == y; break;
              case arith::CmpFPredicate::OGT: r = !unordered && x > y; break;
              case arith::CmpFPredicate::OGE: r = !unordered && x >= y; break;
              case arith::CmpFPredicate::OLT: r = !unordered && x < y; break;
              case arith::CmpFPredicate::OLE: r = !unordered && x <= y; break;
              case arith::CmpFPredicate::ONE: r = !unordered && x != y; break;
              case arith::CmpFPredicate::ORD: r = !unordered; break;
              case arith::CmpFPredicate::UEQ: r = unordered || x == y; break;
              case arith::CmpFPredicate::UGT: r = unordered || x > y; break;
              case arith::CmpFPredicate::UGE: r = unordered || x >= y; break;
              case arith::CmpFPredicate::ULT: r = unordered || x < y; break;
              case arith::CmpFPredicate::ULE: r = unordered || x <= y; break;
              case arith::CmpFPredicate::UNE: r = unordered || x != y; break;
              case arith::CmpFPredicate::UNO: r = unordered; break;
              case arith::CmpFPredicate::AlwaysTrue: r = true; break;
              }
              return ScalarValue::integer(r);
            })
            .Case([&](math::ExpOp e) {
              return ScalarValue::floating(roundFloat(std::exp(get(e.getOperand()).value), type));
            })
            .Case([&](math::TanhOp t) {
              return ScalarValue::floating(roundFloat(std::tanh(get(t.getOperand()).value), type));
            })
            .Case([&](math::SqrtOp q) {
              return ScalarValue::floating(roundFloat(std::sqrt(get(q.getOperand()).value), type));
            })
            .Case([&](math::AbsFOp a) {
              return ScalarValue::floating(std::fabs(get(a.getOperand()).value));
            })
            .Case([&](math::FmaOp f) {
              return ScalarValue::floating(roundFloat(
                  std::fma(get(f.getA()).value, get(f.getB()).value,
                           get(f.getC()).value),
                  type));
            })
            .Default([&](Operation *o) -> std::optional<ScalarValue> {
              if (o->getNumOperands() != 2)
                return std::nullopt;
              ScalarValue a = get(o->getOperand(0)), b = get(o->getOperand(1));
              if (isa<FloatType>(type)) {
                float x = a.value, y = b.value, r;
                if (isa<arith::SubFOp>(o))
                  r = x - y;
                else if (isa<arith::MulFOp>(o))
                  r = x * y;
                else if (isa<arith::AddFOp>(o))
                  r = x + y;
                else if (isa<arith::DivFOp>(o))
                  r = x / y;
                else if (isa<arith::MaximumFOp>(o))
                  r = std::isnan(x) || std::isnan(y) ? NAN
                      : x == y ? (std::signbit(x) ? y : x)
                               : std::max(x, y);
                else if (isa<arith::MinimumFOp>(o))
                  r = std::isnan(x) || std::isnan(y) ? NAN
                      : x == y ? (std::signbit(x) ? x : y)
                               : std::min(x, y);
                else if (isa<arith::MaxNumFOp>(o))
                  r = std::fmax(x, y);
                else if (isa<arith::MinNumFOp>(o))
                  r = std::fmin(x, y);
                else
                  return std::nullopt;
                return ScalarValue::floating(roundFloat(r, type));
              }
              unsigned w = widthOf(type);
              uint64_t x = a.bits, y = b.bits, r;
              if (isa<arith::SubIOp>(o))
                r = x - y;
              else if (isa<arith::AddIOp>(o))
                r = x + y;
              else if (isa<arith::MulIOp>(o))
                r = x * y;
              else if (isa<arith::AndIOp>(o))
                r = x & y;
              else if (isa<arith::OrIOp>(o))
                r = x | y;
              else if (isa<arith::ShLIOp>(o))
                r = y >= w ? 0 : x << y;
              else if (isa<arith::ShRUIOp>(o))
                r = y >= w ? 0 : mask(x, w) >> y;
              else if (isa<arith::ShRSIOp>(o))
                r = static_cast<uint64_t>(signExtend(x, w) >> std::min<uint64_t>(y, w - 1));
              else if (isa<arith::RemUIOp>(o))
                r = y == 0 ? 0 : mask(x, w) % mask(y, w);
              else if (isa<arith::DivUIOp>(o))
                r = y == 0 ? 0 : mask(x, w) / mask(y, w);
              else
                return std::nullopt;
              return ScalarValue::integer(mask(r, w));
            });
    if (!result)
      return std::nullopt;
    env[op.getResult(0)] = *result;
  }
  return std::nullopt;
}
