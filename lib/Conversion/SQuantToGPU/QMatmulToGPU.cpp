//===- QMatmulToGPU.cpp - squant.qmatmul as a GPU kernel ------------------===//
//
// The warp-per-row kernel (weights whose codes can be read 16 bytes at a
// time, groups of whole 16-byte chunks):
//
//   block (32, R): warp w handles weight row n = R·blockIdx.x + w for the
//   activation rows m0 = MT·blockIdx.y .. m0 + MT; lane l reads the row's
//   16-byte chunks l, l + 32, ... (coalesced: a warp reads 512 contiguous
//   bytes), each chunk one group's worth of codes:
//     codes  -> floats by the magic number: bitcast(0x4B000000 | q) - 2^23
//               (exact, an AND/OR and an FSUB instead of an I2F per code);
//               LUT forms look the code up in a table in shared memory;
//     dot_m += x[m][k] · q, sum_m += x[m][k]       (one FMA per code and row)
//     acc_m += s · dot_m + b · sum_m               (the group scale hoisted)
//   then a butterfly of warp shuffles sums the lanes' accumulators and lane
//   0 stores the MT outputs. Activations are read with 16-byte vector loads.
//
// Everything else (3-, 5-, 6-, 7-bit packed codes, column or per-row
// tables, groups smaller than a chunk) takes one thread per output,
// evaluating the reference weights exactly as the CPU's scalar path does.
//
//===----------------------------------------------------------------------===//

#include "QMatmulToGPU.h"

#include "../SQuantToVector/Elementwise.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "squant/Reference/Pack.h"

using namespace mlir;
using namespace mlir::squant;
using namespace mlir::squant::lowering;

namespace {

/// Threads per block of the thread-per-output kernel.
constexpr int64_t kThreadsPerOutputBlock = 128;

struct GpuPlan {
  int64_t m = 0, n = 0, k = 0;
  bool lut = false;
  // Codes: a weight [N, K] of integers, or the bytes [N, rowBytes] of the
  // squant.unpack that produced it (packed).
  Value codes;
  bool packed = false;
  PackedLayoutAttr layout;
  // Warp-per-row kernel.
  bool fast = false;
  unsigned fieldBits = 8;
  bool lsbFirst = true;
  bool codesSigned = false; // fma: how fields read as numbers
  int64_t chunkCodes = 16;  // codes per 16-byte chunk
  int64_t group = 0;        // codes per scale
  bool hasScales = false;
  int64_t entries = 0;      // LUT
};

/// Fills `plan`; plan.fast says whether the warp-per-row kernel applies.
void analyze(QMatmulOp op, GpuPlan &plan) {
  auto inType = cast<RankedTensorType>(op.getInput().getType());
  auto wType = cast<RankedTensorType>(op.getWeight().getType());
  plan.k = inType.getShape().back();
  plan.m = inType.getNumElements() / std::max<int64_t>(plan.k, 1);
  plan.n = wType.getDimSize(0);
  plan.codes = op.getWeight();
  unsigned elementBits = wType.getElementTypeBitWidth();
  bool formSigned = false;
  if (auto fma = dyn_cast<FmaFormAttr>(op.getForm())) {
    formSigned = fma.isSigned();
    plan.group = *fma.getGroupSize();
    plan.hasScales = true;
  } else {
    auto lut = cast<LutSchemeAttr>(op.getForm());
    plan.lut = true;
    plan.entries = int64_t(1) << lut.getBits();
    plan.group = plan.k;
    plan.hasScales = bool(op.getScales());
    if (lut.getLutAxis() || lut.getBits() > 4)
      return; // tables per row or column, or more than 16 entries
    if (plan.hasScales) {
      if (!lut.getAxis() || !lut.getGroupSize())
        return; // a scale per tensor or per column
      plan.group = *lut.getGroupSize();
    }
  }
  if (auto unpack = op.getWeight().getDefiningOp<UnpackOp>()) {
    auto bytesType = cast<RankedTensorType>(unpack.getInput().getType());
    plan.layout = unpack.getLayout();
    if (bytesType.getRank() != 2 || !bytesType.getElementType().isInteger(8))
      return;
    plan.packed = true;
    plan.codes = unpack.getInput();
    plan.fieldBits = plan.layout.getBits();
    plan.lsbFirst = plan.layout.getOrder() == PackOrder::LsbFirst;
    bool layoutSigned = plan.layout.getStorage() == Storage::Signed;
    // The fields read as the form reads the unpacked elements only when
    // both agree on the sign (or the field is the whole element).
    if (plan.fieldBits == elementBits)
      plan.codesSigned = formSigned;
    else if (!plan.lut && layoutSigned != formSigned)
      return;
    else
      plan.codesSigned = layoutSigned;
    if (plan.lut && layoutSigned && plan.entries > (int64_t(1) << plan.fieldBits))
      return;
    if (8 % plan.fieldBits != 0 ||
        bytesType.getDimSize(1) * 8 != plan.k * plan.fieldBits)
      return;
  } else {
    if (elementBits != 8)
      return;
    plan.codesSigned = formSigned;
  }
  plan.chunkCodes = 128 / plan.fieldBits;
  unsigned xBytes = inType.getElementTypeBitWidth() / 8;
  plan.fast = plan.k % plan.chunkCodes == 0 && plan.group % plan.chunkCodes == 0 &&
              (plan.k * xBytes) % 16 == 0;
}

class GpuKernelBuilder {
public:
  GpuKernelBuilder(ImplicitLocOpBuilder &b, const GpuPlan &plan, QMatmulOp op,
                   int64_t rows, int64_t mt)
      : b(b), plan(plan), op(op), rows(rows), mt(mt) {}

