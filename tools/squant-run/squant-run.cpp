//===- squant-run.cpp - Compile squant IR, run it, check it, time it ------===//
//
//   squant-run FILE.mlir [--entry F] [--input A.npy|random ...] [--seed N]
//              [--const-args I,J] [--transform PIPELINE | --variant NAME=PIPELINE ...]
//              [--lower OPTIONS] [--output R.npy ...] [--check] [--bench]
//              [--emit-object F.o --emit-header F.h]
//
// The entry function (tensors in, tensors out) goes through a squant-level
// pipeline (--transform, default squant-optimize) and squant-lower-to-llvm-cpu
// (--lower), is JIT-compiled with squant's runtime symbols and run on inputs
// read from .npy files or drawn from a seeded generator. Arguments listed in
// --const-args become constants before the pipeline (compile-time weights:
// squant quantizes them). --check evaluates the squant-level function with
// the reference library and judges the compiled results (bit-exact, within
// D8, or reported only). --bench times the call with cold caches next to
// the read bandwidth measured in the same run. With --variant, every
// variant is compiled and run on the same inputs and one table compares
// them, with the accuracy against the function before any transform (the
// fp32 model) evaluated by the reference library.
//
//===----------------------------------------------------------------------===//

#include "squant/Execution/Aot.h"
#include "squant/Execution/Jit.h"
#include "squant/Execution/Npy.h"
#include "squant/Execution/ReferenceEvaluator.h"
#include "squant/Execution/Timing.h"
#include "squant/InitAll.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "squant/Reference/FloatFormat.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <cstring>
#include <random>
#include <set>
#include <thread>

using namespace mlir;
using namespace mlir::squant;
namespace cl = llvm::cl;

namespace {

cl::OptionCategory category("squant-run options");
cl::opt<std::string> inputFile(cl::Positional, cl::desc("<input .mlir>"), cl::Required,
                               cl::cat(category));
cl::opt<std::string> entryName("entry", cl::desc("function to run (default: the only public one)"),
                               cl::cat(category));
cl::list<std::string> inputs("input",
                             cl::desc("value of the next argument: a .npy file or "
                                      "'random' (repeat, in argument order; missing "
                                      "ones are random)"),
                             cl::cat(category));
cl::opt<unsigned> seed("seed", cl::desc("seed of the random inputs"), cl::init(0),
                       cl::cat(category));
cl::list<unsigned> constArgs("const-args", cl::CommaSeparated,
                             cl::desc("argument indices bound at compile time "
                                      "(their values become constants: weights)"),
                             cl::cat(category));
cl::opt<std::string> transform("transform",
                               cl::desc("squant-level pipeline before lowering "
                                        "('none' for none)"),
                               cl::init("squant-optimize"), cl::cat(category));
cl::list<std::string> variants("variant",
                               cl::desc("NAME=PIPELINE: compile, run and compare "
                                        "several squant-level pipelines"),
                               cl::cat(category));
cl::opt<std::string> lowerOptions("lower",
                                  cl::desc("options of squant-lower-to-llvm-cpu "
                                           "(default: threads = the machine's cores)"),
                                  cl::cat(category));
cl::list<std::string> outputs("output", cl::desc("write the next result to this .npy"),
                              cl::cat(category));
cl::opt<bool> check("check", cl::desc("compare with the reference evaluation"),
                    cl::cat(category));
cl::opt<bool> bench("bench", cl::desc("time the call (cold caches) next to the "
                                      "measured read bandwidth"),
                    cl::cat(category));
cl::opt<unsigned> benchWindows("bench-windows", cl::desc("timing windows"), cl::init(5),
                               cl::cat(category));
cl::opt<bool> printSquantIR("print-squant-ir",
                            cl::desc("print the IR after the squant-level pipeline "
                                     "(large constants elided)"),
                            cl::cat(category));
cl::opt<bool> remarks("remarks",
                      cl::desc("show the passes' optimization remarks (why a "
                               "weight did not take a form)"),
                      cl::cat(category));
cl::opt<bool> printAll("print-all", cl::desc("print every element of the results"),
                       cl::cat(category));
cl::opt<std::string> emitObject("emit-object",
                                cl::desc("write an object file of the compiled "
                                         "function instead of running it"),
                                cl::cat(category));
cl::opt<std::string> emitHeader("emit-header",
                                cl::desc("write the C header of the entry point"),
                                cl::cat(category));

[[noreturn]] void fatal(const llvm::Twine &message) {
  llvm::errs() << "squant-run: error: " << message << "\n";
  std::exit(1);
}

unsigned defaultThreads() { return std::max(1u, std::thread::hardware_concurrency()); }

std::string typeString(Type t) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << t;
  return s;
}

