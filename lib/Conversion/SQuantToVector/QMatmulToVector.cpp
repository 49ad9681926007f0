//===- QMatmulToVector.cpp - squant.qmatmul as a vector kernel ------------===//
//
// y[m, n] = sum_k x[m, k] w[n, k], w dequantized on the fly (fma or lut
// form), written as scf/vector/arith/memref loops:
//
//   scf.parallel over blocks of weight rows             (threads)
//     hoisted path (M <= hoist-max-m), per block i of R rows n_r = i + r·⌈N/R⌉
//     (R linear streams across consecutive blocks; each group's codes in
//     rows n_r + 1, one row ahead in memory, are prefetched):
//       for each K group g: acc_q[r][m] += x[m, k:k+V] * decode(q[n_r, k:k+V])
//                           acc[r][m]   += s[n_r, g] * acc_q[r][m]
//       y[m, n_r] = reduce(acc[r][m]) + reduce(sum_g b[n_r, g] * xsum[m, g])
//                   (the bias term V groups per vector FMA)
//     outer-product path (M >= V, the vector width), per N chunk of about
//     16 blocks of G rows (G = 14 on AVX-512, 6 otherwise), x^T [K, Mp]
//     built once per call:
//       per M chunk of up to 4 slices of 2V activation rows:
//         per K block (256 columns of whole groups, or 256 of one group):
//           per block b of the chunk (x^T's K block stays in L2):
//             panel[g, :] = dequantize(q[n_g, K block])  (an L1 panel)
//             ct[b, g, m:m+2V] += panel[g, k] * x^T[k, m:m+2V]
//                                              (2G accumulators)
//         y[m, n_g] = ct[b, g, m]   (each sum runs over k in order)
//     dot-product panel path (hoist-max-m < M < V), per block of 4R rows:
//       panel[p, :] = dequantize(q[n_p, :])  (one FMA or lookup per weight)
//       for tiles of 4 activation rows x R panel rows: dot products over K
//
// decode() reads V codes: an i8..i32 code vector, or V·bits/8 packed bytes
// expanded with constant shuffles, per-lane shifts and masks. On AVX-512
// the hoisted path reads 2- and 4-bit lsb_first codes by broadcast: the
// chunk's one or two 32-bit words are broadcast to every lane, lane l
// shifts its word (l mod W) right by bits·(l / W), and one vpermps looks
// the low four bits up in a 16-entry table (the code values, or the LUT
// repeated to 16 entries), so no mask, int-to-float conversion or byte
// spreading remains: a broadcast load, a shift, a permute and an FMA per
// 16 weights. Lane l then holds code (l mod W)·32/bits + l / W of the
// chunk, so the activations are permuted the same way once per call. Rows past
// N and activation rows past M are clamped to the last one and not stored, so
// ragged shapes need no second copy of the kernel; K tails within a group are
// masked loads.
//
//===----------------------------------------------------------------------===//

#include "QMatmulToVector.h"

#include "Elementwise.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::squant;
using namespace mlir::squant::lowering;

namespace {

enum class TableKind { PerTensor, PerRow, PerKGroup };
enum class ScaleKind { None, PerTensor, PerKGroup };

/// What the kernel needs to know about one qmatmul.
struct Plan {
  int64_t m = 0, n = 0, k = 0;
  bool lut = false;
  unsigned bits = 0;
  // The codes: the weight itself, or the bytes of the squant.unpack that
  // produced it.
  Value codes;
  bool packed = false;
  PackOrder order = PackOrder::LsbFirst;
  unsigned fieldBits = 0;  // packed: bits per field
  bool layoutSigned = false;
  unsigned codeWidth = 8;  // element width of the weight tensor
  bool codesSigned = false; // how the form reads the weight's elements
  // fma form: scale and bias per group of `group` along K.
  // lut form: scales and tables as below.
  int64_t group = 0;      // K per iteration of the group loop
  ScaleKind scales = ScaleKind::None;
  TableKind tables = TableKind::PerTensor;
  int64_t tableGroup = 0; // PerKGroup tables
  int64_t entries = 0;
  // Broadcast decode (hoisted path): 32-bit words per chunk, 0 when off.
  int64_t broadcastWords = 0;
  // Byte-window decode: lane l's 32-bit word is the four bytes from the
  // one holding its code's first bit, gathered by one byte shuffle.
  bool byteWindow = false;
  // Byte-window decode on AVX-512 of fields of at most 4 bits: decode()
  // returns the shifted word, whose low 4 bits index a 16-entry table
  // periodic in the field's values (one vpermps instead of mask, sign and
  // conversion).
  bool windowLookup = false;
  bool intTable = false;
  Type tableType, paramType;
};

/// Why the vector kernel does not take `op` (empty: it does), filling `plan`.
std::string analyze(QMatmulOp op, const VectorTarget &target, Plan &plan) {
  auto inType = cast<RankedTensorType>(op.getInput().getType());
  auto wType = cast<RankedTensorType>(op.getWeight().getType());
  if (!inType.hasStaticShape() || !wType.hasStaticShape())
    return "dynamic shapes";
  ArrayRef<int64_t> shape = inType.getShape();
  plan.k = shape.back();
  plan.m = 1;
  for (int64_t d : shape.drop_back())
    plan.m *= d;
  plan.n = wType.getDimSize(0);
  if (plan.m == 0 || plan.n == 0 || plan.k == 0)
    return "an empty dimension";
  plan.codes = op.getWeight();
  plan.codeWidth = wType.getElementTypeBitWidth();
  if (plan.codeWidth > 32)
    return "codes wider than 32 bits";
  int64_t lanes = target.lanes;

  if (auto fma = dyn_cast<FmaFormAttr>(op.getForm())) {
    plan.bits = fma.getBits();
    plan.codesSigned = fma.isSigned();
    plan.group = *fma.getGroupSize();
    plan.paramType = cast<ShapedType>(op.getScales().getType()).getElementType();
  } else {
    auto lut = cast<LutSchemeAttr>(op.getForm());
    plan.lut = true;
    plan.bits = lut.getBits();
    plan.entries = int64_t(1) << plan.bits;
    if (plan.bits > 4)
      return "a table of more than 16 entries (no in-register lookup)";
    auto tableType = cast<ShapedType>(op.getTable().getType());
    plan.tableType = tableType.getElementType();
    plan.intTable = plan.tableType.isInteger(8);
    plan.group = plan.k;
    if (op.getScales()) {
      plan.paramType = cast<ShapedType>(op.getScales().getType()).getElementType();
      if (!lut.getAxis()) {
        plan.scales = ScaleKind::PerTensor;
      } else if (lut.getGroupSize()) {
        plan.scales = ScaleKind::PerKGroup;
        plan.group = *lut.getGroupSize();
      } else {
        return "scales per column";
      }
    }
    if (!lut.getLutAxis()) {
      plan.tables = TableKind::PerTensor;
    } else if (*lut.getLutAxis() == 0 && !lut.getLutGroupSize()) {
      plan.tables = TableKind::PerRow;
    } else if (*lut.getLutAxis() == 1 && lut.getLutGroupSize()) {
      plan.tables = TableKind::PerKGroup;
      plan.tableGroup = *lut.getLutGroupSize();
      if (plan.scales != ScaleKind::PerKGroup)
        plan.group = plan.tableGroup;
      if (plan.tableGroup % lanes != 0 || plan.group % lanes != 0)
        return "table groups that are not multiples of the vector width";
    } else {
      return "tables per column or per group of rows";
    }
  }

  // Read the bytes of a packing squant.unpack directly where every chunk of
  // codes starts on a byte.
  if (auto unpack = op.getWeight().getDefiningOp<UnpackOp>()) {
    auto bytesType = cast<RankedTensorType>(unpack.getInput().getType());
    PackedLayoutAttr layout = unpack.getLayout();
    if (bytesType.getRank() == 2 && bytesType.getElementType().isInteger(8) &&
        plan.group % lanes == 0 && (lanes * layout.getBits()) % 8 == 0) {
      plan.packed = true;
      plan.codes = unpack.getInput();
      plan.order = layout.getOrder();
      plan.fieldBits = layout.getBits();
      plan.layoutSigned = layout.getStorage() == Storage::Signed;
      // A LUT index is the field's low bits only when the field is at
      // least as wide as the index.
      unsigned bits = plan.fieldBits;
      if (target.isa == Isa::Avx512 && plan.order == PackOrder::LsbFirst &&
          (bits == 2 || bits == 4) && plan.k % lanes == 0 &&
          (!plan.lut || bits >= plan.bits))
        plan.broadcastWords = lanes * bits / 32;
      plan.byteWindow = target.isa != Isa::Generic &&
                        plan.order == PackOrder::LsbFirst && bits % 2 == 1;
      plan.windowLookup = plan.byteWindow && target.isa == Isa::Avx512 &&
                          bits <= 4 && (!plan.lut || bits >= plan.bits);
    }
  }
  return "";
}

/// The code that lane `lane` of a broadcast decode reads in its chunk.
int64_t broadcastLaneCode(int64_t lane, int64_t words, unsigned bits) {
  return (lane % words) * (32 / bits) + lane / words;
}

/// A lookup table in registers.
struct Table {
  Value full;   // vector<16xf32> (AVX-512) or vector<8xf32> (AVX2, <= 8 entries)
  Value lo, hi; // AVX2 with 16 entries: two halves
  SmallVector<Value> splats; // generic: one broadcast per entry
};

class KernelBuilder {
public:
  KernelBuilder(ImplicitLocOpBuilder &b, const Plan &plan,
                const VectorTarget &target)
      : b(b), plan(plan), target(target), lanes(target.lanes) {
    f32 = b.getF32Type();
    vf32 = VectorType::get({lanes}, f32);
    vi32 = VectorType::get({lanes}, b.getI32Type());
  }