  void buildWarpPerRow(ValueRange args, Value tableTile);
  void buildThreadPerOutput(ValueRange args);

private:
  ImplicitLocOpBuilder &b;
  const GpuPlan &plan;
  QMatmulOp op;
  int64_t rows, mt;

  Value idx(int64_t v) { return indexConst(b, v); }
  /// Activations x[m][k .. k + 16 bytes) as f32 scalars.
  SmallVector<Value> loadX(Value x, Value m, Value k);
  /// Code `i` of a chunk (four i32 words) as f32: the code (fma) or its
  /// table entry (LUT).
  Value codeValue(ArrayRef<Value> words, int64_t i, Value tableTile);
};

SmallVector<Value> GpuKernelBuilder::loadX(Value x, Value m, Value k) {
  auto type = cast<MemRefType>(x.getType());
  int64_t lanes = 128 / type.getElementTypeBitWidth();
  auto vecType = VectorType::get({lanes}, type.getElementType());
  Value v = vector::LoadOp::create(b, vecType, x, ValueRange{m, k},
                                   /*nontemporal=*/false, llvm::MaybeAlign(16));
  Value f = toF32(b, v);
  SmallVector<Value> out;
  for (int64_t i = 0; i < lanes; ++i)
    out.push_back(vector::ExtractOp::create(b, f, i));
  return out;
}

Value GpuKernelBuilder::codeValue(ArrayRef<Value> words, int64_t i,
                                  Value tableTile) {
  unsigned bits = plan.fieldBits;
  int64_t perWord = 32 / bits, perByte = 8 / bits;
  int64_t inWord = i % perWord;
  int64_t byte = inWord / perByte, j = inWord % perByte;
  int64_t shift = 8 * byte + (plan.lsbFirst ? bits * j : 8 - bits * (j + 1));
  Value word = words[i / perWord];
  Value field = shift ? Value(arith::ShRUIOp::create(b, word, i32Const(b, shift)))
                      : word;
  if (shift + bits < 32)
    field = arith::AndIOp::create(b, field, i32Const(b, (1 << bits) - 1));
  if (plan.lut) {
    Value index = arith::AndIOp::create(b, field, i32Const(b, plan.entries - 1));
    return memref::LoadOp::create(
        b, tableTile,
        ValueRange{arith::IndexCastUIOp::create(b, b.getIndexType(), index)});
  }
  // 2^23 + field (+ 2^(bits-1) for signed fields) as a float, then the
  // offset subtracted: exact for fields below 2^22.
  float offset = 8388608.0f;
  if (plan.codesSigned) {
    field = arith::XOrIOp::create(b, field, i32Const(b, 1 << (bits - 1)));
    offset += float(1 << (bits - 1));
  }
  Value magic = arith::OrIOp::create(b, field, i32Const(b, 0x4B000000));
  Value f = arith::BitcastOp::create(b, b.getF32Type(), magic);
  return arith::SubFOp::create(b, f, f32Const(b, offset));
}

void GpuKernelBuilder::buildWarpPerRow(ValueRange args, Value tableTile) {
  Value x = args[0], codes = args[1];
  Value scales = plan.hasScales ? args[2] : Value();
  Value bias = plan.lut ? Value() : args[3];
  Value y = args.back();
  Type f32 = b.getF32Type();

  Value lane = gpu::ThreadIdOp::create(b, gpu::Dimension::x);
  Value warp = gpu::ThreadIdOp::create(b, gpu::Dimension::y);
  if (plan.lut) {
    // Stage the table (<= 16 entries) as f32 in shared memory.
    Value table = args[plan.hasScales ? 3 : 2];
    Value flat = arith::AddIOp::create(b, arith::MulIOp::create(b, warp, idx(32)), lane);
    Value inTable = arith::CmpIOp::create(b, arith::CmpIPredicate::ult, flat,
                                          idx(plan.entries));
    auto stage = scf::IfOp::create(b, inTable, false);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(&stage.getThenRegion().front());
      Value raw = memref::LoadOp::create(b, table, ValueRange{flat});
      Value entry = raw.getType().isInteger(8)
                        ? Value(arith::SIToFPOp::create(b, f32, raw))
                        : toF32(b, raw);
      memref::StoreOp::create(b, entry, tableTile, ValueRange{flat});
    }
    gpu::BarrierOp::create(b);
  }
  Value row = arith::AddIOp::create(
      b, arith::MulIOp::create(b, gpu::BlockIdOp::create(b, gpu::Dimension::x),
                               idx(rows)),
      warp);
  Value m0 = arith::MulIOp::create(
      b, gpu::BlockIdOp::create(b, gpu::Dimension::y), idx(mt));
  Value inRows = arith::CmpIOp::create(b, arith::CmpIPredicate::ult, row, idx(plan.n));
  auto ifRow = scf::IfOp::create(b, inRows, false);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&ifRow.getThenRegion().front());

  // Activation rows past M read row M - 1 (valid memory) and are not stored.
  SmallVector<Value> mRows;
  for (int64_t r = 0; r < mt; ++r)
    mRows.push_back(arith::MinUIOp::create(b, arith::AddIOp::create(b, m0, idx(r)),
                                           idx(plan.m - 1)));

  int64_t chunks = plan.k / plan.chunkCodes;
  SmallVector<Value> inits(mt, f32Const(b, 0.0f));
  auto loop = scf::ForOp::create(b, lane, idx(chunks), idx(32), inits);
  {
    OpBuilder::InsertionGuard loopGuard(b);
    b.setInsertionPointToStart(loop.getBody());
    Value c = loop.getInductionVar();
    Value byteCol = arith::MulIOp::create(b, c, idx(16));
    auto bytesType = VectorType::get({16}, b.getI8Type());
    Value bytes = vector::LoadOp::create(b, bytesType, codes,
                                         ValueRange{row, byteCol}, false,
                                         llvm::MaybeAlign(16));
    Value wordsVec = vector::BitCastOp::create(
        b, VectorType::get({4}, b.getI32Type()), bytes);
    SmallVector<Value> words;
    for (int64_t w = 0; w < 4; ++w)
      words.push_back(vector::ExtractOp::create(b, wordsVec, w));
    Value k0 = arith::MulIOp::create(b, c, idx(plan.chunkCodes));
    Value g = arith::DivUIOp::create(b, k0, idx(plan.group));
    Value s = plan.hasScales ? toF32(b, memref::LoadOp::create(b, scales, ValueRange{row, g}))
                             : Value();
    Value bv = bias ? toF32(b, memref::LoadOp::create(b, bias, ValueRange{row, g}))
                    : Value();

    SmallVector<Value> dot(mt, f32Const(b, 0.0f)), sum(mt, f32Const(b, 0.0f));
    SmallVector<SmallVector<Value>> xs(mt);
    int64_t xLanes = 128 / cast<MemRefType>(x.getType()).getElementTypeBitWidth();
    for (int64_t i = 0; i < plan.chunkCodes; ++i) {
      if (i % xLanes == 0)
        for (int64_t r = 0; r < mt; ++r)
          xs[r] = loadX(x, mRows[r], arith::AddIOp::create(b, k0, idx(i)));
      Value q = codeValue(words, i, tableTile);
      for (int64_t r = 0; r < mt; ++r) {
        Value xv = xs[r][i % xLanes];
        dot[r] = math::FmaOp::create(b, xv, q, dot[r]);
        if (bias)
          sum[r] = arith::AddFOp::create(b, sum[r], xv);
      }
    }
    SmallVector<Value> next;
    for (int64_t r = 0; r < mt; ++r) {
      Value acc = loop.getRegionIterArgs()[r];
      acc = s ? Value(math::FmaOp::create(b, s, dot[r], acc))
              : Value(arith::AddFOp::create(b, acc, dot[r]));
      if (bias)
        acc = math::FmaOp::create(b, bv, sum[r], acc);
      next.push_back(acc);
    }
    scf::YieldOp::create(b, next);
  }

  // Sum the lanes: a butterfly of shuffles leaves the total in every lane.
  SmallVector<Value> totals;
  for (int64_t r = 0; r < mt; ++r) {
    Value acc = loop.getResult(r);
    for (int32_t offset = 16; offset > 0; offset /= 2) {
      Value other = gpu::ShuffleOp::create(b, acc, offset, 32,
                                           gpu::ShuffleMode::XOR)
                        .getShuffleResult();
      acc = arith::AddFOp::create(b, acc, other);
    }
    totals.push_back(acc);
  }
  Value first = arith::CmpIOp::create(b, arith::CmpIPredicate::eq, lane, idx(0));
  auto ifFirst = scf::IfOp::create(b, first, false);
  b.setInsertionPointToStart(&ifFirst.getThenRegion().front());
  Type outElement = cast<MemRefType>(y.getType()).getElementType();
  for (int64_t r = 0; r < mt; ++r) {
    Value m = arith::AddIOp::create(b, m0, idx(r));
    Value inM = arith::CmpIOp::create(b, arith::CmpIPredicate::ult, m, idx(plan.m));
    auto ifM = scf::IfOp::create(b, inM, false);
    OpBuilder::InsertionGuard storeGuard(b);
    b.setInsertionPointToStart(&ifM.getThenRegion().front());
    memref::StoreOp::create(b, fromF32(b, totals[r], outElement), y,
                            ValueRange{m, row});
  }
}

