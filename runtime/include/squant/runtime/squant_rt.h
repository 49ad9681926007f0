/*===- squant_rt.h - squant runtime C ABI --------------------------*- C -*-===//
 *
 * The hand-written CPU kernels that squant's lowered code calls, and that
 * users can call directly. One header shared by the compiler (the lowering
 * emits calls against it) and the runtime. Contract: runtime/README.md.
 *
 * Numerics: y[m][n] = sum_k x[m][k] * w[n][k], with w dequantized from a
 * packed weight in one of three forms, accumulated in fp32 with the group
 * factorization sum_g (s_g * sum_{k in g} x_k q_k + b_g * sum_{k in g} x_k).
 *
 *===----------------------------------------------------------------------===*/

#ifndef SQUANT_RUNTIME_SQUANT_RT_H
#define SQUANT_RUNTIME_SQUANT_RT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped on any incompatible change of this header or of the entry points
 * lowered code calls (src/mlir_abi.c). 2: squant_rt_qgemm_memref takes the
 * packed layout as its last argument. */
#define SQUANT_RT_ABI_VERSION 2

typedef enum squant_rt_status {
  SQUANT_RT_OK = 0,
  SQUANT_RT_INVALID_ARGUMENT = 1, /* null pointer, bad size, bad enum */
  SQUANT_RT_UNSUPPORTED = 2,      /* valid but not implemented (bits, form) */
  SQUANT_RT_BUFFER_TOO_SMALL = 3, /* a caller buffer is smaller than needed */
  SQUANT_RT_ISA_UNAVAILABLE = 4,  /* a forced ISA the CPU does not have */
} squant_rt_status;

/* Instruction sets; AUTO picks the best the CPU has. */
typedef enum squant_rt_isa {
  SQUANT_RT_ISA_AUTO = 0,
  SQUANT_RT_ISA_PORTABLE = 1,
  SQUANT_RT_ISA_AVX2 = 2,   /* AVX2 + FMA */
  SQUANT_RT_ISA_AVX512 = 3, /* AVX-512 F/BW/VL */
  /* AVX512 plus AVX512-VBMI, GFNI and AVX512-BF16, and AMX-BF16 and AMX-INT8
   * tiles, which the kernel lets the process use (asked for by
   * squant_rt_isa_available and squant_rt_best_isa): the GEMMs of
   * squant_rt_qgemm_bf16 and squant_rt_qgemm (see there); every other call runs
   * as AVX512. */
  SQUANT_RT_ISA_AMX = 4,
} squant_rt_isa;

/* How packed codes become weights. */
typedef enum squant_rt_form {
  /* w = fma(q, s[n][g], b[n][g]); q the code, signed or unsigned. */
  SQUANT_RT_FORM_FMA = 1,
  /* w = s_table[n][g] * table[q - qmin]; one int8 table of 2^bits entries. */
  SQUANT_RT_FORM_LUT_INT8 = 2,
  /* w = ftable[t][q - qmin]; one fp32 table per tensor or per row. */
  SQUANT_RT_FORM_LUT_F32 = 3,
} squant_rt_form;

/* Packed weight layouts. Versioned: a new byte format gets a new id.
 *
 * BLOCK32_V1: each row n holds K codes in blocks of 32 consecutive codes
 * (K % 32 == 0); a block of b-bit codes takes 4*b bytes, little-endian:
 *   b = 8: byte i = code i;
 *   b = 4: two 64-bit words; word h holds codes 16h..16h+15, code 16h + d
 *          at bit 32*(d % 2) + 4*(d / 2) (even codes in the low 32 bits);
 *   b = 2: two 32-bit words; word h holds codes 16h + d at bit 2d;
 *   b = 1: one 32-bit word; code d at bit d;
 *   b = 3: the b = 2 layout of the low two bits (8 bytes), then the b = 1
 *          layout of the third bit (4 bytes).
 * Codes are stored as their low b bits (two's complement when signed). Row n
 * starts at byte n * (K / 32) * 4 * b. With a word broadcast to every 32-bit
 * lane, one variable shift per lane puts code i of a 16-code half-block at
 * the bottom of lane i: unpacking costs no byte-to-lane widening. */