  void build(QMatmulOp op, Value x, Value y, int64_t hoistMaxM, int64_t rowTile);

private:
  ImplicitLocOpBuilder &b;
  const Plan &plan;
  VectorTarget target;
  int64_t lanes;
  Type f32;
  VectorType vf32, vi32;
  Value x, y, codes, scales, bias, table, xsum;
  Value xt; // outer-product path: x^T, padded to Mp columns
  int64_t mPadded = 0;
  Value tensorScaleVec; // LUT form with one scale: broadcast once
  Table tensorTable;    // LUT form with one table: loaded once
  Table codeTable;      // broadcast decode, fma form: the codes' values
  /// decode() reads by broadcast (lanes permuted).
  bool broadcast = false;
  /// decode() returns indices into a 16-entry table of the codes' values
  /// (broadcast or byte-window lookup decode), not the codes.
  bool lookupCodes() const { return broadcast || plan.windowLookup; }

  Value idx(int64_t v) { return indexConst(b, v); }
  Value zeroVec() { return f32Const(b, 0.0f, vf32); }
  Value minIndex(Value a, int64_t bound) {
    return arith::MinUIOp::create(b, a, idx(bound));
  }
  Value addIndex(Value a, int64_t c) {
    return arith::AddIOp::create(b, a, idx(c));
  }

  /// buffer[row, col .. col + V) as f32 (masked lanes read as zero).
  Value loadVector(Value buffer, Value row, Value col, Value mask);
  Value loadX(Value row, Value k, Value mask);
  Value decode(Value row, Value k, Value mask);
  Value weightVector(Value codesI32, const Table &t);
  Table loadTable(Value row, Value k);
  Value lookup(const Table &t, Value index);
  /// llvm.x86.avx512.permvar.sf.512, declared in the module once.
  func::FuncOp permuteFunction();
  Value loadParam(Value buffer, Value row, Value group);

  using LoopBody = function_ref<SmallVector<Value>(Value, ValueRange)>;
  /// scf.for with the builder inside its body; `body` returns the yielded
  /// values.
  SmallVector<Value> emitFor(Value lb, Value ub, Value step, ValueRange inits,
                             LoopBody body);
  using ChunkBody = function_ref<SmallVector<Value>(Value, Value, ValueRange)>;
  /// Runs `chunk(k, mask, state)` over [k0, k0 + len) in vector-width steps
  /// (unrolled; the tail masked), threading `inits` through.
  SmallVector<Value> forChunks(Value k0, int64_t len, ValueRange inits,
                               ChunkBody chunk);