/// Bytes of a tensor stored packed (what a constant weight occupies).
int64_t byteSize(ShapedType t) {
  return (t.getNumElements() * t.getElementTypeBitWidth() + 7) / 8;
}

/// Bytes of one element in memory (i1 takes a byte, as in a memref).
int64_t elementBytes(Type t) { return (t.getIntOrFloatBitWidth() + 7) / 8; }

/// A tensor value in memory, row-major.
struct HostTensor {
  RankedTensorType type;
  std::vector<char> data;
};

/// The attribute holding a host tensor (compile-time arguments, reference
/// evaluation).
Attribute toAttr(const HostTensor &t) {
  if (t.type.getElementType().isInteger(1)) {
    SmallVector<bool> bits;
    for (char c : t.data)
      bits.push_back(c != 0);
    return DenseElementsAttr::get(t.type, llvm::ArrayRef<bool>(bits));
  }
  return DenseElementsAttr::getFromRawBuffer(t.type, t.data);
}

HostTensor randomTensor(RankedTensorType type, std::mt19937 &rng, bool weight) {
  HostTensor t{type, std::vector<char>(type.getNumElements() *
                                       elementBytes(type.getElementType()))};
  Type e = type.getElementType();
  int64_t n = type.getNumElements();
  // Activations ~ N(0, 1); weights ~ N(0, 1/sqrt(fan-in)) with the fan-in
  // along dimension 0 (x · W with W [K, N]), so layers keep unit scale.
  double sigma = weight && type.getRank() >= 1 ? 1.0 / std::sqrt(double(type.getDimSize(0)))
                                               : 1.0;
  std::normal_distribution<float> normal(0.0f, static_cast<float>(sigma));
  if (isa<FloatType>(e)) {
    for (int64_t i = 0; i < n; ++i) {
      float v = normal(rng);
      if (e.isF32()) {
        std::memcpy(t.data.data() + 4 * i, &v, 4);
      } else if (e.isF64()) {
        double d = v;
        std::memcpy(t.data.data() + 8 * i, &d, 8);
      } else {
        uint16_t bits = e.isBF16() ? ref::bf16BitsFromFloat(v) : ref::f16BitsFromFloat(v);
        std::memcpy(t.data.data() + 2 * i, &bits, 2);
      }
    }
    return t;
  }
  unsigned width = e.getIntOrFloatBitWidth();
  unsigned bytes = elementBytes(e);
  for (int64_t i = 0; i < n; ++i) {
    uint64_t v = rng();
    if (width < 64)
      v &= (uint64_t(1) << width) - 1;
    std::memcpy(t.data.data() + bytes * i, &v, bytes);
  }
  return t;
}

HostTensor readInput(const std::string &path, RankedTensorType type, unsigned index) {
  auto array = readNpy(path);
  if (!array)
    fatal(llvm::toString(array.takeError()));
  std::string want = npyDescrFor(type.getElementType());
  if (want.empty())
    fatal("argument #" + llvm::Twine(index) + " is " + typeString(type) +
          ": NumPy has no dtype for " + typeString(type.getElementType()));
  std::vector<int64_t> shape(type.getShape().begin(), type.getShape().end());
  if (array->descr != want || array->shape != shape) {
    std::string got;
    for (int64_t d : array->shape)
      got += std::to_string(d) + ",";
    std::string expected;
    for (int64_t d : shape)
      expected += std::to_string(d) + ",";
    fatal(path + ": argument #" + llvm::Twine(index) + " is " + typeString(type) +
          " (dtype " + want + ", shape (" + expected + ")), the file holds dtype " +
          array->descr + ", shape (" + got + ")");
  }
  return {type, std::move(array->data)};
}

/// Bytes of the constant tensors the function reads (its weights after the
/// squant-level pipeline: codes, scales, tables).
int64_t constantBytes(func::FuncOp func) {
  int64_t bytes = 0;
  func.walk([&](arith::ConstantOp c) {
    if (auto t = dyn_cast<ShapedType>(c.getType()); t && t.hasStaticShape() &&
                                                      t.getNumElements() > 16)
      bytes += byteSize(t);
  });
  return bytes;
}

