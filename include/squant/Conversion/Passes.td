//===- Passes.td - squant conversion passes -----------------*- tablegen -*-===//

#ifndef SQUANT_CONVERSION_PASSES_TD
#define SQUANT_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertSQuantToRuntime : Pass<"convert-squant-to-runtime", "::mlir::ModuleOp"> {
  let summary = "lower squant.qmatmul to calls of the squant_rt kernels";
  let description = [{
    Replaces each `squant.qmatmul` the runtime supports (f32 or bf16
    activations, weights [N, K] with K and the group size multiples of 32;
    the fma form with f32 or bf16 scales and biases, an int8 table with an
    s_table, or f32 tables per tensor or per row; 1, 2, 3, 4 or 8 bits) with
    a call of `squant_rt_qgemm_memref` (f32 activations) or
    `squant_rt_qgemm_bf16_memref` (bf16 activations), the MLIR-facing entry
    points of the runtime (C interface, memref descriptors). bf16 scales,
    biases and s_tables are widened to f32 (exact) first; a bf16 qmatmul's
    f32 result is rounded to bf16 once (`arith.truncf`, to nearest even),
    as torch rounds a bf16 op computed in fp32. Constant weights are packed at compile time, into the
    layout the runtime reads fastest on the `target` ISA
    (`squant_rt_preferred_layout`): TILE16_V2, which carries the scales
    and biases inside the packed buffer, for GEMVs (M = 1) whose codes and
    parameters are all constant, of 1- to 3-bit codes on AVX-512 and AMX
    and of 4-bit (FMA form or int8 table) and 8-bit codes (FMA form),
    groups of 64 to 512, on AMX; else BLOCK32_V1. Run-time codes are packed into BLOCK32_V1 by a call of
    `squant_rt_pack_block32_memref` first. Operands go through
    `bufferization.to_buffer`, the result is a fresh buffer returned with
    `bufferization.to_tensor`, so one-shot bufferization completes the
    lowering. The ABI is `include/squant/runtime/squant_rt.h`; link
    `libsquant_rt` (e.g. `mlir-runner -shared-libs=.../libsquant_rt.so`).

    A qmatmul the runtime cannot run is left in place with a remark that
    says why.
  }];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"host\"",
           "ISA the packed layouts are chosen for: host (this machine's, as "
           "the runtime detects it), amx, avx512, avx2 or generic. Any layout "
           "runs correctly on any CPU; this only picks the fastest.">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::bufferization::BufferizationDialect",
                           "::mlir::func::FuncDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::tensor::TensorDialect"];
}


def ConvertSQuantToVector : Pass<"convert-squant-to-vector", "::mlir::ModuleOp"> {
  let summary = "lower squant ops to scf/vector/arith/memref loops";
  let description = [{
    Lowers every squant op on tensors to loops on buffers, before
    bufferization: operands cross into memrefs with `bufferization.to_buffer`
    (identity layouts: run one-shot bufferization with
    `function-boundary-type-conversion=identity-layout-map`), results are
    fresh buffers returned through `bufferization.to_tensor`. See
    docs/Lowering.md.

    `squant.qmatmul` becomes a register-tiled vector kernel over row blocks
    of the weight (an `scf.parallel` loop, which `squant-parallel-to-runtime`
    spreads over threads; each output is computed by one iteration in a
    fixed order, so results do not depend on the thread count):
    - M <= `hoist-max-m`: codes are decoded in registers and accumulated
      as `s·Σ x·q + b·Σ x` per group (the scale and bias leave the K loop,
      D7/D8), `Σ x` per group computed once per activation row; the R rows
      of a block are R linear streams through the weight (row r of block i
      is i + r·⌈N/R⌉), each group's codes in the next row prefetched;
    - M >= the vector width: outer products of a panel of 14 (AVX-512) or
      6 decoded weight rows with x^T in slices of two vectors of activation
      rows, 2 x 14 (or 2 x 6) accumulators in registers; with more than
      one slice, in N chunks of about 16 blocks, M chunks of 4 slices and
      K blocks of 256 columns, so that x^T's part for a K block stays in
      L2 while the chunk's blocks pass over it;
    - in between: a panel of weight rows is dequantized once (one FMA per
      weight, or one table lookup and one multiply) into a scratch buffer
      and reused by a register tile of activation rows (dot products).
    A weight produced by `squant.unpack` (i8 container, group sizes that
    are multiples of the vector width) is read in its packed bytes: each
    chunk of codes is expanded on whole registers with constant shuffles,
    per-lane shifts and masks, for any width 1-8 and either bit order
    (on AVX-512, 2-/4-bit lsb_first codes by broadcast and odd widths by a
    byte window, both without masks). LUT lookups of tables with up to 16
    entries are in-register permutations (`vpermps` on AVX-512 and AVX2, a
    compare/select chain on the generic target), never gathers.

    Dequantize, fma_dequantize, lut_dequantize, quantize, pack, unpack and
    the qmatmul configurations the kernel does not cover become scalar loops
    that evaluate the reference numerics (bit-exact for the elementwise ops).
  }];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"host\"",
           "vector ISA: host, avx512, avx2 or generic">,
    Option<"hoistMaxM", "hoist-max-m", "int64_t", /*default=*/"2",
           "largest M that takes the hoisted-scale register path">,
    Option<"rowTile", "row-tile", "int64_t", /*default=*/"4",
           "weight rows per register tile of the hoisted and dot-product paths (1-8)">,
    Option<"remarks", "remarks", "bool", /*default=*/"false",
           "remark on each qmatmul that falls back to scalar loops, with why">
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::bufferization::BufferizationDialect",
                           "::mlir::LLVM::LLVMDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::vector::VectorDialect"];
}