void GpuKernelBuilder::buildThreadPerOutput(ValueRange args) {
  Value x = args[0], codes = args[1], y = args.back();
  auto param = [&](Value operand) -> Value {
    if (!operand)
      return Value();
    // Parameters follow x and the codes in operand order.
    int64_t index = 2;
    for (Value p : {op.getScales(), op.getBias(), op.getTable()}) {
      if (p == operand)
        return args[index];
      if (p)
        ++index;
    }
    return Value();
  };
  Value scales = param(op.getScales()), bias = param(op.getBias()),
        table = param(op.getTable());
  OpBuilder::InsertionGuard guard(b);
  Value linear = threadPerItemIndex(b, kThreadsPerOutputBlock, plan.m * plan.n);
  Value m = arith::DivUIOp::create(b, linear, idx(plan.n));
  Value n = arith::RemUIOp::create(b, linear, idx(plan.n));
  Type format = cast<MemRefType>(y.getType()).getElementType();
  auto wType = cast<RankedTensorType>(op.getWeight().getType());
  int64_t rowBytes = plan.packed ? ref::packedRowBytes(plan.k, plan.fieldBits) : 0;
  auto loop = scf::ForOp::create(b, idx(0), idx(plan.k), idx(1),
                                 ValueRange{f32Const(b, 0.0f)});
  {
    OpBuilder::InsertionGuard loopGuard(b);
    b.setInsertionPointToStart(loop.getBody());
    Value k = loop.getInductionVar();
    SmallVector<Value> at{n, k};
    // The code as the form reads the weight's element.
    Value element = plan.packed
                        ? fromI32(b, emitUnpackedCode(b, plan.layout, codes, ValueRange{n}, k, rowBytes),
                                  wType.getElementType())
                        : Value(memref::LoadOp::create(b, codes, at));
    Value w = emitQMatmulWeight(b, op, element, at, scales, bias, table);
    Value xv = toF32(b, memref::LoadOp::create(b, x, ValueRange{m, k}));
    Value acc = math::FmaOp::create(b, xv, w, loop.getRegionIterArgs()[0]);
    scf::YieldOp::create(b, acc);
  }
  memref::StoreOp::create(b, fromF32(b, loop.getResult(0), format), y,
                          ValueRange{m, n});
}