/// One compiled variant of the entry function.
struct Compiled {
  std::string name;
  OwningOpRef<ModuleOp> squantLevel; ///< after the squant-level pipeline
  OwningOpRef<ModuleOp> lowered;
  squant::JitEngine engine;
  int64_t weightBytes = 0;
};

class Runner {
public:
  Runner(MLIRContext &context) : context(context) {}

  int main();

private:
  func::FuncOp entryOf(ModuleOp module);
  void bindConstants();
  Compiled compile(const std::string &name, const std::string &pipeline, bool jit);
  std::vector<HostTensor> call(Compiled &c, const std::vector<HostTensor> &args);
  void report(Compiled &c, const std::vector<HostTensor> &results);
  int runVariants();
  FailureOr<SmallVector<ReferenceValue>> evaluate(ModuleOp m);
  TimingStats time(Compiled &c);

  MLIRContext &context;
  OwningOpRef<ModuleOp> module;
  std::string entry;
  std::vector<HostTensor> runtimeArgs;   ///< arguments the compiled code takes
  std::vector<Attribute> runtimeArgAttrs;
  std::string threadsNote;
};

func::FuncOp Runner::entryOf(ModuleOp m) {
  return m.lookupSymbol<func::FuncOp>(entry);
}

/// Replaces the --const-args arguments by constants (their values read or
/// drawn like any input) and drops them from the signature; keeps the rest
/// as run-time inputs.
void Runner::bindConstants() {
  func::FuncOp func = entryOf(*module);
  FunctionType type = func.getFunctionType();
  std::set<unsigned> constant(constArgs.begin(), constArgs.end());
  for (unsigned i : constant)
    if (i >= type.getNumInputs())
      fatal("--const-args: @" + entry + " has " + llvm::Twine(type.getNumInputs()) +
            " arguments, there is no #" + llvm::Twine(i));
  if (inputs.size() > type.getNumInputs())
    fatal(llvm::Twine(inputs.size()) + " --input values for " +
          llvm::Twine(type.getNumInputs()) + " arguments of @" + entry);
  std::mt19937 rng(seed);
  std::vector<HostTensor> values;
  for (unsigned i = 0; i < type.getNumInputs(); ++i) {
    auto t = dyn_cast<RankedTensorType>(type.getInput(i));
    if (!t || !t.hasStaticShape())
      fatal("argument #" + llvm::Twine(i) + " of @" + entry + " is " +
            typeString(type.getInput(i)) + "; squant-run takes statically shaped tensors");
    // Upstream quantized types travel as their storage (squant-import-quant
    // rewrites the signature the same way).
    if (auto q = dyn_cast<quant::QuantizedType>(t.getElementType())) {
      if (constant.count(i))
        fatal("--const-args: argument #" + llvm::Twine(i) + " has the quantized type " +
              typeString(t) + "; bind its storage values in the IR instead");
      t = RankedTensorType::get(t.getShape(), q.getStorageType());
    }
    if (!t.getElementType().isIntOrFloat())
      fatal("argument #" + llvm::Twine(i) + " of @" + entry + " is " + typeString(t) +
            "; squant-run takes tensors of integers and floats");
    if (i < inputs.size() && inputs[i] != "random")
      values.push_back(readInput(inputs[i], t, i));
    else
      values.push_back(randomTensor(t, rng, constant.count(i)));
  }
  for (Type r : type.getResults())
    if (auto t = dyn_cast<RankedTensorType>(r);
        !t || !t.hasStaticShape() || !t.getElementType().isIntOrFloat())
      fatal("@" + entry + " returns " + typeString(r) +
            "; squant-run takes statically shaped tensors of integers and floats");
  Block &body = func.getBody().front();
  OpBuilder b(&body, body.begin());
  llvm::BitVector erase(type.getNumInputs());
  for (unsigned i = 0; i < type.getNumInputs(); ++i) {
    if (!constant.count(i)) {
      runtimeArgs.push_back(values[i]);
      runtimeArgAttrs.push_back(toAttr(values[i]));
      continue;
    }
    auto c = arith::ConstantOp::create(b, func.getArgument(i).getLoc(),
                                       cast<TypedAttr>(toAttr(values[i])));
    func.getArgument(i).replaceAllUsesWith(c);
    erase.set(i);
  }
  if (failed(func.eraseArguments(erase)))
    fatal("cannot drop the constant arguments of @" + entry);
}

