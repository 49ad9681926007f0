//===- QMatmulToGPU.cpp - squant.qmatmul as a GPU kernel ------------------===//
//
// The warp-per-row kernel (weights whose codes come in whole 16-byte loads
// per chunk, groups of whole chunks):
//
//   block (32, R): warp w handles weight row n = R·blockIdx.x + w for the
//   activation rows m0 = MT·blockIdx.y .. m0 + MT. A chunk is the fewest
//   codes filling whole 16-byte words (16 codes at 8 bits, 32 at 4, 64 at
//   2, 128 at 3 = 48 bytes). The row's chunks are consumed in steps of
//   32·U: lane l takes chunks step + l + 32u (u < U), issuing all its U·(16-
//   byte) code loads before using any (U loads in flight per lane; a warp
//   reads 512 contiguous bytes per load), then per chunk:
//     codes  -> floats by the magic number: bitcast(0x4B000000 | q) - 2^23
//               (exact, an AND/OR and an FSUB instead of an I2F per code;
//               codes straddling two 32-bit words are joined by a funnel
//               shift); LUT forms look the code up in a table in shared
//               memory;
//     dot_m += x[m][k] · q, sum_m += x[m][k]       (one FMA per code and row)
//     acc_m += s · dot_m + b · sum_m               (the group scale hoisted)
//   Lanes whose chunk is past the row's end read the last chunk and keep
//   their accumulators (a select, so garbage never enters the sum).
//   Small batches (MT > 1) stage the step's activations, MT rows × 32·U
//   chunks, in shared memory: the block's threads copy them with 16-byte
//   loads once for its R warps, each chunk's segment padded by 16 bytes so
//   the lanes' 16-byte reads hit distinct banks. The tile is kept within
//   kTileBytes by lowering U, then MT. Finally a butterfly of warp shuffles
//   sums the lanes' accumulators and lane 0 stores the MT outputs.
//
// Everything else (msb_first fields that straddle bytes, column or per-row
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

#include <numeric>

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
  int64_t chunkCodes = 16;  // codes per chunk (whole 16-byte words)
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
    if (bytesType.getDimSize(1) * 8 != plan.k * plan.fieldBits)
      return;
  } else {
    if (elementBits != 8)
      return;
    plan.codesSigned = formSigned;
  }
  // Fields that straddle bytes are a little-endian bit stream (lsb_first)
  // that 32-bit words read directly; msb_first's big-endian stream is not.
  if (8 % plan.fieldBits != 0 && !plan.lsbFirst)
    return;
  plan.chunkCodes = 128 / std::gcd<int64_t>(128, plan.fieldBits);
  unsigned xBytes = inType.getElementTypeBitWidth() / 8;
  plan.fast = plan.k % plan.chunkCodes == 0 && plan.group % plan.chunkCodes == 0 &&
              (plan.k * xBytes) % 16 == 0;
}

/// Shared memory for one step's activations, at most.
constexpr int64_t kTileBytes = 40 * 1024;
/// Chunks in flight per lane, at most.
constexpr int64_t kMaxUnroll = 4;

/// How the warp-per-row kernel tiles its work.
struct WarpTiling {
  int64_t mt = 1;          // activation rows per block
  int64_t unroll = 1;      // chunks per lane per step
  bool staged = false;     // activations staged in shared memory
  int64_t paddedCodes = 0; // activation elements per staged chunk
};

WarpTiling chooseTiling(const GpuPlan &plan, int64_t xBytes, int64_t mTile) {
  WarpTiling t;
  int64_t chunks = plan.k / plan.chunkCodes;
  t.mt = std::min(plan.m, mTile);
  t.unroll = std::clamp<int64_t>((chunks + 31) / 32, 1, kMaxUnroll);
  t.paddedCodes = plan.chunkCodes + 16 / xBytes;
  auto tileBytes = [&] { return t.mt * 32 * t.unroll * t.paddedCodes * xBytes; };
  if (t.mt > 1) {
    while (t.unroll > 1 && tileBytes() > kTileBytes)
      --t.unroll;
    while (t.mt > 1 && tileBytes() > kTileBytes)
      --t.mt;
  }
  t.staged = t.mt > 1;
  return t;
}