  void computeXSum();
  /// Lane l of a broadcast decode's chunk holds code order[l] of it.
  SmallVector<int64_t> broadcastOrder() const {
    SmallVector<int64_t> order;
    for (int64_t l = 0; l < lanes; ++l)
      order.push_back(
          broadcastLaneCode(l, plan.broadcastWords, plan.fieldBits));
    return order;
  }
  /// x as f32 with each chunk's lanes in broadcast order.
  Value permuteX();
  /// The codes' values as a 16-entry table (broadcast decode, fma form).
  Table codeValueTable();
  void hoistedBlock(Value block, int64_t rows);
  /// Dequantized weights of `row`, codes [k, k + len) of group `g`, into
  /// panel[p][k - col0 ...]: one FMA (or lookup and multiply) per weight.
  void decodeSegment(Value panel, Value p, Value row, const Table &rowTable,
                     Value g, Value k, int64_t len, Value col0);
  /// x^T as slices [Mp / 2V][K][2V] f32, rows past M copies of the last
  /// (outer-product path); chunks in broadcast order under broadcast decode.
  Value transposeX();
  /// Outer products for N chunk `chunk` of `chunks`, over `blocks` blocks
  /// of `rows` weight rows in all.
  void outerChunk(Value chunk, int64_t rows, int64_t blocks, int64_t chunks);
  /// Prefetches codes [k0, k0 + len) of `rows`.
  void prefetchCodes(ArrayRef<Value> rows, Value k0, int64_t len);
  void panelBlock(Value block, int64_t rows);
  void storeGuarded(Value value, Value m, int64_t mOffset, Value n, int64_t nOffset);
};

Value KernelBuilder::loadVector(Value buffer, Value row, Value col, Value mask) {
  Type elem = cast<MemRefType>(buffer.getType()).getElementType();
  auto type = VectorType::get({lanes}, elem);
  Value v;
  if (mask)
    v = vector::MaskedLoadOp::create(
        b, type, buffer, ValueRange{row, col}, mask,
        fromF32(b, zeroVec(), elem));
  else
    v = vector::LoadOp::create(b, type, buffer, ValueRange{row, col});
  return toF32(b, v);
}

Value KernelBuilder::loadX(Value row, Value k, Value mask) {
  return loadVector(x, row, k, mask);
}

Value KernelBuilder::decode(Value row, Value k, Value mask) {
  if (broadcast) {
    unsigned bits = plan.fieldBits;
    int64_t words = plan.broadcastWords;
    Value byteIndex = arith::DivUIOp::create(
        b, arith::MulIOp::create(b, k, idx(bits)), idx(8));
    Value bytes = vector::LoadOp::create(
        b, VectorType::get({4 * words}, b.getI8Type()), codes,
        ValueRange{row, byteIndex});
    Value packed = vector::BitCastOp::create(
        b, VectorType::get({words}, b.getI32Type()), bytes);
    SmallVector<int64_t> pick;
    SmallVector<int32_t> shifts;
    for (int64_t l = 0; l < lanes; ++l) {
      pick.push_back(l % words);
      shifts.push_back(static_cast<int32_t>(bits * (l / words)));
    }
    Value spread = vector::ShuffleOp::create(b, packed, packed, pick);
    Value shiftVec = arith::ConstantOp::create(
        b, DenseElementsAttr::get(vi32, ArrayRef<int32_t>(shifts)));
    // Only the low four bits index the (periodic) 16-entry table, and
    // vpermps reads no more: no mask.
    return arith::ShRUIOp::create(b, spread, shiftVec);
  }
  Value v;
  if (!plan.packed) {
    auto type = VectorType::get({lanes}, b.getIntegerType(plan.codeWidth));
    Value raw;
    if (mask)
      raw = vector::MaskedLoadOp::create(
          b, type, codes, ValueRange{row, k}, mask,
          arith::ConstantOp::create(b, DenseElementsAttr::get(
                                           type, b.getIntegerAttr(type.getElementType(), 0))));
    else
      raw = vector::LoadOp::create(b, type, codes, ValueRange{row, k});
    v = extendToI32(b, raw, plan.codesSigned);
  } else {
    // V codes of `bits` bits start at byte k·bits/8 (k is a multiple of 8).
    unsigned bits = plan.fieldBits;
    int64_t nbytes = lanes * bits / 8;
    Value byteIndex = arith::DivUIOp::create(
        b, arith::MulIOp::create(b, k, idx(bits)), idx(8));
    Value bytes;
    int64_t padded = int64_t(llvm::PowerOf2Ceil(nbytes));
    if (plan.byteWindow && padded != nbytes) {
      // One load of a whole register part (6 bytes would take two loads
      // and an insert); the bytes past the chunk are masked off, never
      // read, so the last chunk of the buffer stays in bounds.
      auto type = VectorType::get({padded}, b.getI8Type());
      Value mask = vector::ConstantMaskOp::create(
          b, VectorType::get({padded}, b.getI1Type()), ArrayRef<int64_t>{nbytes});
      bytes = vector::MaskedLoadOp::create(
          b, type, codes, ValueRange{row, byteIndex}, mask,
          arith::ConstantOp::create(b, DenseElementsAttr::get(
                                           type, b.getIntegerAttr(b.getI8Type(), 0))));
    } else {
      bytes = vector::LoadOp::create(b, VectorType::get({nbytes}, b.getI8Type()),
                                     codes, ValueRange{row, byteIndex});
    }
    // Lane j's code starts at bit j·bits: byte j·bits/8, offset j·bits%8.
    // A two-byte window is needed when some code crosses a byte boundary.
    bool needHi = false;
    for (int64_t j = 0; j < lanes; ++j)
      needHi |= (j * bits) % 8 + bits > 8;
    int64_t window = needHi ? 16 : 8;
    SmallVector<int64_t> loIdx, hiIdx, windowIdx;
    SmallVector<int32_t> shifts;
    for (int64_t j = 0; j < lanes; ++j) {
      int64_t pos = j * bits, byte = pos / 8, off = pos % 8;
      loIdx.push_back(byte);
      hiIdx.push_back(std::min(byte + 1, nbytes - 1));
      for (int64_t i = 0; i < 4; ++i)
        windowIdx.push_back(std::min(byte + i, nbytes - 1));
      shifts.push_back(static_cast<int32_t>(
          plan.order == PackOrder::LsbFirst ? off : window - off - bits));
    }
    Value word;
    if (plan.byteWindow) {
      // lsb_first: the little-endian word from the code's first byte holds
      // it at bit `off` (bytes past the chunk repeat its last one; only
      // bits above the code read them).
      word = vector::BitCastOp::create(
          b, vi32, vector::ShuffleOp::create(b, bytes, bytes, windowIdx));
      if (plan.windowLookup) // vpermps reads the low 4 bits only
        return arith::ShRUIOp::create(
            b, word,
            arith::ConstantOp::create(
                b, DenseElementsAttr::get(vi32, ArrayRef<int32_t>(shifts))));
    } else {
    // Widen first, then spread: i32 shuffles are one vpermd per register,
    // where byte shuffles of short vectors are not.
    Value wide = extendToI32(b, bytes, false);
    Value lo = vector::ShuffleOp::create(b, wide, wide, loIdx);
    word = lo;
    if (needHi) {
      Value hi = vector::ShuffleOp::create(b, wide, wide, hiIdx);
      if (plan.order == PackOrder::LsbFirst)
        word = arith::OrIOp::create(
            b, lo, arith::ShLIOp::create(b, hi, i32Const(b, 8, vi32)));
      else
        word = arith::OrIOp::create(
            b, arith::ShLIOp::create(b, lo, i32Const(b, 8, vi32)), hi);
    }
    }
    Value shiftVec = arith::ConstantOp::create(
        b, DenseElementsAttr::get(vi32, ArrayRef<int32_t>(shifts)));
    v = arith::AndIOp::create(b, arith::ShRUIOp::create(b, word, shiftVec),
                              i32Const(b, (1 << bits) - 1, vi32));
    if (plan.layoutSigned && bits < 32) {
      Value sign = i32Const(b, 1 << (bits - 1), vi32);
      v = arith::SubIOp::create(b, arith::XOrIOp::create(b, v, sign), sign);
    }
    // The form reads the unpacked element (codeWidth bits) as it says.
    bool noOp = plan.layoutSigned == plan.codesSigned && plan.codeWidth > bits;
    if (!noOp && plan.codeWidth < 32) {
      Value amount = i32Const(b, 32 - plan.codeWidth, vi32);
      Value up = arith::ShLIOp::create(b, v, amount);
      v = plan.codesSigned ? Value(arith::ShRSIOp::create(b, up, amount))
                           : Value(arith::ShRUIOp::create(b, up, amount));
    }
  }
  if (plan.lut)
    v = arith::AndIOp::create(b, v, i32Const(b, plan.entries - 1, vi32));
  return v;
}

Table KernelBuilder::loadTable(Value row, Value k) {
  SmallVector<Value> indices;
  if (plan.tables == TableKind::PerRow)
    indices.push_back(row);
  if (plan.tables == TableKind::PerKGroup) {
    indices.push_back(row);
    indices.push_back(arith::DivUIOp::create(b, k, idx(plan.tableGroup)));
  }
  indices.push_back(idx(0));
  int64_t e = plan.entries;
  Value raw = vector::LoadOp::create(b, VectorType::get({e}, plan.tableType),
                                     table, indices);
  Value t = plan.intTable
                ? Value(arith::SIToFPOp::create(
                      b, VectorType::get({e}, f32),
                      extendToI32(b, raw, /*isSigned=*/true)))
                : toF32(b, raw);
  Table result;
  auto padTo = [&](Value v, int64_t from, int64_t count) {
    SmallVector<int64_t> mask;
    for (int64_t i = 0; i < count; ++i)
      mask.push_back((from + i) % e); // periodic: index bits above log2(e) ignored
    return vector::ShuffleOp::create(b, v, v, mask).getResult();
  };
  if (target.isa == Isa::Avx512) {
    result.full = padTo(t, 0, 16);
  } else if (target.isa == Isa::Avx2 && e <= 8) {
    result.full = padTo(t, 0, 8);
  } else if (target.isa == Isa::Avx2) {
    result.lo = padTo(t, 0, 8);
    result.hi = padTo(t, 8, 8);
  } else {
    for (int64_t i = 0; i < e; ++i)
      result.splats.push_back(vector::BroadcastOp::create(
          b, vf32, vector::ExtractOp::create(b, t, ArrayRef<int64_t>{i})));
  }
  return result;
}

func::FuncOp KernelBuilder::permuteFunction() {
  constexpr StringLiteral name = "llvm.x86.avx512.permvar.sf.512";
  auto module = b.getInsertionBlock()->getParentOp()->getParentOfType<ModuleOp>();
  if (auto fn = module.lookupSymbol<func::FuncOp>(name))
    return fn;
  OpBuilder mb = OpBuilder::atBlockBegin(module.getBody());
  auto vf16 = VectorType::get({16}, f32);
  auto fn = func::FuncOp::create(
      mb, b.getLoc(), name,
      mb.getFunctionType({vf16, VectorType::get({16}, mb.getI32Type())}, {vf16}));
  fn.setPrivate();
  return fn;
}

Value KernelBuilder::lookup(const Table &t, Value index) {
  if (target.isa == Isa::Generic) {
    Value w = t.splats[0];
    for (int64_t i = 1, e = t.splats.size(); i < e; ++i) {
      Value hit = arith::CmpIOp::create(b, arith::CmpIPredicate::eq, index,
                                        i32Const(b, i, vi32));
      w = arith::SelectOp::create(b, hit, t.splats[i], w);
    }
    return w;
  }
  if (target.isa == Isa::Avx512 && t.full) {
    // vpermps: only the low 4 bits of each index count, so the decode
    // paths that produce wider indices (broadcast, byte window) need no
    // mask. Declared as a function named like the LLVM intrinsic (LLVM
    // resolves the name), because an llvm.call_intrinsic has unknown memory
    // effects, which buffer deallocation rejects.
    return func::CallOp::create(b, permuteFunction(), ValueRange{t.full, index})
        .getResult(0);
  }
  // result[i] = table[index[i]] lane by lane: LLVM's x86 backend recognises
  // this build_vector of variable extracts as one variable permute
  // (vpermps), so the lookup stays in registers and needs no intrinsic.
  auto permute = [&](Value tbl, int64_t from, int64_t count) {
    SmallVector<Value> lanesOut;
    for (int64_t i = from; i < from + count; ++i) {
      Value position = arith::IndexCastUIOp::create(
          b, b.getIndexType(),
          vector::ExtractOp::create(b, index, ArrayRef<int64_t>{i}));
      if (t.lo)
        position = arith::AndIOp::create(b, position, idx(7));
      lanesOut.push_back(vector::ExtractOp::create(b, tbl, OpFoldResult(position)));
    }
    return vector::FromElementsOp::create(
        b, VectorType::get({count}, f32), lanesOut).getResult();
  };
  if (t.full)
    return permute(t.full, 0, lanes);
  Value low = arith::CmpIOp::create(b, arith::CmpIPredicate::ult, index,
                                    i32Const(b, 8, vi32));
  return arith::SelectOp::create(b, low, permute(t.lo, 0, lanes),
                                 permute(t.hi, 0, lanes));
}

Value KernelBuilder::loadParam(Value buffer, Value row, Value group) {
  return toF32(b, memref::LoadOp::create(b, buffer, ValueRange{row, group}));
}

SmallVector<Value> KernelBuilder::emitFor(Value lb, Value ub, Value step,
                                          ValueRange inits, LoopBody body) {
  auto loop = scf::ForOp::create(b, lb, ub, step, inits);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(loop.getBody());
  SmallVector<Value> yielded = body(loop.getInductionVar(), loop.getRegionIterArgs());
  if (!inits.empty())
    scf::YieldOp::create(b, yielded);
  return SmallVector<Value>(loop.getResults());
}

SmallVector<Value> KernelBuilder::forChunks(Value k0, int64_t len,
                                            ValueRange inits, ChunkBody chunk) {
  SmallVector<Value> state(inits.begin(), inits.end());
  int64_t full = len / lanes, tail = len % lanes;
  constexpr int64_t kUnroll = 4, kFullyUnrolled = 8;
  int64_t straight = full <= kFullyUnrolled ? full : full % kUnroll;
  int64_t looped = full - straight;
  if (looped > 0)
    state = emitFor(idx(0), idx(looped * lanes), idx(kUnroll * lanes), state,
                    [&](Value iv, ValueRange args) {
                      SmallVector<Value> s(args.begin(), args.end());
                      Value base = arith::AddIOp::create(b, k0, iv);
                      for (int64_t u = 0; u < kUnroll; ++u)
                        s = chunk(addIndex(base, u * lanes), Value(), s);
                      return s;
                    });
  for (int64_t c = 0; c < straight; ++c)
    state = chunk(addIndex(k0, (looped + c) * lanes), Value(), state);
  if (tail > 0) {
    Value mask = vector::ConstantMaskOp::create(
        b, VectorType::get({lanes}, b.getI1Type()), ArrayRef<int64_t>{tail});
    state = chunk(addIndex(k0, full * lanes), mask, state);
  }
  return state;
}

void KernelBuilder::computeXSum() {
  int64_t groups = plan.k / plan.group;
  xsum = memref::AllocOp::create(b, MemRefType::get({plan.m, groups}, f32));
  emitFor(idx(0), idx(plan.m), idx(1), {}, [&](Value m, ValueRange) {
    emitFor(idx(0), idx(groups), idx(1), {}, [&](Value g, ValueRange) {
      Value k0 = arith::MulIOp::create(b, g, idx(plan.group));
      SmallVector<Value> acc = forChunks(
          k0, plan.group, {zeroVec()}, [&](Value k, Value mask, ValueRange s) {
            return SmallVector<Value>{
                arith::AddFOp::create(b, s[0], loadX(m, k, mask))};
          });
      Value sum = vector::ReductionOp::create(b, vector::CombiningKind::ADD, acc[0]);
      memref::StoreOp::create(b, sum, xsum, ValueRange{m, g});
      return SmallVector<Value>{};
    });
    return SmallVector<Value>{};
  });
}

Value KernelBuilder::permuteX() {
  auto type = MemRefType::get({plan.m, plan.k}, f32);
  Value xp = memref::AllocOp::create(b, type);
  SmallVector<int64_t> order = broadcastOrder();
  emitFor(idx(0), idx(plan.m), idx(1), {}, [&](Value m, ValueRange) {
    emitFor(idx(0), idx(plan.k), idx(lanes), {}, [&](Value k, ValueRange) {
      Value chunk = loadX(m, k, Value());
      vector::StoreOp::create(b, vector::ShuffleOp::create(b, chunk, chunk, order),
                              xp, ValueRange{m, k});
      return SmallVector<Value>{};
    });
    return SmallVector<Value>{};
  });
  return xp;
}

Table KernelBuilder::codeValueTable() {
  unsigned bits = plan.fieldBits;
  SmallVector<float> values;
  for (int32_t i = 0; i < 16; ++i) {
    // decode()'s reading of field value i (see the packed path there).
    int32_t v = i & ((1 << bits) - 1);
    if (plan.layoutSigned) {
      int32_t sign = 1 << (bits - 1);
      v = (v ^ sign) - sign;
    }
    bool noOp = plan.layoutSigned == plan.codesSigned && plan.codeWidth > bits;
    if (!noOp && plan.codeWidth < 32) {
      unsigned amount = 32 - plan.codeWidth;
      uint32_t up = static_cast<uint32_t>(v) << amount;
      v = plan.codesSigned ? static_cast<int32_t>(up) >> amount
                           : static_cast<int32_t>(up >> amount);
    }
    values.push_back(static_cast<float>(v));
  }
  Table t;
  t.full = arith::ConstantOp::create(
      b, DenseElementsAttr::get(VectorType::get({16}, f32), ArrayRef<float>(values)));
  return t;
}

Value KernelBuilder::weightVector(Value codesI32, const Table &t) {
  if (plan.lut || lookupCodes())
    return lookup(t, codesI32);
  return arith::SIToFPOp::create(b, vf32, codesI32);
}

void KernelBuilder::storeGuarded(Value value, Value m, int64_t mOffset, Value n,
                                 int64_t nOffset) {
  Type elem = cast<MemRefType>(y.getType()).getElementType();
  Value row = addIndex(m, mOffset), col = addIndex(n, nOffset);
  Value store = fromF32(b, value, elem);
  Value inM = arith::CmpIOp::create(b, arith::CmpIPredicate::ult, row, idx(plan.m));
  Value inN = arith::CmpIOp::create(b, arith::CmpIPredicate::ult, col, idx(plan.n));
  auto ifOp = scf::IfOp::create(b, arith::AndIOp::create(b, inM, inN),
                                /*withElseRegion=*/false);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(ifOp.thenBlock());
  memref::StoreOp::create(b, store, y, ValueRange{row, col});
}

void KernelBuilder::prefetchCodes(ArrayRef<Value> rows, Value k0, int64_t len) {
  // Bytes [k0, k0 + len) · bits / 8 of each row (element indices when the
  // codes are not packed), one prefetch per line.
  unsigned bits = plan.packed ? plan.fieldBits : plan.codeWidth;
  int64_t elemBits = plan.packed ? 8 : plan.codeWidth;
  int64_t groupBytes = len * bits / 8;
  Value first = plan.packed ? arith::DivUIOp::create(
                                  b, arith::MulIOp::create(b, k0, idx(bits)), idx(8))
                            : k0;
  for (Value row : rows)
    for (int64_t off = 0; off < std::max<int64_t>(groupBytes, 1); off += 64)
      memref::PrefetchOp::create(b, codes,
                                 ValueRange{row, addIndex(first, off * 8 / elemBits)},
                                 /*isWrite=*/false, /*localityHint=*/3,
                                 /*isDataCache=*/true);
}

/// Register-resident decode, scale and bias hoisted out of the K loop.
void KernelBuilder::hoistedBlock(Value block, int64_t rows) {
  int64_t mr = plan.m;
  // Row r of block i is i + r·stride: each of the R rows comes from its own
  // R-th of the weight, so consecutive blocks (one thread's share of the
  // parallel loop) read R linear streams, where R adjacent short rows would
  // share pages and defeat the hardware prefetcher.
  int64_t stride = (plan.n + rows - 1) / rows;
  SmallVector<Value> rowCol, rowIdx, nextRow;
  for (int64_t r = 0; r < rows; ++r) {
    rowCol.push_back(addIndex(block, r * stride));
    rowIdx.push_back(minIndex(rowCol.back(), plan.n - 1));
    nextRow.push_back(minIndex(addIndex(rowCol.back(), 1), plan.n - 1));
  }
  SmallVector<Table> tables(rows);
  if (plan.lut && plan.tables == TableKind::PerTensor) {
    Table t = loadTable(Value(), Value());
    std::fill(tables.begin(), tables.end(), t);
  }
  if (plan.lut && plan.tables == TableKind::PerRow)
    for (int64_t r = 0; r < rows; ++r)
      tables[r] = loadTable(rowIdx[r], Value());
  broadcast = plan.broadcastWords > 0;
  if (lookupCodes() && !plan.lut)
    std::fill(tables.begin(), tables.end(), codeValueTable());
  bool perGroupScale = !plan.lut || plan.scales == ScaleKind::PerKGroup;
  int64_t accs = rows * mr;
  auto accIndex = [&](int64_t r, int64_t m) { return r * mr + m; };

  // The inner K loop over one group: acc_q[r][m] += x[m] * w(q[n_r]).
  auto groupChunks = [&](Value k0, ValueRange init) {
    return forChunks(k0, plan.group, init, [&](Value k, Value mask, ValueRange s) {
      SmallVector<Value> next(s.begin(), s.end());
      SmallVector<Value> xs;
      for (int64_t m = 0; m < mr; ++m)
        xs.push_back(loadX(idx(m), k, mask));
      for (int64_t r = 0; r < rows; ++r) {
        Table t = tables[r];
        if (plan.lut && plan.tables == TableKind::PerKGroup)
          t = loadTable(rowIdx[r], k);
        Value w = weightVector(decode(rowIdx[r], k, mask), t);
        for (int64_t m = 0; m < mr; ++m)
          next[accIndex(r, m)] =
              vector::FMAOp::create(b, xs[m], w, next[accIndex(r, m)]);
      }
      return next;
    });
  };

  SmallVector<Value> init(accs, zeroVec());
  int64_t groups = plan.k / plan.group;
  SmallVector<Value> result = emitFor(
      idx(0), idx(groups), idx(1), init, [&](Value g, ValueRange state) {
        Value k0 = arith::MulIOp::create(b, g, idx(plan.group));
        prefetchCodes(nextRow, k0, plan.group);
        if (!perGroupScale)
          return groupChunks(k0, state);
        SmallVector<Value> q =
            groupChunks(k0, SmallVector<Value>(accs, zeroVec()));
        SmallVector<Value> next(state.begin(), state.end());
        for (int64_t r = 0; r < rows; ++r) {
          Value s = loadParam(scales, rowIdx[r], g);
          Value sv = vector::BroadcastOp::create(b, vf32, s);
          for (int64_t m = 0; m < mr; ++m) {
            int64_t i = accIndex(r, m);
            next[i] = vector::FMAOp::create(b, sv, q[i], next[i]);
          }
        }
        return next;
      });
  // fma form: sum_g b[n, g] · Σx[m, g], a vector of groups per FMA after
  // the K loop (a scalar FMA per group took the vector ports from the
  // decode).
  auto biasTerm = [&](Value row, int64_t m) {
    SmallVector<Value> sum = forChunks(
        idx(0), groups, {zeroVec()}, [&](Value g, Value mask, ValueRange st) {
          return SmallVector<Value>{vector::FMAOp::create(
              b, loadVector(bias, row, g, mask), loadVector(xsum, idx(m), g, mask), st[0])};
        });
    return vector::ReductionOp::create(b, vector::CombiningKind::ADD, sum[0]).getResult();
  };

  Value tensorScale;
  if (plan.lut && plan.scales == ScaleKind::PerTensor)
    tensorScale = toF32(b, memref::LoadOp::create(b, scales, ValueRange{}));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t m = 0; m < mr; ++m) {
      int64_t i = accIndex(r, m);
      Value sum = vector::ReductionOp::create(b, vector::CombiningKind::ADD, result[i]);
      if (!plan.lut)
        sum = arith::AddFOp::create(b, sum, biasTerm(rowIdx[r], m));
      if (tensorScale)
        sum = arith::MulFOp::create(b, sum, tensorScale);
      storeGuarded(sum, idx(0), m, rowCol[r], 0);
    }
}