Compiled Runner::compile(const std::string &name, const std::string &pipeline,
                         bool jit) {
  Compiled c;
  c.name = name;
  c.squantLevel = module->clone();
  if (pipeline != "none" && !pipeline.empty()) {
    PassManager pm(&context);
    if (failed(parsePassPipeline(pipeline, pm)))
      fatal("cannot parse the squant-level pipeline '" + pipeline + "'");
    if (failed(pm.run(*c.squantLevel)))
      fatal("the squant-level pipeline '" + pipeline + "' failed on " + inputFile);
  }
  func::FuncOp func = entryOf(*c.squantLevel);
  c.weightBytes = constantBytes(func);
  if (printSquantIR) {
    OpPrintingFlags flags;
    flags.elideLargeElementsAttrs(16).elideLargeResourceString(64);
    llvm::outs() << "// squant-level IR" << (name.empty() ? "" : " of " + name) << "\n";
    c.squantLevel->print(llvm::outs(), flags);
    llvm::outs() << "\n";
  }
  c.lowered = c.squantLevel->clone();
  entryOf(*c.lowered)->setAttr("llvm.emit_c_interface", UnitAttr::get(&context));
  PassManager pm(&context);
  std::string lower = "squant-lower-to-llvm-cpu{" + lowerOptions + "}";
  if (failed(parsePassPipeline(lower, pm)))
    fatal("cannot parse --lower='" + lowerOptions + "'");
  if (failed(pm.run(*c.lowered)))
    fatal("lowering failed (" + lower + ")");
  if (!jit)
    return c;
  auto engine = createJit(*c.lowered, 3);
  if (!engine)
    fatal("JIT compilation failed: " + llvm::toString(engine.takeError()));
  c.engine = std::move(*engine);
  return c;
}

/// Calls the packed wrapper `_mlir_<entry>` with expanded memref descriptors.
std::vector<HostTensor> Runner::call(Compiled &c, const std::vector<HostTensor> &args) {
  func::FuncOp func = entryOf(*c.squantLevel);
  FunctionType type = func.getFunctionType();
  std::vector<std::vector<int64_t>> slots;
  slots.reserve(args.size());
  SmallVector<void *> packed;
  std::set<void *> inputBuffers;
  for (const HostTensor &a : args) {
    auto shape = a.type.getShape();
    std::vector<int64_t> slot;
    void *data = const_cast<char *>(a.data.data());
    inputBuffers.insert(data);
    slot.push_back(reinterpret_cast<int64_t>(data));
    slot.push_back(reinterpret_cast<int64_t>(data));
    slot.push_back(0);
    int64_t stride = 1;
    std::vector<int64_t> strides(shape.size());
    for (int64_t d = int64_t(shape.size()) - 1; d >= 0; --d) {
      strides[d] = stride;
      stride *= shape[d];
    }
    slot.insert(slot.end(), shape.begin(), shape.end());
    slot.insert(slot.end(), strides.begin(), strides.end());
    slots.push_back(std::move(slot));
  }
  for (std::vector<int64_t> &slot : slots)
    for (int64_t &field : slot)
      packed.push_back(&field);
  size_t resultWords = 0;
  for (Type r : type.getResults())
    resultWords += 3 + 2 * cast<RankedTensorType>(r).getRank();
  std::vector<int64_t> resultSlots(resultWords);
  if (!type.getResults().empty())
    packed.push_back(resultSlots.data());
  if (llvm::Error e = c.engine->invokePacked(entry, packed))
    fatal("cannot call @" + entry + ": " + llvm::toString(std::move(e)));
  std::vector<HostTensor> results;
  std::set<void *> freed;
  size_t at = 0;
  for (Type r : type.getResults()) {
    auto t = cast<RankedTensorType>(r);
    void *allocated = reinterpret_cast<void *>(resultSlots[at]);
    char *aligned = reinterpret_cast<char *>(resultSlots[at + 1]);
    int64_t offset = resultSlots[at + 2];
    int64_t elemBytes = elementBytes(t.getElementType());
    HostTensor out{t, std::vector<char>(t.getNumElements() * elemBytes)};
    // Identity layout (function-boundary bufferization): contiguous rows.
    std::memcpy(out.data.data(), aligned + offset * elemBytes, out.data.size());
    results.push_back(std::move(out));
    bool constant = allocated == reinterpret_cast<void *>(0xdeadbeef);
    if (!constant && !inputBuffers.count(allocated) && freed.insert(allocated).second)
      std::free(allocated);
    at += 3 + 2 * t.getRank();
  }
  return results;
}