/// `buffer` (identity layout) as the same elements in `shape`, where one
/// of the two is the [rows, cols] matrix of the other: [K] <-> [1, K], and
/// [..., M, K] <-> [prod(...) M, K].
Value reshapeBuffer(ImplicitLocOpBuilder &b, Value buffer, ArrayRef<int64_t> shape) {
  auto type = cast<MemRefType>(buffer.getType());
  int64_t from = type.getRank(), to = shape.size();
  if (from == to)
    return buffer;
  int64_t high = std::max(from, to);
  SmallVector<ReassociationIndices> groups;
  if (high == 2) {
    groups.push_back({0, 1});
  } else {
    groups.emplace_back();
    for (int64_t d = 0; d + 1 < high; ++d)
      groups.back().push_back(d);
    groups.push_back({high - 1});
  }
  if (to < from)
    return memref::CollapseShapeOp::create(b, buffer, groups);
  return memref::ExpandShapeOp::create(
      b, MemRefType::get(shape, type.getElementType()), buffer, groups);
}

} // namespace

LogicalResult lowering::lowerQMatmulToGPU(RewriterBase &rewriter, QMatmulOp op,
                                          gpu::GPUModuleOp module,
                                          const QMatmulGpuOptions &options) {
  GpuPlan plan;
  analyze(op, plan);
  if (plan.m == 0 || plan.n == 0 || plan.k == 0)
    return op.emitOpError("cannot be lowered to a GPU kernel with an empty dimension");
  ImplicitLocOpBuilder b(op.getLoc(), rewriter);
  auto resultType = cast<RankedTensorType>(op.getResult().getType());
  Type element = resultType.getElementType();

  SmallVector<Value> args{reshapeBuffer(b, bufferOf(b, op.getInput()), {plan.m, plan.k}),
                          bufferOf(b, plan.codes)};
  for (Value operand : {op.getScales(), op.getBias(), op.getTable()})
    if (operand)
      args.push_back(bufferOf(b, operand));
  auto outType = MemRefType::get({plan.m, plan.n}, element);
  Value out = deviceAlloc(b, outType);
  args.push_back(out);

  int64_t mt = std::min(plan.m, options.mTile);
  int64_t rows = options.rowsPerBlock;
  SmallVector<Type> workgroup;
  auto shared = gpu::AddressSpaceAttr::get(b.getContext(),
                                           gpu::AddressSpace::Workgroup);
  if (plan.fast && plan.lut)
    workgroup.push_back(MemRefType::get({plan.entries}, b.getF32Type(),
                                        MemRefLayoutAttrInterface(), shared));
  gpu::GPUFuncOp kernel =
      createKernel(rewriter, op.getLoc(), module,
                   plan.fast ? "qmatmul_warp_per_row" : "qmatmul_thread_per_output",
                   ValueRange(args).getTypes(), workgroup);
  {
    OpBuilder::InsertionGuard guard(rewriter);
    Block &entry = kernel.getBody().front();
    rewriter.setInsertionPointToStart(&entry);
    ImplicitLocOpBuilder kb(op.getLoc(), rewriter);
    GpuKernelBuilder builder(kb, plan, op, rows, mt);
    // The entry block's arguments are the kernel's, then the workgroup
    // buffers.
    ValueRange kernelArgs = entry.getArguments().take_front(kernel.getNumArguments());
    if (plan.fast)
      builder.buildWarpPerRow(kernelArgs,
                              workgroup.empty() ? Value()
                                                : Value(kernel.getWorkgroupAttributions()[0]));
    else
      builder.buildThreadPerOutput(kernelArgs);
    kb.setInsertionPointToEnd(&entry);
    gpu::ReturnOp::create(kb);
  }

  Value one = indexConst(b, 1);
  if (plan.fast) {
    gpu::KernelDim3 grid{indexConst(b, (plan.n + rows - 1) / rows),
                         indexConst(b, (plan.m + mt - 1) / mt), one};
    gpu::KernelDim3 block{indexConst(b, 32), indexConst(b, rows), one};
    gpu::LaunchFuncOp::create(b, kernel, grid, block, Value(), args);
  } else {
    launchThreadPerItem(b, kernel, kThreadsPerOutputBlock, plan.m * plan.n, args);
  }

  // Back to the result's shape.
  Value result = reshapeBuffer(b, out, resultType.getShape());
  rewriter.replaceOp(op, tensorOf(b, result, resultType));
  return success();
}