void KernelBuilder::decodeSegment(Value panel, Value p, Value row,
                                  const Table &rowTable, Value g, Value k0,
                                  int64_t len, Value col0) {
  Type format = plan.lut ? (plan.intTable ? f32 : plan.tableType) : plan.paramType;
  Value sv = tensorScaleVec, bv;
  if (!plan.lut || plan.scales == ScaleKind::PerKGroup)
    sv = vector::BroadcastOp::create(b, vf32, loadParam(scales, row, g));
  if (!plan.lut)
    bv = vector::BroadcastOp::create(b, vf32, loadParam(bias, row, g));
  forChunks(k0, len, {}, [&](Value k, Value mask, ValueRange) {
    Value codesI32 = decode(row, k, mask);
    Value w;
    if (!plan.lut && lookupCodes()) {
      w = roundTo(b, math::FmaOp::create(b, lookup(codeTable, codesI32), sv, bv), format);
    } else if (!plan.lut) {
      w = emitFmaDequantize(b, codesI32, sv, bv, format);
    } else {
      Table t = rowTable;
      if (plan.tables == TableKind::PerKGroup)
        t = loadTable(row, k);
      w = lookup(t, codesI32);
      if (sv)
        w = roundTo(b, arith::MulFOp::create(b, sv, w), format);
    }
    Value col = arith::SubIOp::create(b, k, col0);
    if (mask)
      vector::MaskedStoreOp::create(b, panel, ValueRange{p, col}, mask, w);
    else
      vector::StoreOp::create(b, w, panel, ValueRange{p, col});
    return SmallVector<Value>{};
  });
}