float elementAsFloat(const HostTensor &t, int64_t i) {
  Type e = t.type.getElementType();
  const char *p = t.data.data();
  if (e.isF32()) {
    float v;
    std::memcpy(&v, p + 4 * i, 4);
    return v;
  }
  if (e.isF64()) {
    double v;
    std::memcpy(&v, p + 8 * i, 8);
    return static_cast<float>(v);
  }
  if (e.isF16() || e.isBF16()) {
    uint16_t bits;
    std::memcpy(&bits, p + 2 * i, 2);
    return e.isBF16() ? ref::floatFromBF16Bits(bits) : ref::floatFromF16Bits(bits);
  }
  unsigned width = e.getIntOrFloatBitWidth(), bytes = (width + 7) / 8;
  int64_t v = 0;
  std::memcpy(&v, p + bytes * i, bytes);
  return static_cast<float>(llvm::SignExtend64(v, width));
}

void printResult(unsigned index, const HostTensor &t) {
  int64_t n = t.type.getNumElements();
  int64_t shown = printAll ? n : std::min<int64_t>(n, 8);
  llvm::outs() << "result #" << index << ": " << typeString(t.type) << " [";
  for (int64_t i = 0; i < shown; ++i)
    llvm::outs() << (i ? ", " : "") << llvm::format("%.6g", elementAsFloat(t, i));
  if (shown < n)
    llvm::outs() << ", ... (" << n << " elements)";
  llvm::outs() << "]\n";
}

/// The verdict of one result against the reference, as one line.
bool printCheck(unsigned index, const ReferenceValue &ref, const HostTensor &got) {
  ReferenceComparison c = compareWithReference(ref, got.data.data());
  llvm::outs() << "check #" << index << ": ";
  switch (ref.accuracy) {
  case ReferenceValue::Accuracy::Exact:
    llvm::outs() << (c.outside ? "FAIL" : "ok") << " bit-exact: " << c.outside << " of "
                 << c.elements << " elements differ";
    break;
  case ReferenceValue::Accuracy::D8:
    llvm::outs() << (c.outside ? "FAIL" : "ok") << " within D8: " << c.outside << " of "
                 << c.elements << " elements outside, max |error| / bound = "
                 << llvm::format("%.3g", c.maxBoundRatio);
    break;
  case ReferenceValue::Accuracy::Unbounded:
    llvm::outs() << "reported (no bound after " << ref.why << ")";
    break;
  }
  llvm::outs() << ", relative L2 error " << llvm::format("%.3g", c.relError)
               << ", max |error| " << llvm::format("%.3g", c.maxAbsError);
  if (c.outside)
    llvm::outs() << "; first: " << c.firstOutside;
  llvm::outs() << "\n";
  return c.outside == 0;
}