def SCFParallelToRuntime : Pass<"squant-parallel-to-runtime", "::mlir::ModuleOp"> {
  let summary = "run one-dimensional scf.parallel loops with squant_rt_parallel_for";
  let description = [{
    Outlines the body of each outermost one-dimensional `scf.parallel`
    without reductions (on buffers: run after bufferization) into a
    function `void body(void *ctx, int64_t begin, int64_t end)` that runs
    iterations [begin, end) of the loop in order, and replaces the loop
    with a call of `squant_rt_parallel_for(body, ctx, count, threads)`
    from `include/squant/runtime/squant_rt.h`: the runtime splits the
    iterations into contiguous ranges, one per thread, on a pool whose
    workers spin briefly before sleeping. `ctx` points to a stack record
    of the values the body uses from outside (memref descriptors, indices,
    scalars); constants are cloned into the body instead. Results do not
    depend on the thread count when the iterations are independent, which
    `scf.parallel` promises. Link `libsquant_rt`.

    Loops with reductions, of more than one dimension, or nested in
    another `scf.parallel` stay as they are (sequential after
    `convert-scf-to-cf`), each with a remark when `remarks` is set.
  }];
  let options = [
    Option<"threads", "threads", "int64_t", /*default=*/"2",
           "threads that run each loop, the caller included (>= 1)">,
    Option<"remarks", "remarks", "bool", /*default=*/"false",
           "say which loops stay sequential and why">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::func::FuncDialect",
                           "::mlir::LLVM::LLVMDialect",
                           "::mlir::scf::SCFDialect"];
}

def ConvertSQuantToGPU : Pass<"convert-squant-to-gpu", "::mlir::ModuleOp"> {
  let summary = "lower squant ops to gpu-dialect kernels and their launches";
  let description = [{
    Lowers every squant op on tensors to a kernel in one `gpu.module
    @squant_kernels` and host code that launches it (`gpu.launch_func`),
    before bufferization: operands cross into buffers with
    `bufferization.to_buffer` (run one-shot bufferization with
    `function-boundary-type-conversion=identity-layout-map`), results are
    device buffers (`gpu.alloc`) returned through `bufferization.to_tensor`.
    The function's memref arguments and results are device memory (the
    caller allocates them, e.g. with `squant_gpu_malloc`, and frees the
    results). See docs/Lowering.md.

    `squant.qmatmul`, where the weight's codes come in whole 16-byte words
    per chunk (i8 codes, or the bytes of a `squant.unpack`: any width
    lsb_first, 1/2/4/8 bits msb_first) and groups are whole chunks: one
    warp per weight row, coalesced 16-byte loads with several chunks in
    flight per lane, codes converted by the magic-number trick (no per-code
    int-to-float conversion), one FMA per code and activation row with the
    group scale and bias hoisted (`s·Σ x·q + b·Σ x`), LUT entries from a
    table in shared memory, warp-shuffle reduction; up to `m-tile`
    activation rows share each decoded weight, their activations staged
    per step in a shared-memory tile. Other qmatmuls: one thread per output,
    evaluating the reference weights. Dequantize, fma_dequantize,
    lut_dequantize, quantize and unpack: one thread per element, with the
    CPU's element functions (true division, explicit FMAs and roundings:
    the same bits).
  }];
  let options = [
    Option<"rowsPerBlock", "rows-per-block", "int64_t", /*default=*/"4",
           "warps (weight rows) per block of the qmatmul kernel">,
    Option<"mTile", "m-tile", "int64_t", /*default=*/"8",
           "activation rows per block of the qmatmul kernel">
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::bufferization::BufferizationDialect",
                           "::mlir::gpu::GPUDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::vector::VectorDialect"];
}

#endif // SQUANT_CONVERSION_PASSES_TD