Value KernelBuilder::transposeX() {
  int64_t width = 2 * lanes, slices = (mPadded + width - 1) / width;
  Value t = memref::AllocOp::create(b, MemRefType::get({slices, plan.k, width}, f32));
  SmallVector<int64_t> order;
  if (broadcast)
    order = broadcastOrder();
  // Tile [g·V, g·V + V) x [k0, k0 + cols) of x into x^T: V row vectors
  // (rows past M clamped to the last: their outputs are never stored),
  // transposed by log2(V) rounds of two-source shuffles (round s swaps
  // bit s of the row and column indices), stored as `cols` rows of x^T.
  auto transposeTile = [&](Value g, Value k0, int64_t cols) {
    Value mask;
    if (cols < lanes)
      mask = vector::ConstantMaskOp::create(
          b, VectorType::get({lanes}, b.getI1Type()), ArrayRef<int64_t>{cols});
    Value m0 = arith::MulIOp::create(b, g, idx(lanes));
    SmallVector<Value> v;
    for (int64_t i = 0; i < lanes; ++i) {
      Value row = loadX(minIndex(addIndex(m0, i), plan.m - 1), k0, mask);
      v.push_back(broadcast
                      ? Value(vector::ShuffleOp::create(b, row, row, order))
                      : row);
    }
    for (int64_t s = lanes / 2; s >= 1; s /= 2) {
      SmallVector<int64_t> low, high;
      for (int64_t j = 0; j < lanes; ++j) {
        low.push_back(j & s ? lanes + j - s : j);
        high.push_back(j & s ? lanes + j : j + s);
      }
      for (int64_t i = 0; i < lanes; ++i) {
        if (i & s)
          continue;
        Value lo = vector::ShuffleOp::create(b, v[i], v[i + s], low);
        v[i + s] = vector::ShuffleOp::create(b, v[i], v[i + s], high);
        v[i] = lo;
      }
    }
    Value slice = arith::DivUIOp::create(b, g, idx(2));
    Value col = arith::MulIOp::create(b, arith::RemUIOp::create(b, g, idx(2)),
                                      idx(lanes));
    for (int64_t i = 0; i < cols; ++i)
      vector::StoreOp::create(b, v[i], t,
                              ValueRange{slice, addIndex(k0, i), col});
  };
  int64_t full = plan.k / lanes, tail = plan.k % lanes;
  emitFor(idx(0), idx(mPadded / lanes), idx(1), {}, [&](Value g, ValueRange) {
    if (full > 0)
      emitFor(idx(0), idx(full * lanes), idx(lanes), {},
              [&](Value k0, ValueRange) {
                transposeTile(g, k0, lanes);
                return SmallVector<Value>{};
              });
    if (tail > 0)
      transposeTile(g, idx(full * lanes), tail);
    return SmallVector<Value>{};
  });
  return t;
}