int Runner::main() {
  llvm::SourceMgr sourceMgr;
  std::string error;
  auto file = openInputFile(inputFile, &error);
  if (!file)
    fatal(error);
  sourceMgr.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
  SourceMgrDiagnosticHandler handler(sourceMgr, &context);
  // Registered last, asked first: drops remarks unless --remarks.
  context.getDiagEngine().registerHandler([](Diagnostic &d) {
    return success(d.getSeverity() == DiagnosticSeverity::Remark && !remarks);
  });
  module = parseSourceFile<ModuleOp>(sourceMgr, &context);
  if (!module)
    return 1;

  if (entryName.empty()) {
    std::vector<std::string> candidates;
    for (auto f : module->getOps<func::FuncOp>())
      if (!f.isExternal() && f.isPublic())
        candidates.push_back(f.getName().str());
    if (candidates.size() != 1) {
      std::string names;
      for (const std::string &n : candidates)
        names += " @" + n;
      fatal(inputFile + " has " + llvm::Twine(candidates.size()) +
            " public functions; pick one with --entry=NAME:" + names);
    }
    entry = candidates[0];
  } else {
    entry = entryName;
    func::FuncOp f = entryOf(*module);
    if (!f || f.isExternal())
      fatal(inputFile + " has no function @" + entry + " with a body");
  }
  if (lowerOptions.empty())
    lowerOptions = "threads=" + std::to_string(defaultThreads());
  bindConstants();

  if (!variants.empty())
    return runVariants();

  bool aot = !emitObject.empty() || !emitHeader.empty();
  Compiled c = compile("", transform, /*jit=*/!aot);
  if (aot) {
    func::FuncOp f = entryOf(*c.squantLevel);
    if (!emitObject.empty())
      if (llvm::Error e = writeObjectFile(*c.lowered, emitObject))
        fatal(llvm::toString(std::move(e)));
    if (!emitHeader.empty()) {
      FailureOr<std::string> header = cHeaderFor(
          entry, f.getFunctionType().getInputs(), f.getFunctionType().getResults(),
          "Link with -lm, and with squant's libsquant_rt when compiled with "
          "threads > 1 (--lower='" + lowerOptions + "').");
      if (failed(header))
        fatal("@" + entry + " has an argument or result C cannot hold");
      std::error_code ec;
      llvm::raw_fd_ostream os(emitHeader, ec);
      if (ec)
        fatal(emitHeader + ": " + ec.message());
      os << *header;
    }
    return 0;
  }

  std::vector<HostTensor> results = call(c, runtimeArgs);
  if (outputs.size() > results.size())
    fatal(llvm::Twine(outputs.size()) + " --output files for " +
          llvm::Twine(results.size()) + " results");
  for (auto [i, r] : llvm::enumerate(results)) {
    if (i < outputs.size()) {
      std::string descr = npyDescrFor(r.type.getElementType());
      if (descr.empty())
        fatal("result #" + llvm::Twine(i) + " is " + typeString(r.type) +
              ": NumPy has no dtype for it");
      NpyArray array{descr, {r.type.getShape().begin(), r.type.getShape().end()}, r.data};
      if (llvm::Error e = writeNpy(outputs[i], array))
        fatal(llvm::toString(std::move(e)));
      llvm::outs() << "result #" << i << ": " << typeString(r.type) << " -> " << outputs[i]
                   << "\n";
    } else {
      printResult(i, r);
    }
  }
  bool ok = true;
  if (check) {
    FailureOr<SmallVector<ReferenceValue>> ref = evaluate(*c.squantLevel);
    if (failed(ref))
      fatal("--check: the reference evaluator cannot evaluate @" + entry);
    for (auto [i, r] : llvm::enumerate(results))
      ok &= printCheck(i, (*ref)[i], r);
  }
  if (bench) {
    TimingStats s = time(c);
    int64_t bytes = c.weightBytes;
    for (const HostTensor &a : runtimeArgs)
      bytes += a.data.size();
    for (const HostTensor &r : results)
      bytes += r.data.size();
    double gbs = bytes / s.median / 1e9;
    llvm::outs() << llvm::format(
        "bench: median %.3f ms [min %.3f, max %.3f] over %u windows, cold caches, "
        "%s; %.2f MB read/written per call: %.2f GB/s = %.2f of the read bandwidth "
        "measured in this run (%.1f GB/s)\n",
        s.median * 1e3, s.min * 1e3, s.max * 1e3, unsigned(benchWindows),
        lowerOptions.c_str(), bytes / 1e6, gbs, gbs * 1e9 / s.bandwidth,
        s.bandwidth / 1e9);
  }
  return ok ? 0 : 1;
}

/// The reference evaluation of @entry in `m` on the run-time arguments;
/// arith/math on whole tensors go through linalg first (the same scalar
/// semantics, in the form the evaluator interprets).
FailureOr<SmallVector<ReferenceValue>> Runner::evaluate(ModuleOp m) {
  OwningOpRef<ModuleOp> copy = m.clone();
  PassManager pm(&context);
  if (failed(parsePassPipeline("convert-elementwise-to-linalg", pm)) ||
      failed(pm.run(*copy)))
    return failure();
  return evaluateReference(entryOf(*copy), runtimeArgAttrs);
}

/// The thread count the lowering was asked for (the probe uses as many).
int threadCount() {
  size_t at = lowerOptions.find("threads=");
  return at == std::string::npos ? 1 : std::max(1, std::atoi(lowerOptions.c_str() + at + 8));
}