#define SQUANT_RT_LAYOUT_BLOCK32_V1 1
/* TILE16_V1 (1-, 2- and 3-bit codes): the 32-bit words of BLOCK32_V1 with
 * 16 consecutive rows interleaved, in panels of 512 columns. Rows are
 * padded with zero codes to T * 16 (T tiles); K is cut into panels of 16
 * blocks (the last one shorter when K % 512 != 0), panel after panel; a
 * panel holds its P blocks of tile 0, then of tile 1, and so on. Word w
 * (0 .. b-1) of block j of row r is the 4 bytes at
 *   ((16 T (j / 16) + (r / 16) P + j % 16) * b + w) * 64 + (r % 16) * 4,
 * P the block count of j's panel. One 64-byte load holds a word of 16 rows,
 * and a pass over a panel reads one linear stream (64-byte aligned codes
 * keep each word in one cache line): the AVX-512 GEMV reads activation
 * tables with 16 rows in the lanes of a register. Every kernel takes
 * either layout; TILE16 is for weights used as GEMVs. */
#define SQUANT_RT_LAYOUT_TILE16_V1 2
/* TILE16_V2 (1- to 4- and 8-bit codes): the 32-bit words of BLOCK32_V1 with
 * 16 consecutive rows interleaved and each group's parameters beside its
 * codes, so that a tile of 16 rows is one linear stream over all of K.
 * Rows are padded with zero codes (and zero parameters) to T * 16. With
 * B = group_size / 32 blocks per group and G = k / group_size groups, tile
 * t holds its groups one after the other, G * (B b + 2) * 64 bytes; group
 * g of it holds the b words of each of its blocks (word w of block j of
 * the group at (j b + w) * 64, row r % 16 at byte 4 (r % 16) of it), then
 * the 16 rows' fp32 scales (64 bytes), then their fp32 biases (64 bytes;
 * zero where the form has none). The weight's `scales` and `bias` are not
 * read: squant_rt_pack_tile16_v2 copies them in, for one group size. The
 * AVX-512 GEMV (M = 1) reads 1- to 3-bit codes with 8 tiles in flight,
 * the AMX-INT8 GEMV 2- and 4-bit codes (FMA form, LUT_INT8) and 3- and
 * 8-bit codes (FMA form), groups of multiples of 32 up to 512, with 2; any
 * other call on it (M > 1, other ISAs,
 * 3- and 4-bit LUT forms elsewhere, per-row fp32 tables) runs the portable
 * kernel: it is a layout for weights used as GEMVs. */
#define SQUANT_RT_LAYOUT_TILE16_V2 3

/* A quantized weight [n, k] in a packed layout. */
typedef struct squant_rt_qweight {
  int32_t layout;       /* SQUANT_RT_LAYOUT_* */
  int32_t form;         /* squant_rt_form */
  int32_t bits;         /* 1, 2, 3, 4 or 8 */
  int32_t is_signed;    /* FMA form: codes are two's complement */
  int64_t n, k;         /* weight rows (outputs) and columns (reduction) */
  int64_t group_size;   /* scale / bias group along K; a multiple of 32 */
  const uint8_t *codes; /* packed codes, squant_rt_packed_size bytes */
  const float *scales;  /* FMA, LUT_INT8: [n][k / group_size] (not TILE16_V2) */
  const float *bias;    /* FMA: [n][k / group_size] (not TILE16_V2) */
  const int8_t *table;  /* LUT_INT8: [2^bits] entries, index q - qmin */
  const float *ftable;  /* LUT_F32: [num_tables][2^bits] */
  int64_t num_tables;   /* LUT_F32: 1 (per tensor) or n (per row) */
} squant_rt_qweight;

/* A pool of worker threads, created by the caller (the only place the
 * runtime allocates) and passed to calls that may use it. */