/// Outer products on K blocks of decoded weights: `rows` weight rows
/// broadcast from an L1 panel times two vectors of activation rows from
/// x^T, 2·rows accumulators. The loops of N chunk `chunk` (blocks
/// [chunk·blocks/chunks, (chunk + 1)·blocks/chunks)), outermost first:
///   M chunks of kSlicesPerMChunk slices of 2V activation rows;
///   K blocks of about kTargetKBlock columns: the M chunk's x^T for the
///     K block (up to 128 KiB on AVX-512) stays in L2 while every block of
///     the N chunk passes over it;
///   blocks of the chunk: the block's weights for the K block decoded once
///     into the panel (L1), then every slice of the M chunk over the K
///     block, continued from the chunk's scratch tiles ct (L2).
/// Each output is summed over k in order, whatever the blocking, so every
/// thread count gives the same bits. (All of K per block, with the whole
/// x^T streamed from L3 for every block of 14 rows, ran M = 128 at 0.64-0.80
/// of the runtime's AVX-512 GEMM, which has these loops.)
void KernelBuilder::outerChunk(Value chunk, int64_t rows, int64_t blocks,
                               int64_t chunks) {
  // A K block spans whole groups (or a part of one large group), so that
  // one scale and bias serve each segment decoded. (384 and 512 columns
  // measured the same at M = 128 and slower at M = 32.)
  constexpr int64_t kTargetKBlock = 256;
  int64_t kBlock = plan.group <= kTargetKBlock
                       ? (kTargetKBlock / plan.group) * plan.group
                   : plan.group % kTargetKBlock == 0 ? kTargetKBlock
                                                     : plan.group;
  kBlock = std::min(kBlock, plan.k);
  constexpr int64_t kSlicesPerMChunk = 4;
  int64_t width = 2 * lanes, fullSlices = mPadded / width;
  bool halfSlice = mPadded % width != 0;
  int64_t mChunkWidth = std::min(mPadded, kSlicesPerMChunk * width);
  int64_t chunkBlocks = (blocks + chunks - 1) / chunks;

  // The chunk's blocks: [first, first + count).
  auto blockBound = [&](Value c) {
    return arith::DivUIOp::create(b, arith::MulIOp::create(b, c, idx(blocks)),
                                  idx(chunks));
  };
  Value firstBlock = blockBound(chunk);
  Value blockCount =
      arith::SubIOp::create(b, blockBound(addIndex(chunk, 1)), firstBlock);
  // The first weight row of the chunk's block `blk`.
  auto blockRow = [&](Value blk) {
    return arith::MulIOp::create(b, arith::AddIOp::create(b, firstBlock, blk),
                                 idx(rows));
  };
  // Panel rows are padded by 16 floats: a 1 KiB stride aliased the loads
  // of 1 KiB code rows.
  Value panel = memref::AllocOp::create(b, MemRefType::get({rows, kBlock + 16}, f32));
  Value ct = memref::AllocOp::create(
      b, MemRefType::get({chunkBlocks, rows, mChunkWidth}, f32));

  // Codes [k0, k0 + len) of rows [n0, n0 + rows) into the panel, with the
  // codes that the next block will decode prefetched: the next block's
  // rows, or after the chunk's last block its first block's next K block.
  auto decodeBlock = [&](Value blk, Value n0, Value k0, int64_t len) {
    int64_t segment = std::min(len, plan.group);
    Value last = arith::CmpIOp::create(b, arith::CmpIPredicate::eq,
                                       addIndex(blk, 1), blockCount);
    Value firstRow = arith::MulIOp::create(b, firstBlock, idx(rows));
    Value nextN0 =
        arith::SelectOp::create(b, last, firstRow, addIndex(n0, rows));
    Value nextK0 = minIndex(
        arith::SelectOp::create(b, last, addIndex(k0, len), k0), plan.k - len);
    emitFor(idx(0), idx(rows), idx(1), {}, [&](Value r, ValueRange) {
      Value row = minIndex(arith::AddIOp::create(b, n0, r), plan.n - 1);
      prefetchCodes(minIndex(arith::AddIOp::create(b, nextN0, r), plan.n - 1),
                    nextK0, len);
      Table rowTable = tensorTable;
      if (plan.lut && plan.tables == TableKind::PerRow)
        rowTable = loadTable(row, Value());
      emitFor(idx(0), idx(len), idx(segment), {}, [&](Value off, ValueRange) {
        Value k = arith::AddIOp::create(b, k0, off);
        Value g = arith::DivUIOp::create(b, k, idx(plan.group));
        decodeSegment(panel, r, row, rowTable, g, k, segment, k0);
        return SmallVector<Value>{};
      });
      return SmallVector<Value>{};
    });
  };
  // Columns [k0, k0 + len) of the panel for slice `slice` (`vecs` vectors
  // of activation rows from column m0 of the block's tile), continued from
  // the tile unless `first`.
  auto tileSlice = [&](Value tile, Value slice, Value m0, int64_t vecs,
                       Value k0, int64_t len, Value first) {
    SmallVector<Type> types(rows * vecs, vf32);
    auto init = scf::IfOp::create(b, types, first, /*withElseRegion=*/true);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(init.thenBlock());
      scf::YieldOp::create(b, SmallVector<Value>(rows * vecs, zeroVec()));
      b.setInsertionPointToStart(init.elseBlock());
      SmallVector<Value> loaded;
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t j = 0; j < vecs; ++j)
          loaded.push_back(vector::LoadOp::create(
              b, vf32, ct, ValueRange{tile, idx(r), addIndex(m0, j * lanes)}));
      scf::YieldOp::create(b, loaded);
    }
    // Not unrolled: with 2 or 4 iterations per trip LLVM hoists the x loads
    // and spills accumulators (measured slower).
    SmallVector<Value> acc = emitFor(
        idx(0), idx(len), idx(1), init.getResults(),
        [&](Value c, ValueRange s) {
          SmallVector<Value> next(s.begin(), s.end());
          Value k = arith::AddIOp::create(b, k0, c);
          SmallVector<Value> xs;
          for (int64_t j = 0; j < vecs; ++j)
            xs.push_back(vector::LoadOp::create(
                b, vf32, xt, ValueRange{slice, k, idx(j * lanes)}));
          for (int64_t r = 0; r < rows; ++r) {
            Value w = vector::BroadcastOp::create(
                b, vf32,
                memref::LoadOp::create(b, panel, ValueRange{idx(r), c}));
            for (int64_t j = 0; j < vecs; ++j)
              next[r * vecs + j] =
                  vector::FMAOp::create(b, w, xs[j], next[r * vecs + j]);
          }
          return next;
        });
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < vecs; ++j)
        vector::StoreOp::create(
            b, acc[r * vecs + j], ct,
            ValueRange{tile, idx(r), addIndex(m0, j * lanes)});
  };
  // The M chunk of `full` whole slices from slice s0 (and the half slice
  // after them if `half`).
  auto mChunk = [&](Value s0, int64_t full, bool half) {
    // Every block of the N chunk over columns [k0, k0 + len).
    auto kBlockPass = [&](Value k0, int64_t len, Value first) {
      emitFor(idx(0), blockCount, idx(1), {}, [&](Value blk, ValueRange) {
        decodeBlock(blk, blockRow(blk), k0, len);
        if (full > 0)
          emitFor(idx(0), idx(full), idx(1), {}, [&](Value s, ValueRange) {
            tileSlice(blk, arith::AddIOp::create(b, s0, s),
                      arith::MulIOp::create(b, s, idx(width)), 2, k0, len,
                      first);
            return SmallVector<Value>{};
          });
        if (half)
          tileSlice(blk, addIndex(s0, full), idx(full * width), 1, k0, len,
                    first);
        return SmallVector<Value>{};
      });
    };
    int64_t kFull = plan.k / kBlock, kRest = plan.k % kBlock;
    if (kFull > 0)
      emitFor(idx(0), idx(kFull * kBlock), idx(kBlock), {},
              [&](Value k0, ValueRange) {
                kBlockPass(k0, kBlock,
                           arith::CmpIOp::create(b, arith::CmpIPredicate::eq,
                                                 k0, idx(0)));
                return SmallVector<Value>{};
              });
    if (kRest > 0)
      kBlockPass(idx(kFull * kBlock), kRest,
                 arith::ConstantIntOp::create(b, kFull == 0, 1));
    // The chunk's outputs for the M chunk's rows.
    Value m0 = arith::MulIOp::create(b, s0, idx(width));
    int64_t mRows = full * width + (half ? lanes : 0);
    emitFor(idx(0), blockCount, idx(1), {}, [&](Value blk, ValueRange) {
      Value n0 = blockRow(blk);
      emitFor(idx(0), idx(mRows), idx(1), {}, [&](Value mi, ValueRange) {
        Value m = arith::AddIOp::create(b, m0, mi);
        for (int64_t r = 0; r < rows; ++r)
          storeGuarded(
              memref::LoadOp::create(b, ct, ValueRange{blk, idx(r), mi}), m, 0,
              n0, r);
        return SmallVector<Value>{};
      });
      return SmallVector<Value>{};
    });
  };
  int64_t mChunks = fullSlices / kSlicesPerMChunk;
  int64_t tailFull = fullSlices % kSlicesPerMChunk;
  if (mChunks > 0)
    emitFor(idx(0), idx(mChunks * kSlicesPerMChunk), idx(kSlicesPerMChunk), {},
            [&](Value s0, ValueRange) {
              mChunk(s0, kSlicesPerMChunk, /*half=*/false);
              return SmallVector<Value>{};
            });
  if (tailFull > 0 || halfSlice)
    mChunk(idx(mChunks * kSlicesPerMChunk), tailFull, halfSlice);
}