class GpuKernelBuilder {
public:
  GpuKernelBuilder(ImplicitLocOpBuilder &b, const GpuPlan &plan, QMatmulOp op,
                   int64_t rows, const WarpTiling &tiling)
      : b(b), plan(plan), op(op), rows(rows), tiling(tiling) {}

  /// `table` and `tile` are the workgroup buffers (null when unused).
  void buildWarpPerRow(ValueRange args, Value table, Value tile);
  void buildThreadPerOutput(ValueRange args);

private:
  ImplicitLocOpBuilder &b;
  const GpuPlan &plan;
  QMatmulOp op;
  int64_t rows;
  const WarpTiling &tiling;

  Value idx(int64_t v) { return indexConst(b, v); }
  /// The 16 bytes of `buffer` at `indices` as f32 scalars.
  SmallVector<Value> load16Bytes(Value buffer, ValueRange indices);
  /// Code `i` of a chunk (its 32-bit words) as f32: the code (fma) or its
  /// table entry (LUT).
  Value codeValue(ArrayRef<Value> words, int64_t i, Value tableTile);
  /// Stages the activation rows' chunks [base, base + 32·U) in `tile`.
  void stageActivations(Value x, Value tile, Value thread, Value m0, Value base);
};

SmallVector<Value> GpuKernelBuilder::load16Bytes(Value buffer, ValueRange indices) {
  auto type = cast<MemRefType>(buffer.getType());
  int64_t lanes = 128 / type.getElementTypeBitWidth();
  auto vecType = VectorType::get({lanes}, type.getElementType());
  Value v = vector::LoadOp::create(b, vecType, buffer, indices,
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
  int64_t bit = i * bits;
  if (!plan.lsbFirst) {
    // Whole fields per byte, the first at the byte's top.
    int64_t perByte = 8 / bits, j = i % perByte;
    bit = 8 * (i / perByte) + 8 - bits * (j + 1);
  }
  Value word = words[bit / 32];
  int64_t shift = bit % 32;
  Value field = shift ? Value(arith::ShRUIOp::create(b, word, i32Const(b, shift)))
                      : word;
  if (shift + bits > 32) {
    // The field continues in the next word's low bits.
    Value high = arith::ShLIOp::create(b, words[bit / 32 + 1],
                                       i32Const(b, 32 - shift));
    field = arith::OrIOp::create(b, field, high);
  }
  if (shift + bits != 32)
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

void GpuKernelBuilder::stageActivations(Value x, Value tile, Value thread,
                                        Value m0, Value base) {
  auto xType = cast<MemRefType>(x.getType());
  int64_t xLanes = 128 / xType.getElementTypeBitWidth();
  int64_t perChunk = plan.chunkCodes / xLanes; // 16-byte pieces per chunk
  int64_t stepChunks = 32 * tiling.unroll;
  int64_t chunks = plan.k / plan.chunkCodes;
  int64_t pieces = tiling.mt * stepChunks * perChunk;
  auto copy = scf::ForOp::create(b, thread, idx(pieces), idx(32 * rows));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(copy.getBody());
  Value v = copy.getInductionVar();
  Value r = arith::DivUIOp::create(b, v, idx(stepChunks * perChunk));
  Value rest = arith::RemUIOp::create(b, v, idx(stepChunks * perChunk));
  Value chunk = arith::DivUIOp::create(b, rest, idx(perChunk));
  Value piece = arith::RemUIOp::create(b, rest, idx(perChunk));
  Value global = arith::AddIOp::create(b, base, chunk);
  Value inRow = arith::CmpIOp::create(b, arith::CmpIPredicate::ult, global, idx(chunks));
  auto ifIn = scf::IfOp::create(b, inRow, false);
  b.setInsertionPointToStart(&ifIn.getThenRegion().front());
  Value m = arith::MinUIOp::create(b, arith::AddIOp::create(b, m0, r),
                                   idx(plan.m - 1));
  Value offset = arith::MulIOp::create(b, piece, idx(xLanes));
  Value k = arith::AddIOp::create(
      b, arith::MulIOp::create(b, global, idx(plan.chunkCodes)), offset);
  auto vecType = VectorType::get({xLanes}, xType.getElementType());
  Value value = vector::LoadOp::create(b, vecType, x, ValueRange{m, k}, false,
                                       llvm::MaybeAlign(16));
  vector::StoreOp::create(b, value, tile, ValueRange{r, chunk, offset}, false,
                          llvm::MaybeAlign(16));
}

void GpuKernelBuilder::buildWarpPerRow(ValueRange args, Value tableTile,
                                       Value tile) {
  Value x = args[0], codes = args[1];
  Value scales = plan.hasScales ? args[2] : Value();
  Value bias = plan.lut ? Value() : args[3];
  Value y = args.back();
  Type f32 = b.getF32Type();
  int64_t mt = tiling.mt, unroll = tiling.unroll;

  Value lane = gpu::ThreadIdOp::create(b, gpu::Dimension::x);
  Value warp = gpu::ThreadIdOp::create(b, gpu::Dimension::y);
  Value thread = arith::AddIOp::create(b, arith::MulIOp::create(b, warp, idx(32)), lane);
  if (plan.lut) {
    // Stage the table (<= 16 entries) as f32 in shared memory.
    Value table = args[plan.hasScales ? 3 : 2];
    Value inTable = arith::CmpIOp::create(b, arith::CmpIPredicate::ult, thread,
                                          idx(plan.entries));
    auto stage = scf::IfOp::create(b, inTable, false);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(&stage.getThenRegion().front());
      Value raw = memref::LoadOp::create(b, table, ValueRange{thread});
      Value entry = raw.getType().isInteger(8)
                        ? Value(arith::SIToFPOp::create(b, f32, raw))
                        : toF32(b, raw);
      memref::StoreOp::create(b, entry, tableTile, ValueRange{thread});
    }
    gpu::BarrierOp::create(b);
  }
  // Every warp runs the loop (the staging barriers need the whole block):
  // rows past N read row N - 1 and store nothing; activation rows past M
  // read row M - 1 and are not stored.
  Value rowIndex = arith::AddIOp::create(
      b, arith::MulIOp::create(b, gpu::BlockIdOp::create(b, gpu::Dimension::x),
                               idx(rows)),
      warp);
  Value row = arith::MinUIOp::create(b, rowIndex, idx(plan.n - 1));
  Value m0 = arith::MulIOp::create(
      b, gpu::BlockIdOp::create(b, gpu::Dimension::y), idx(mt));
  SmallVector<Value> mRows;
  for (int64_t r = 0; r < mt; ++r)
    mRows.push_back(arith::MinUIOp::create(b, arith::AddIOp::create(b, m0, idx(r)),
                                           idx(plan.m - 1)));

  int64_t chunks = plan.k / plan.chunkCodes;
  int64_t stepChunks = 32 * unroll;
  int64_t chunkWords = plan.chunkCodes * plan.fieldBits / 32;
  int64_t xLanes = 128 / cast<MemRefType>(x.getType()).getElementTypeBitWidth();
  SmallVector<Value> inits(mt, f32Const(b, 0.0f));
  auto loop = scf::ForOp::create(b, idx(0), idx(chunks), idx(stepChunks), inits);
  {
    OpBuilder::InsertionGuard loopGuard(b);
    b.setInsertionPointToStart(loop.getBody());
    Value base = loop.getInductionVar();
    // All of the lane's code, scale and bias loads first.
    struct Chunk {
      Value valid, index;
      SmallVector<Value> words;
      Value s, bias;
    };
    SmallVector<Chunk> mine(unroll);
    for (int64_t u = 0; u < unroll; ++u) {
      Chunk &c = mine[u];
      Value index = arith::AddIOp::create(b, base, arith::AddIOp::create(b, lane, idx(32 * u)));
      c.valid = arith::CmpIOp::create(b, arith::CmpIPredicate::ult, index, idx(chunks));
      c.index = arith::MinUIOp::create(b, index, idx(chunks - 1));
      auto bytesType = VectorType::get({16}, b.getI8Type());
      for (int64_t w = 0; w < chunkWords; w += 4) {
        Value col = arith::AddIOp::create(
            b, arith::MulIOp::create(b, c.index, idx(chunkWords * 4)), idx(4 * w));
        Value bytes = vector::LoadOp::create(b, bytesType, codes, ValueRange{row, col},
                                             false, llvm::MaybeAlign(16));
        Value wordsVec = vector::BitCastOp::create(
            b, VectorType::get({4}, b.getI32Type()), bytes);
        for (int64_t j = 0; j < 4; ++j)
          c.words.push_back(vector::ExtractOp::create(b, wordsVec, j));
      }
      Value g = arith::DivUIOp::create(
          b, arith::MulIOp::create(b, c.index, idx(plan.chunkCodes)), idx(plan.group));
      if (plan.hasScales)
        c.s = toF32(b, memref::LoadOp::create(b, scales, ValueRange{row, g}));
      if (bias)
        c.bias = toF32(b, memref::LoadOp::create(b, bias, ValueRange{row, g}));
    }
    if (tiling.staged) {
      stageActivations(x, tile, thread, m0, base);
      gpu::BarrierOp::create(b);
    }

    SmallVector<Value> acc(loop.getRegionIterArgs());
    for (int64_t u = 0; u < unroll; ++u) {
      const Chunk &c = mine[u];
      Value k0 = arith::MulIOp::create(b, c.index, idx(plan.chunkCodes));
      Value local = arith::AddIOp::create(b, lane, idx(32 * u));
      SmallVector<Value> dot(mt, f32Const(b, 0.0f)), sum(mt, f32Const(b, 0.0f));
      SmallVector<SmallVector<Value>> xs(mt);
      for (int64_t i = 0; i < plan.chunkCodes; ++i) {
        if (i % xLanes == 0)
          for (int64_t r = 0; r < mt; ++r)
            xs[r] = tiling.staged
                        ? load16Bytes(tile, ValueRange{idx(r), local, idx(i)})
                        : load16Bytes(x, ValueRange{mRows[r],
                                                    arith::AddIOp::create(b, k0, idx(i))});
        Value q = codeValue(c.words, i, tableTile);
        for (int64_t r = 0; r < mt; ++r) {
          Value xv = xs[r][i % xLanes];
          dot[r] = math::FmaOp::create(b, xv, q, dot[r]);
          if (bias)
            sum[r] = arith::AddFOp::create(b, sum[r], xv);
        }
      }
      for (int64_t r = 0; r < mt; ++r) {
        Value next = c.s ? Value(math::FmaOp::create(b, c.s, dot[r], acc[r]))
                         : Value(arith::AddFOp::create(b, acc[r], dot[r]));
        if (bias)
          next = math::FmaOp::create(b, c.bias, sum[r], next);
        acc[r] = arith::SelectOp::create(b, c.valid, next, acc[r]);
      }
    }
    if (tiling.staged)
      gpu::BarrierOp::create(b);
    scf::YieldOp::create(b, acc);
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
  Value first = arith::AndIOp::create(
      b, arith::CmpIOp::create(b, arith::CmpIPredicate::eq, lane, idx(0)),
      arith::CmpIOp::create(b, arith::CmpIPredicate::ult, rowIndex, idx(plan.n)));
  auto ifFirst = scf::IfOp::create(b, first, false);
  OpBuilder::InsertionGuard guard(b);
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

  int64_t xBytes = cast<RankedTensorType>(op.getInput().getType()).getElementTypeBitWidth() / 8;
  WarpTiling tiling = chooseTiling(plan, xBytes, options.mTile);
  int64_t mt = tiling.mt;
  int64_t rows = options.rowsPerBlock;
  SmallVector<Type> workgroup;
  auto shared = gpu::AddressSpaceAttr::get(b.getContext(),
                                           gpu::AddressSpace::Workgroup);
  if (plan.fast && plan.lut)
    workgroup.push_back(MemRefType::get({plan.entries}, b.getF32Type(),
                                        MemRefLayoutAttrInterface(), shared));
  if (plan.fast && tiling.staged)
    workgroup.push_back(MemRefType::get(
        {mt, 32 * tiling.unroll, tiling.paddedCodes},
        cast<RankedTensorType>(op.getInput().getType()).getElementType(),
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
    GpuKernelBuilder builder(kb, plan, op, rows, tiling);
    // The entry block's arguments are the kernel's, then the workgroup
    // buffers (the table, then the activation tile).
    ValueRange kernelArgs = entry.getArguments().take_front(kernel.getNumArguments());
    ArrayRef<BlockArgument> buffers = kernel.getWorkgroupAttributions();
    if (plan.fast)
      builder.buildWarpPerRow(kernelArgs, plan.lut ? Value(buffers.front()) : Value(),
                              tiling.staged ? Value(buffers.back()) : Value());
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