typedef struct squant_rt_pool squant_rt_pool;

/* Opt-in modes that CHANGE THE NUMERICS (not bit-compatible with the
 * reference; accuracy is reported next to speed in docs/Performance.md). */
/* Activations are quantized per weight group to int8 (symmetric, scale
 * max|x| / 127 (1 for an all-zero group; the smallest subnormal where the
 * quotient underflows to zero), x / scale rounded half to even) and
 * multiplied with the codes in integer arithmetic; group scales and biases
 * stay fp32, and each bias multiplies the sum of its group's quantized x
 * (scale times the sum of the int8 values). So y is the product of the
 * quantized x and the weights, up to fp32 rounding: each row's error is
 * at most sum |w| scale / 2, and a weight group of zeros adds nothing.
 * Supported: FMA form, M = 1, and either 2-, 3-, 4- or
 * 8-bit codes in BLOCK32_V1 with groups of multiples of 64 (AVX-512 VNNI; 3
 * bits also AVX-512 VBMI) or 2-, 3-, 4- or 8-bit codes in TILE16_V2 with
 * groups of multiples of 32 up to 512 (ISA AMX, AMX-INT8; ISA AVX512,
 * AVX-512 VNNI, VBMI and GFNI; AUTO, VNNI for 2-bit codes and for 4-bit
 * codes in groups of odd multiples of 32, and AMX-INT8 for the others
 * where the CPU has it, else VNNI; both give the same bits); else
 * SQUANT_RT_UNSUPPORTED, or SQUANT_RT_ISA_UNAVAILABLE without the ISA. An x
 * holding a NaN or an infinity runs the exact path, which carries it. */
#define SQUANT_RT_FLAG_INT8_ACTIVATIONS 1u

typedef struct squant_rt_options {
  int32_t isa;          /* squant_rt_isa; AUTO by default */
  squant_rt_pool *pool; /* NULL: run on the calling thread */
  uint32_t flags;       /* SQUANT_RT_FLAG_*; 0: exact fp32 activations */
} squant_rt_options;

/* Bytes of a BLOCK32_V1 weight of n rows of k b-bit codes. */
size_t squant_rt_packed_size(int64_t n, int64_t k, int32_t bits);

/* Packs int8 codes [n][k] (row stride k) into BLOCK32_V1. */
squant_rt_status squant_rt_pack_block32(const int8_t *codes, int64_t n,
                                        int64_t k, int32_t bits, uint8_t *out,
                                        size_t out_size);

/* Bytes of an n x k weight of b-bit codes in `layout` (0 when the layout
 * does not take them), and packing int8 codes [n][k] (row stride k) into
 * it; squant_rt_pack_block32 is the BLOCK32_V1 case. TILE16_V2, which
 * holds the parameters too, has its own pair below (these return 0 and
 * SQUANT_RT_UNSUPPORTED for it). */
size_t squant_rt_packed_size_layout(int32_t layout, int64_t n, int64_t k,
                                    int32_t bits);
squant_rt_status squant_rt_pack(int32_t layout, const int8_t *codes, int64_t n,
                                int64_t k, int32_t bits, uint8_t *out,
                                size_t out_size);

/* Bytes of an n x k TILE16_V2 weight of b-bit codes (b = 1 to 4 or 8; 0
 * otherwise) and groups of group_size columns, and packing int8 codes
 * [n][k] (row stride k) with their scales and biases ([n][k / group_size]
 * each; NULL for a form without them) into it. */
size_t squant_rt_packed_size_tile16_v2(int64_t n, int64_t k, int32_t bits,
                                       int64_t group_size);
squant_rt_status
squant_rt_pack_tile16_v2(const int8_t *codes, const float *scales,
                         const float *bias, int64_t n, int64_t k, int32_t bits,
                         int64_t group_size, uint8_t *out, size_t out_size);