/// Dequantize a panel of weight rows once, then register-tiled dot products.
void KernelBuilder::panelBlock(Value block, int64_t rows) {
  constexpr int64_t kMTile = 4, kSubTiles = 4;
  int64_t panelRows = rows * kSubTiles;
  Value n0 = arith::MulIOp::create(b, block, idx(panelRows));
  Value panel = memref::AllocOp::create(b, MemRefType::get({panelRows, plan.k}, f32));
  emitFor(idx(0), idx(panelRows), idx(1), {}, [&](Value p, ValueRange) {
    Value row = minIndex(arith::AddIOp::create(b, n0, p), plan.n - 1);
    Table rowTable = tensorTable;
    if (plan.lut && plan.tables == TableKind::PerRow)
      rowTable = loadTable(row, Value());
    int64_t groups = plan.k / plan.group;
    emitFor(idx(0), idx(groups), idx(1), {}, [&](Value g, ValueRange) {
      decodeSegment(panel, p, row, rowTable, g,
                    arith::MulIOp::create(b, g, idx(plan.group)), plan.group, idx(0));
      return SmallVector<Value>{};
    });
    return SmallVector<Value>{};
  });

  int64_t mTiles = (plan.m + kMTile - 1) / kMTile;
  emitFor(idx(0), idx(mTiles), idx(1), {}, [&](Value mt, ValueRange) {
    Value m0 = arith::MulIOp::create(b, mt, idx(kMTile));
    SmallVector<Value> mRows;
    for (int64_t m = 0; m < kMTile; ++m)
      mRows.push_back(minIndex(addIndex(m0, m), plan.m - 1));
    emitFor(idx(0), idx(kSubTiles), idx(1), {}, [&](Value st, ValueRange) {
      Value p0 = arith::MulIOp::create(b, st, idx(rows));
      SmallVector<Value> pRows;
      for (int64_t r = 0; r < rows; ++r)
        pRows.push_back(addIndex(p0, r));
      SmallVector<Value> acc = forChunks(
          idx(0), plan.k, SmallVector<Value>(rows * kMTile, zeroVec()),
          [&](Value k, Value mask, ValueRange s) {
            SmallVector<Value> next(s.begin(), s.end());
            SmallVector<Value> xs;
            for (int64_t m = 0; m < kMTile; ++m)
              xs.push_back(loadX(mRows[m], k, mask));
            for (int64_t r = 0; r < rows; ++r) {
              Value w = mask ? Value(vector::MaskedLoadOp::create(
                                   b, vf32, panel, ValueRange{pRows[r], k},
                                   mask, zeroVec()))
                             : Value(vector::LoadOp::create(
                                   b, vf32, panel, ValueRange{pRows[r], k}));
              for (int64_t m = 0; m < kMTile; ++m)
                next[r * kMTile + m] =
                    vector::FMAOp::create(b, xs[m], w, next[r * kMTile + m]);
            }
            return next;
          });
      Value nBase = arith::AddIOp::create(b, n0, p0);
      // Clamped rows/columns are computed but never stored.
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t m = 0; m < kMTile; ++m)
          storeGuarded(vector::ReductionOp::create(b, vector::CombiningKind::ADD,
                                                   acc[r * kMTile + m]),
                       m0, m, nBase, r);
      return SmallVector<Value>{};
    });
    return SmallVector<Value>{};
  });
}