/// The read-bandwidth probe, one buffer (twice the last-level cache) for
/// the whole run.
const BandwidthProbe &probe() {
  static const BandwidthProbe probe;
  return probe;
}

/// --bench's timing of one compiled variant: caches evicted before every
/// call, a bandwidth probe with as many threads before every window.
TimingStats Runner::time(Compiled &c) {
  static CacheEvictor evict;
  return timeWindows([&](int) { call(c, runtimeArgs); }, probe(), threadCount(),
                     benchWindows, 0.2, [&] { evict(); });
}

int Runner::runVariants() {
  // The function before any transform, evaluated by the reference library:
  // what every variant's accuracy is measured against.
  FailureOr<SmallVector<ReferenceValue>> baseline = evaluate(*module);
  if (failed(baseline))
    fatal("the reference evaluator cannot evaluate @" + entry + " before the transforms");
  llvm::outs() << "@" << entry << " of " << inputFile << ", seed " << seed
               << ", squant-lower-to-llvm-cpu{" << lowerOptions << "}\n"
               << "accuracy: relative L2 error of the compiled result against the "
                  "function before any transform (reference evaluation, fp64 "
                  "matmuls); time: median over "
               << benchWindows << " windows, caches evicted before every call\n\n";
  llvm::outs() << "| variant | weight MB | rel. error vs fp32 | time ms [min, max] | "
                  "weight GB/s | of read BW |"
               << (check ? " check vs squant semantics |" : "") << "\n"
               << "|---|---|---|---|---|---|" << (check ? "---|" : "") << "\n";
  bool ok = true;
  for (const std::string &v : variants) {
    size_t eq = v.find('=');
    if (eq == std::string::npos)
      fatal("--variant takes NAME=PIPELINE, got '" + v + "'");
    Compiled c = compile(v.substr(0, eq), v.substr(eq + 1), /*jit=*/true);
    std::vector<HostTensor> results = call(c, runtimeArgs);
    double rel = 0;
    for (auto [i, r] : llvm::enumerate(results))
      rel = std::max(rel, compareWithReference((*baseline)[i], r.data.data()).relError);
    TimingStats s = time(c);
    double gbs = c.weightBytes / s.median / 1e9;
    llvm::outs() << llvm::format("| %s | %.2f | %.2e | %.3f [%.3f, %.3f] | %.1f | %.2f |",
                                 c.name.c_str(), c.weightBytes / 1e6, rel, s.median * 1e3,
                                 s.min * 1e3, s.max * 1e3, gbs, gbs * 1e9 / s.bandwidth);
    if (check) {
      FailureOr<SmallVector<ReferenceValue>> ref = evaluate(*c.squantLevel);
      if (failed(ref))
        fatal("--check: the reference evaluator cannot evaluate variant " + c.name);
      std::string verdict;
      for (auto [i, r] : llvm::enumerate(results)) {
        ReferenceComparison cmp = compareWithReference((*ref)[i], r.data.data());
        bool judged = (*ref)[i].accuracy != ReferenceValue::Accuracy::Unbounded;
        ok &= cmp.outside == 0;
        verdict += (judged ? (cmp.outside ? "FAIL " : "ok ") : "") +
                   std::string(llvm::formatv("rel {0:e2}", cmp.relError));
      }
      llvm::outs() << " " << verdict << " |";
    }
    llvm::outs() << "\n";
    llvm::outs().flush();
  }
  int threads = threadCount();
  llvm::outs() << llvm::format("\nread bandwidth probe (%d thread%s): %.1f GB/s\n", threads,
                               threads == 1 ? "" : "s", probe().measure(threads) / 1e9);
  return ok ? 0 : 1;
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  mlir::registerAllPasses();
  squant::registerAllPasses();
  registerAsmPrinterCLOptions();
  registerMLIRContextCLOptions();
  registerPassManagerCLOptions();
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(argc, argv,
                              "squant-run: compile squant IR through the CPU pipeline, "
                              "run it, check it against the reference, time it\n");
  DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::registerAllToLLVMIRTranslations(registry);
  squant::registerAllDialects(registry);
  MLIRContext context(registry);
  context.loadAllAvailableDialects();
  Runner runner(context);
  return runner.main();
}
