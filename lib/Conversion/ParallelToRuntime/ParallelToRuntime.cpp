//===- ParallelToRuntime.cpp - scf.parallel on squant_rt's thread pools ---===//
//
// An outermost one-dimensional scf.parallel without reductions
//
//   scf.parallel (%i) = (%lb) to (%ub) step (%s) { body(%i, captures) }
//
// becomes, in its function,
//
//   %ctx = llvm.alloca 1 x !llvm.struct<(captures' LLVM types)>   (entry block)
//   llvm.store capture_j, %ctx[0, j]
//   func.call @squant_rt_parallel_for(@f_parallel_N, %ctx, ceildiv(%ub - %lb, %s),
//                                     threads)
//
//   func.func private @f_parallel_N(%ctx: !llvm.ptr, %begin: i64, %end: i64) {
//     capture_j = llvm.load %ctx[0, j]
//     scf.for %j = %begin to %end { body(%lb + %j * %s, captures) }
//   }
//
// Memref captures cross as their LLVM descriptors through
// unrealized_conversion_casts, which the conversion to LLVM resolves;
// indices as i64; constants are cloned into the body so that they stay
// constants there.
//
//===----------------------------------------------------------------------===//

#include "squant/Conversion/Passes.h"

#include "mlir/Conversion/LLVMCommon/TypeConverter.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/SetVector.h"

namespace mlir::squant {
#define GEN_PASS_DEF_SCFPARALLELTORUNTIME
#include "squant/Conversion/Passes.h.inc"
} // namespace mlir::squant

using namespace mlir;
using namespace mlir::squant;

namespace {

constexpr StringLiteral kParallelFor = "squant_rt_parallel_for";

/// Why `loop` stays sequential (empty: it is outlined).
std::string whySequential(scf::ParallelOp loop, ModuleOp module) {
  if (loop->getParentOfType<scf::ParallelOp>())
    return "it is nested in another scf.parallel";
  if (loop.getNumLoops() != 1)
    return "it has " + std::to_string(loop.getNumLoops()) + " dimensions";
  if (loop.getNumResults() != 0)
    return "it has reductions";
  // Host code only: in a func.func of this module, inside structured
  // control flow at most (not, e.g., in a gpu.launch or another function).
  Operation *parent = loop->getParentOp();
  for (; parent && !isa<func::FuncOp>(parent); parent = parent->getParentOp()) {
    StringRef dialect = parent->getDialect() ? parent->getDialect()->getNamespace() : "";
    if (dialect != "scf" && dialect != "affine" && !isa<memref::AllocaScopeOp>(parent))
      return "it is inside '" + parent->getName().getStringRef().str() + "'";
  }
  if (!parent || parent->getParentOp() != module.getOperation())
    return "it is not in a func.func of the module";
  return "";
}

class Outliner {
public:
  Outliner(ModuleOp module, int64_t threads)
      : module(module), symbols(module), converter(module.getContext()),
        threads(threads) {}

  /// Replaces `loop` with the runtime call; fails (leaving it) with a reason.
  LogicalResult outline(scf::ParallelOp loop, std::string &reason);

private:
  ModuleOp module;
  SymbolTable symbols;
  LLVMTypeConverter converter;
  int64_t threads;
  func::FuncOp parallelFor;