/* The layout squant_rt_qgemm reads fastest for a weight like `w` (its
 * form, bits, n, k, group_size and num_tables are read; layout and
 * pointers are not) at m activation rows on `isa` (AUTO: this CPU's best),
 * with exact fp32 activations: SQUANT_RT_LAYOUT_TILE16_V2 where a GEMV
 * (M = 1) reads it: the activation-table GEMV of AVX-512 and AMX machines
 * (1- to 3-bit FMA form, 1- and 2-bit LUT forms with an int8 or one fp32
 * table) and, on AMX, the AMX-INT8 GEMV of 2- and 4-bit codes (FMA form
 * or LUT_INT8) and 3- and 8-bit codes (FMA form), groups of 64 to 512, and
 * of 4- and 8-bit codes (FMA form) in groups of odd multiples of 32 up to
 * 480 (there the activation-table GEMV reads 2- and 3-bit codes faster, and
 * BLOCK32_V1 4-bit LUTs); else SQUANT_RT_LAYOUT_BLOCK32_V1, which every
 * kernel reads. convert-squant-to-runtime packs constant weights in the
 * layout this names. */
int32_t squant_rt_preferred_layout(const squant_rt_qweight *w, int64_t m,
                                   squant_rt_isa isa);

/* Converts torchao's tinygemm input (uint8 [n][k/2], even k in the high
 * nibble) and its scales_and_zeros ([k/g][n][2]) into squant's FMA form:
 * BLOCK32_V1 unsigned 4-bit codes, scales and biases b = fma(s, -8, zero). */
squant_rt_status squant_rt_pack_tinygemm(const uint8_t *tinygemm_u8, int64_t n,
                                         int64_t k, int64_t group_size,
                                         const float *scales_and_zeros,
                                         uint8_t *codes_out, float *scales_out,
                                         float *bias_out);

/* Workspace bytes squant_rt_qgemm needs for m activation rows (with any
 * flags). */
size_t squant_rt_qgemm_workspace_size(int64_t m, const squant_rt_qweight *w);

/* y[m][n] = sum_k x[m][k] * w[n][k] (strides in elements). The result does
 * not depend on the pool's size.
 * On SQUANT_RT_ISA_AMX (AUTO picks it where available, but for groups of
 * 32 below M = 32, which the AVX-512 kernels run faster), FMA and LUT_INT8
 * forms in
 * BLOCK32_V1, no flags and M >= 5 (1- to 4-bit codes in groups of
 * multiples of 128) or M >= 9 (the others), each row of x is
 * split exactly into three bf16 parts (x = hi + mid + lo, each a
 * truncation) that AMX tiles multiply by the codes or int8 table entries
 * with exact products and fp32 sums per group, scaled by the group
 * factorization; y is the sum of the parts' results. Rows whose largest
 * magnitude is below 2^-40 are scaled by a power of two first (undone
 * exactly on y), so parts are lost to bf16's subnormals (which the tiles
 * read as zero) only for values 2^63 times smaller than their row's
 * largest. 2- to 8-bit codes of the FMA form (and 2- to 4-bit LUT_INT8
 * codes) in groups of multiples of 64 (up to 65536 for 8 bits,
 * 512 for the others) at M = 2..32 take AMX-INT8 tiles instead: each group
 * of a row of x is split exactly into int8 parts times powers of two (values
 * under 2^-143 after the row scaling dropped), multiplied with the codes in
 * exact int32 sums, each part's sum scaled and the parts added in fp32;
 * x that does not split (non-finite values, or a group needing more than
 * 8 parts) runs the kernels above instead. Groups of 32 at M >= 32, and
 * of 64 and 96 at M >= 48 (every form in BLOCK32_V1), and groups of 128
 * of 8-bit codes at M >= 96 and of 3-bit codes at M >= 128 (FMA form)
 * take the exact weights on the tiles instead of the codes: w split into three
 * bf16 parts like x, and six of the nine products of parts added (the three
 * left out are each below 2^-22 |x w|, so each x w has a relative error below
 * 2^-21; every row the same products in the same order, whatever M); weights
 * below 2^-110 lose the parts below bf16's normal range. The other AMX kernels,
 * as the GEMV's factorization, form sum q x per group before the scale, so they
 * overflow for |x| near FLT_MAX / (2^bits * g) where x * w would not. */