void KernelBuilder::build(QMatmulOp op, Value xBuffer, Value yBuffer,
                          int64_t hoistMaxM, int64_t rowTile) {
  x = xBuffer;
  y = yBuffer;
  codes = bufferOf(b, plan.codes);
  if (op.getScales())
    scales = bufferOf(b, op.getScales());
  if (op.getBias())
    bias = bufferOf(b, op.getBias());
  if (op.getTable())
    table = bufferOf(b, op.getTable());
  bool hoisted = plan.m <= hoistMaxM;
  // At least a vector of activation rows: outer products on x^T.
  bool outer = !hoisted && plan.m >= lanes;
  if (hoisted && plan.broadcastWords)
    x = permuteX();
  if (hoisted && !plan.lut)
    computeXSum();
  if (!hoisted && plan.lut && plan.scales == ScaleKind::PerTensor)
    tensorScaleVec = vector::BroadcastOp::create(
        b, vf32, toF32(b, memref::LoadOp::create(b, scales, ValueRange{})));
  if (!hoisted && plan.lut && plan.tables == TableKind::PerTensor)
    tensorTable = loadTable(Value(), Value());
  if (outer) {
    // Broadcast decode writes each chunk's weights in broadcast lane order:
    // x^T takes its rows in the same order (transposeX permutes each chunk),
    // so the products pair up.
    broadcast = plan.broadcastWords != 0;
    mPadded = (plan.m + lanes - 1) / lanes * lanes;
    xt = transposeX();
  }
  if (!hoisted && !plan.lut && lookupCodes())
    codeTable = codeValueTable();
  // Outer products: rows x 2 vector accumulators fill the register file
  // (32 zmm on AVX-512, 16 ymm/xmm otherwise) with room for x and w.
  int64_t outerRows = target.isa == Isa::Avx512 ? 14 : 6;
  // Hoisted: blocks of one register tile; dot-product panels: four tiles.
  int64_t blockRows = hoisted ? rowTile : outer ? outerRows : rowTile * 4;
  int64_t blocks = (plan.n + blockRows - 1) / blockRows;
  // Outer products with more than one slice of activation rows run N
  // chunks of about kChunkBlocks blocks (their tiles stay in L2); the chunk
  // count is a multiple of kChunkMultiple and the blocks are spread evenly
  // over the chunks, so that 2 or 4 threads get equal shares of the rows.
  // One slice runs a block per chunk: its x^T (K x 2V floats) stays in L2
  // anyway, and 16-block chunks measured 5-10 % slower at M = 32.
  constexpr int64_t kChunkBlocks = 16, kChunkMultiple = 4;
  int64_t chunks = blocks;
  if (outer && mPadded > 2 * lanes) {
    chunks = (blocks + kChunkBlocks - 1) / kChunkBlocks;
    chunks = std::min(blocks, (chunks + kChunkMultiple - 1) / kChunkMultiple *
                                  kChunkMultiple);
  }
  auto parallel = scf::ParallelOp::create(
      b, ValueRange{idx(0)}, ValueRange{idx(chunks)}, ValueRange{idx(1)});
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(parallel.getBody());
    Value iv = parallel.getInductionVars()[0];
    if (hoisted)
      hoistedBlock(iv, rowTile);
    else if (outer)
      outerChunk(iv, outerRows, blocks, chunks);
    else
      panelBlock(iv, rowTile);
  }
}

} // namespace

LogicalResult lowering::lowerQMatmul(RewriterBase &rewriter, QMatmulOp op,
                                     const KernelOptions &options) {
  Plan plan;
  std::string reason = analyze(op, options.target, plan);
  ImplicitLocOpBuilder b(op.getLoc(), rewriter);
  if (!reason.empty()) {
    if (options.remarks)
      op.emitRemark() << "scalar loops: the vector kernel does not take "
                      << reason;
    return lowerQMatmulScalar(rewriter, op);
  }

  // x as [M, K] and y as [M, N], reshaped from/to the op's types.
  auto inType = cast<RankedTensorType>(op.getInput().getType());
  auto outType = cast<RankedTensorType>(op.getResult().getType());
  Value x2d = op.getInput();
  auto flatIn = RankedTensorType::get({plan.m, plan.k}, inType.getElementType());
  auto flatOut = RankedTensorType::get({plan.m, plan.n}, outType.getElementType());
  SmallVector<ReassociationIndices> inAssoc, outAssoc;
  if (inType.getRank() == 1) {
    x2d = tensor::ExpandShapeOp::create(b, flatIn, x2d,
                                        SmallVector<ReassociationIndices>{{0, 1}});
  } else if (inType.getRank() > 2) {
    ReassociationIndices lead;
    for (int64_t i = 0; i + 1 < inType.getRank(); ++i)
      lead.push_back(i);
    inAssoc = {lead, {inType.getRank() - 1}};
    x2d = tensor::CollapseShapeOp::create(b, flatIn, x2d, inAssoc);
  }
  Value x = bufferOf(b, x2d);
  Value y = allocBuffer(b, flatOut);
  KernelBuilder kernel(b, plan, options.target);
  kernel.build(op, x, y, options.hoistMaxM, options.rowTile);
  Value result = tensorOf(b, y, flatOut);
  if (outType.getRank() == 1)
    result = tensor::CollapseShapeOp::create(
        b, outType, result, SmallVector<ReassociationIndices>{{0, 1}});
  else if (outType.getRank() > 2)
    result = tensor::ExpandShapeOp::create(b, outType, result, inAssoc);
  rewriter.replaceOp(op, result);
  return success();
}

LogicalResult lowering::lowerQMatmulScalar(RewriterBase &rewriter, QMatmulOp op) {
  auto inType = cast<RankedTensorType>(op.getInput().getType());
  auto wType = cast<RankedTensorType>(op.getWeight().getType());
  auto outType = cast<RankedTensorType>(op.getResult().getType());
  if (!inType.hasStaticShape() || !wType.hasStaticShape())
    return op.emitOpError("cannot be lowered with dynamic shapes");
  ImplicitLocOpBuilder b(op.getLoc(), rewriter);
  int64_t k = wType.getDimSize(1);
  Value x = bufferOf(b, op.getInput());
  Value w = bufferOf(b, op.getWeight());
  Value scales = op.getScales() ? bufferOf(b, op.getScales()) : Value();
  Value bias = op.getBias() ? bufferOf(b, op.getBias()) : Value();
  Value table = op.getTable() ? bufferOf(b, op.getTable()) : Value();
  Type elem = outType.getElementType();
  // y[..., n] = sum_k x[..., k] · w(n, k), accumulated in f32 in k order.
  return replaceByLoopNest(rewriter, b, op, outType, [&](ImplicitLocOpBuilder &ib, ValueRange ivs) {
    Value col = ivs.back();
    SmallVector<Value> xIdx(ivs.drop_back());
    auto loop = scf::ForOp::create(ib, indexConst(ib, 0), indexConst(ib, k),
                                   indexConst(ib, 1), ValueRange{f32Const(ib, 0.0f)});
    {
      OpBuilder::InsertionGuard guard(ib);
      ib.setInsertionPointToStart(loop.getBody());
      Value kv = loop.getInductionVar();
      SmallVector<Value> at(xIdx);
      at.push_back(kv);
      Value xv = toF32(ib, memref::LoadOp::create(ib, x, at));
      Value raw = memref::LoadOp::create(ib, w, ValueRange{col, kv});
      Value weight =
          emitQMatmulWeight(ib, op, raw, ValueRange{col, kv}, scales, bias, table);
      Value sum = arith::AddFOp::create(
          ib, loop.getRegionIterArgs()[0], arith::MulFOp::create(ib, xv, weight));
      scf::YieldOp::create(ib, sum);
    }
    return fromF32(ib, loop.getResult(0), elem);
  });
}