  func::FuncOp declareParallelFor(Location loc);
};

func::FuncOp Outliner::declareParallelFor(Location loc) {
  if (parallelFor)
    return parallelFor;
  MLIRContext *ctx = module.getContext();
  if ((parallelFor = symbols.lookup<func::FuncOp>(kParallelFor)))
    return parallelFor;
  auto ptr = LLVM::LLVMPointerType::get(ctx);
  auto i64 = IntegerType::get(ctx, 64), i32 = IntegerType::get(ctx, 32);
  auto body = FunctionType::get(ctx, {ptr, i64, i64}, {});
  OpBuilder b = OpBuilder::atBlockBegin(module.getBody());
  parallelFor = func::FuncOp::create(b, loc, kParallelFor,
                                     FunctionType::get(ctx, {body, ptr, i64, i32}, {}));
  parallelFor.setPrivate();
  symbols.insert(parallelFor);
  return parallelFor;
}

LogicalResult Outliner::outline(scf::ParallelOp loop, std::string &reason) {
  MLIRContext *ctx = module.getContext();
  Location loc = loop.getLoc();
  auto parent = loop->getParentOfType<func::FuncOp>();

  // What the body (and the iteration mapping) uses from outside.
  llvm::SetVector<Value> used;
  getUsedValuesDefinedAbove(loop.getRegion(), used);
  used.insert(loop.getLowerBound()[0]);
  used.insert(loop.getStep()[0]);
  SmallVector<Value> passed;
  SmallVector<Operation *> constants;
  SmallVector<Type> fields;
  for (Value v : used) {
    Operation *def = v.getDefiningOp();
    if (def && def->hasTrait<OpTrait::ConstantLike>() && def->getNumResults() == 1) {
      constants.push_back(def);
      continue;
    }
    Type field = converter.convertType(v.getType());
    if (!field || !LLVM::isCompatibleType(field)) {
      llvm::raw_string_ostream os(reason);
      os << "its body uses a value of type " << v.getType()
         << " that has no LLVM form to pass";
      return failure();
    }
    passed.push_back(v);
    fields.push_back(field);
  }
  auto ptr = LLVM::LLVMPointerType::get(ctx);
  auto i64 = IntegerType::get(ctx, 64);
  auto record = LLVM::LLVMStructType::getLiteral(ctx, fields);

  // The outlined body: iterations [begin, end) in order.
  auto bodyType = FunctionType::get(ctx, {ptr, i64, i64}, {});
  OpBuilder mb(ctx);
  mb.setInsertionPointAfter(parent);
  auto body = func::FuncOp::create(
      mb, loc, (parent.getName() + "_parallel").str(), bodyType);
  body.setPrivate();
  symbols.insert(body); // renames on a clash
  Block *entry = body.addEntryBlock();
  OpBuilder b = OpBuilder::atBlockBegin(entry);
  IRMapping map;
  auto castTo = [&](OpBuilder &builder, Value v, Type type) -> Value {
    if (v.getType() == type)
      return v;
    if (isa<IndexType>(v.getType()) || isa<IndexType>(type))
      return arith::IndexCastOp::create(builder, loc, type, v);
    return UnrealizedConversionCastOp::create(builder, loc, type, v).getResult(0);
  };
  Value ctxArg = entry->getArgument(0);
  for (auto [i, v] : llvm::enumerate(passed)) {
    Value at = LLVM::GEPOp::create(b, loc, ptr, record, ctxArg,
                                   ArrayRef<LLVM::GEPArg>{0, int32_t(i)});
    Value field = LLVM::LoadOp::create(b, loc, fields[i], at);
    map.map(v, castTo(b, field, v.getType()));
  }
  for (Operation *c : constants)
    b.clone(*c, map);
  Value begin = castTo(b, entry->getArgument(1), b.getIndexType());
  Value end = castTo(b, entry->getArgument(2), b.getIndexType());
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  auto iterations = scf::ForOp::create(b, loc, begin, end, one);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(iterations.getBody());
    Value iv = arith::AddIOp::create(
        b, loc, map.lookup(loop.getLowerBound()[0]),
        arith::MulIOp::create(b, loc, iterations.getInductionVar(),
                              map.lookup(loop.getStep()[0])));
    Block &loopBody = loop.getRegion().front();
    map.map(loopBody.getArgument(0), iv);
    for (Operation &op : loopBody.without_terminator())
      b.clone(op, map);
  }
  func::ReturnOp::create(b, loc);

  // The call: the record on the caller's stack (allocated once, in the
  // entry block, so a loop around the call does not grow the stack).
  OpBuilder cb = OpBuilder::atBlockBegin(&parent.getFunctionBody().front());
  Value oneI64 = LLVM::ConstantOp::create(cb, loc, i64, cb.getI64IntegerAttr(1));
  Value ctxPtr = LLVM::AllocaOp::create(cb, loc, ptr, record, oneI64);
  cb.setInsertionPoint(loop);
  for (auto [i, v] : llvm::enumerate(passed)) {
    Value at = LLVM::GEPOp::create(cb, loc, ptr, record, ctxPtr,
                                   ArrayRef<LLVM::GEPArg>{0, int32_t(i)});
    LLVM::StoreOp::create(cb, loc, castTo(cb, v, fields[i]), at);
  }
  Value span = arith::SubIOp::create(cb, loc, loop.getUpperBound()[0],
                                     loop.getLowerBound()[0]);
  Value count = arith::CeilDivSIOp::create(cb, loc, span, loop.getStep()[0]);
  Value fn = func::ConstantOp::create(cb, loc, bodyType, body.getSymName());
  Value threadCount = arith::ConstantIntOp::create(cb, loc, threads, 32);
  func::CallOp::create(cb, loc, declareParallelFor(loc),
                       ValueRange{fn, ctxPtr, castTo(cb, count, i64), threadCount});
  loop.erase();
  return success();
}

struct SCFParallelToRuntimePass
    : mlir::squant::impl::SCFParallelToRuntimeBase<SCFParallelToRuntimePass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (threads < 1 || threads > 256) {
      module.emitError() << "squant-parallel-to-runtime: threads must be in [1, 256], got "
                         << static_cast<int64_t>(threads);
      return signalPassFailure();
    }
    SmallVector<scf::ParallelOp> loops;
    module.walk([&](scf::ParallelOp loop) { loops.push_back(loop); });
    Outliner outliner(module, threads);
    for (scf::ParallelOp loop : loops) {
      std::string reason = whySequential(loop, module);
      if (reason.empty() && succeeded(outliner.outline(loop, reason)))
        continue;
      if (remarks)
        loop.emitRemark() << "stays sequential: " << reason;
    }
  }
};

} // namespace