squant_rt_status squant_rt_qgemm(const float *x, int64_t m, int64_t x_stride,
                                 const squant_rt_qweight *w, float *y,
                                 int64_t y_stride, void *workspace,
                                 size_t workspace_size,
                                 const squant_rt_options *options);

/* bf16 activations (raw bf16 bits, [m][x_stride]) and fp32 y: the
 * product squant_rt_qgemm computes for x widened to fp32 (exact), within
 * the same tolerance (squant_rt_qgemm's result when nothing below applies).
 * On SQUANT_RT_ISA_AMX (AUTO picks it where available), M >= 5 (1- to
 * 4-bit codes in groups of multiples of 128, but 2- to 4-bit codes in
 * groups of multiples of 64 from 9), M >= 17 (8-bit codes in groups of
 * multiples of 64) or M >= 9 (the others), FMA and LUT_INT8 forms in BLOCK32_V1
 * and no flags, AMX tiles multiply the bf16 activations by the codes or int8
 * table entries (exact in bf16) with fp32 sums per group, scaled by the group
 * factorization; that path reads bf16 subnormals (|x| < 2^-126) as zero and
 * flushes subnormal fp32 partial sums to zero. Every other call widens x into
 * the workspace and runs squant_rt_qgemm's kernels (flags as there). The
 * workspace size covers both. */
size_t squant_rt_qgemm_bf16_workspace_size(int64_t m,
                                           const squant_rt_qweight *w);
squant_rt_status squant_rt_qgemm_bf16(const uint16_t *x, int64_t m,
                                      int64_t x_stride,
                                      const squant_rt_qweight *w, float *y,
                                      int64_t y_stride, void *workspace,
                                      size_t workspace_size,
                                      const squant_rt_options *options);

/* The ISA AUTO resolves to on this CPU, and whether `isa` is available. */
squant_rt_isa squant_rt_best_isa(void);
int squant_rt_isa_available(squant_rt_isa isa);

/* Thread pool: `threads` workers in total including the caller (>= 1). */
squant_rt_status squant_rt_pool_create(int32_t threads, squant_rt_pool **pool);
void squant_rt_pool_destroy(squant_rt_pool *pool);

/* The caller's own work on a pool's threads: runs task(arg, i, threads) once
 * for each i in [0, threads) of the pool's threads (the caller runs i = 0;
 * a NULL pool: task(arg, 0, 1) on the caller) and returns when all are done.
 * Work between calls, such as the rest of a model's step, then shares the
 * threads the kernels run on instead of taking turns with their workers,
 * which spin for a while after each call. One call at a time per pool, as
 * for the kernels; SQUANT_RT_INVALID_ARGUMENT for a NULL task. */
typedef void (*squant_rt_pool_task)(void *arg, int32_t index, int32_t threads);
squant_rt_status squant_rt_pool_parallel(squant_rt_pool *pool,
                                         squant_rt_pool_task task, void *arg);

/* The parallel loop of squant's generated code (squant-parallel-to-runtime
 * emits the calls): runs body(ctx, begin, end) over disjoint ranges covering
 * [0, count), each range on one of `threads` threads (the caller included;
 * at most one per online processor and per iteration), and returns when all
 * are done. Iterations must be independent. Uses a
 * process-wide pool per thread count, created on first use (the library's
 * only global state); a call that finds that pool busy (nested, or from
 * another thread) runs all of [0, count) on the calling thread. */
typedef void (*squant_rt_parallel_body)(void *ctx, int64_t begin, int64_t end);
void squant_rt_parallel_for(squant_rt_parallel_body body, void *ctx,
                            int64_t count, int32_t threads);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* SQUANT_RUNTIME_SQUANT_RT_H */
