/*===- api.c - Argument validation, ISA dispatch and threading -------------===//
 *
 * Every public entry point validates its arguments once and returns a
 * status; the kernels behind it trust the validated parameters.
 *
 *===----------------------------------------------------------------------===*/

#include "kernels.h"
#include "pool.h"

#include <float.h>
#include <string.h>
#if defined(__x86_64__) && defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

/* Whether the kernel lets this process use the AMX tile data, asking for it
 * (Linux 5.16+: the permission is per process and asking is idempotent). */
static int amxPermitted(void) {
#if defined(__x86_64__) && defined(__linux__) && defined(SYS_arch_prctl)
  const long reqXcompPerm = 0x1023, xtiledata = 18;
  return syscall(SYS_arch_prctl, reqXcompPerm, xtiledata) == 0;
#else
  return 0;
#endif
}

int squant_rt_isa_available(squant_rt_isa isa) {
  /* A switch over an int: callers may pass any value. */
  switch ((int)isa) {
  case SQUANT_RT_ISA_AUTO:
  case SQUANT_RT_ISA_PORTABLE:
    return 1;
#if defined(__x86_64__)
  case SQUANT_RT_ISA_AVX2:
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  case SQUANT_RT_ISA_AVX512:
    return __builtin_cpu_supports("avx512f") &&
           __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl");
  case SQUANT_RT_ISA_AMX:
    return squant_rt_isa_available(SQUANT_RT_ISA_AVX512) &&
           __builtin_cpu_supports("avx512vbmi") &&
           __builtin_cpu_supports("gfni") &&
           __builtin_cpu_supports("avx512bf16") &&
           __builtin_cpu_supports("amx-tile") &&
           __builtin_cpu_supports("amx-bf16") &&
           __builtin_cpu_supports("amx-int8") && amxPermitted();
#endif
  default:
    return 0;
  }
}

/* Whether the CPU runs a VNNI kernel of the int8-activation mode: AVX-512
 * with VNNI, also VBMI where `vbmi` and GFNI where `gfni` (the VNNI GEMV of
 * TILE16_V2, gemv_vnni_tile16.c, needs both; BLOCK32_V1's VNNI kernel
 * needs VBMI for 3-bit codes). */
static int vnniAvailable(int vbmi, int gfni) {
#if defined(__x86_64__)
  return squant_rt_isa_available(SQUANT_RT_ISA_AVX512) &&
         __builtin_cpu_supports("avx512vnni") &&
         (!vbmi || __builtin_cpu_supports("avx512vbmi")) &&
         (!gfni || __builtin_cpu_supports("gfni"));
#else
  (void)vbmi, (void)gfni;
  return 0;
#endif
}

static int vnniTile16Available(void) { return vnniAvailable(1, 1); }

/* AUTO for fp32 activations, which AMX runs as AVX512: no AMX permission
 * request (a system call) on every call. */
static squant_rt_isa bestVectorIsa(void) {
  if (squant_rt_isa_available(SQUANT_RT_ISA_AVX512))
    return SQUANT_RT_ISA_AVX512;
  if (squant_rt_isa_available(SQUANT_RT_ISA_AVX2))
    return SQUANT_RT_ISA_AVX2;
  return SQUANT_RT_ISA_PORTABLE;
}

squant_rt_isa squant_rt_best_isa(void) {
  return squant_rt_isa_available(SQUANT_RT_ISA_AMX) ? SQUANT_RT_ISA_AMX
                                                    : bestVectorIsa();
}

/* Kept portable (not in the AVX-512 file): squant_rt_preferred_layout
 * asks it on any CPU. */
int squant_rt_gemv_tables_eligible(const squant_rt_qweight *w) {
  /* Lane offsets (rows, bytes and parameters, up to 15/16 of the
   * weight's) are int32. */
  if (w->n * (w->k / 32) * squant_rt_block_bytes(w->bits) > INT32_MAX ||
      w->n * (w->k / w->group_size) > INT32_MAX)
    return 0;
  int tiled = w->layout == SQUANT_RT_LAYOUT_TILE16_V1 ||
              w->layout == SQUANT_RT_LAYOUT_TILE16_V2;
  if (!tiled && w->layout != SQUANT_RT_LAYOUT_BLOCK32_V1)
    return 0;
  /* 3-bit codes split into planes: the affine form only. */
  int lowBits = w->bits == 1 || (tiled && w->bits == 2);
  switch (w->form) {
  case SQUANT_RT_FORM_FMA:
    return lowBits || w->bits == 3;
  case SQUANT_RT_FORM_LUT_INT8:
    return lowBits;
  case SQUANT_RT_FORM_LUT_F32:
    return lowBits && w->num_tables == 1;
  default:
    return 0;
  }
}

/* The GEMV of 2-, 3-, 4- and 8-bit codes on AMX-INT8 (gemv_amx_int8.c):
 * TILE16_V2, the FMA form or (2 and 4 bits) LUT_INT8, groups of multiples
 * of 32 up to 512 (the int32 dots stay below 2^24, exact in fp32: 512 *
 * 127 * 255 at 8 bits; odd multiples of 32 in half quads). */
static int gemvAmxInt8Takes(int64_t m, const squant_rt_qweight *w) {
  int bits = w->bits;
  int fma = w->form == SQUANT_RT_FORM_FMA &&
            (bits == 2 || bits == 3 || bits == 4 || bits == 8);
  int lut = w->form == SQUANT_RT_FORM_LUT_INT8 && (bits == 2 || bits == 4);
  return m == 1 && w->layout == SQUANT_RT_LAYOUT_TILE16_V2 && (fma || lut) &&
         w->group_size % 32 == 0 && w->group_size <= 512;
}

/* Whether the table GEMV reads w (TILE16_V2, groups of odd multiples of
 * 32: the AMX-INT8 GEMV's half quads, twice its per-code work of whole
 * ones) faster than the AMX-INT8 GEMV: 2- and 3-bit codes, 10-15 % and
 * 0-6 % less time at group 32 (docs/Performance.md, session 33). */
static int tablesBeatGemvAmxInt8(const squant_rt_qweight *w) {
  return squant_rt_gemv_amx_half_quads(w->group_size) &&
         squant_rt_gemv_tables_eligible(w);
}

int32_t squant_rt_preferred_layout(const squant_rt_qweight *w, int64_t m,
                                   squant_rt_isa isa) {
  if (!w || m != 1 || w->n < 0 || w->k < 0 || w->group_size <= 0 ||
      w->k % w->group_size != 0 ||
      squant_rt_packed_size_tile16_v2(1, w->group_size, w->bits,
                                      w->group_size) == 0)
    return SQUANT_RT_LAYOUT_BLOCK32_V1;
  squant_rt_qweight tiled = *w;
  tiled.layout = SQUANT_RT_LAYOUT_TILE16_V2;
  if (isa == SQUANT_RT_ISA_AUTO)
    isa = squant_rt_best_isa();
  /* TILE16_V2 where a GEMV reads it: 2- to 4- and 8-bit codes on AMX-INT8,
   * 1- to 3-bit codes in the AVX-512 activation-table GEMV (AMX machines run
   * 1-bit codes in it, and 2- and 3-bit codes in half quads); every other
   * kernel reads BLOCK32_V1 at least as fast. 4-bit LUT_INT8 in half quads:
   * BLOCK32_V1's AVX-512 GEMV, without TILE16_V2's unused bias line (a
   * third of its bytes at group 32), takes 6-11 % less time (session 33). */
  int halfQuads = squant_rt_gemv_amx_half_quads(w->group_size);
  if (isa == SQUANT_RT_ISA_AMX && gemvAmxInt8Takes(m, &tiled) &&
      !tablesBeatGemvAmxInt8(&tiled) &&
      !(halfQuads && w->form == SQUANT_RT_FORM_LUT_INT8))
    return SQUANT_RT_LAYOUT_TILE16_V2;
  return (isa == SQUANT_RT_ISA_AMX || isa == SQUANT_RT_ISA_AVX512) &&
                 squant_rt_gemv_tables_eligible(&tiled)
             ? SQUANT_RT_LAYOUT_TILE16_V2
             : SQUANT_RT_LAYOUT_BLOCK32_V1;
}

static int validBits(int32_t bits) {
  return bits == 1 || bits == 2 || bits == 3 || bits == 4 || bits == 8;
}

/* Checks a weight; SQUANT_RT_OK when kernels may trust it. */
static squant_rt_status validateWeight(const squant_rt_qweight *w) {
  if (!w || !w->codes || w->n < 0 || w->k < 0 || w->group_size <= 0)
    return SQUANT_RT_INVALID_ARGUMENT;
  if (!validBits(w->bits) || w->k % 32 != 0 || w->group_size % 32 != 0 ||
      w->k % w->group_size != 0)
    return SQUANT_RT_UNSUPPORTED;
  /* The packed sizes are 0 for a layout or width they lack. TILE16_V2
   * holds the scales and biases itself. */
  int inlineParams = w->layout == SQUANT_RT_LAYOUT_TILE16_V2;
  if (inlineParams
          ? squant_rt_packed_size_tile16_v2(1, w->group_size, w->bits,
                                            w->group_size) == 0
          : squant_rt_packed_size_layout(w->layout, 1, 32, w->bits) == 0)
    return SQUANT_RT_UNSUPPORTED;
  switch (w->form) {
  case SQUANT_RT_FORM_FMA:
    if (!inlineParams && (!w->scales || !w->bias))
      return SQUANT_RT_INVALID_ARGUMENT;
    return SQUANT_RT_OK;
  case SQUANT_RT_FORM_LUT_INT8:
    if ((!inlineParams && !w->scales) || !w->table)
      return SQUANT_RT_INVALID_ARGUMENT;
    return w->bits <= 4 ? SQUANT_RT_OK : SQUANT_RT_UNSUPPORTED;
  case SQUANT_RT_FORM_LUT_F32:
    if (!w->ftable || !(w->num_tables == 1 || w->num_tables == w->n))
      return SQUANT_RT_INVALID_ARGUMENT;
    return w->bits <= 4 ? SQUANT_RT_OK : SQUANT_RT_UNSUPPORTED;
  default:
    return SQUANT_RT_INVALID_ARGUMENT;
  }
}

/* Workspace: the FMA form's group sums of x, then one of: X^T padded to
 * 16 rows (M > 8), the int8-activation mode's quantized x, the
 * activation-table GEMV's tables (M = 1) or x in the 2-bit GEMV's lane
 * order (M = 1), 64-byte aligned. */
static size_t xsumBytes(int64_t m, const squant_rt_qweight *w) {
  if (w->form != SQUANT_RT_FORM_FMA)
    return 0;
  return ((size_t)m * (size_t)(w->k / w->group_size) * sizeof(float) + 63) / 64 * 64;
}

_Static_assert(SQUANT_RT_GEMM_SCRATCH <= SQUANT_RT_POOL_SCRATCH &&
                   SQUANT_RT_SMALL_SCRATCH <= SQUANT_RT_POOL_SCRATCH &&
                   SQUANT_RT_AMX_SCRATCH <= SQUANT_RT_POOL_SCRATCH &&
                   SQUANT_RT_AMX_FOLDED_SCRATCH <= SQUANT_RT_POOL_SCRATCH &&
                   SQUANT_RT_AMX_INT8_SCRATCH <= SQUANT_RT_POOL_SCRATCH,
               "the AVX-512 kernels' scratch fits a pool thread's");

/* X^T for the AVX-512 GEMM: slices of 32 activation rows, [k][32] each. */
#define SQUANT_XT_SLICE 32
static int64_t xtRows(int64_t m) {
  return (m + SQUANT_XT_SLICE - 1) / SQUANT_XT_SLICE * SQUANT_XT_SLICE;
}

/* The code widths the int8-activation mode takes (gemv_vnni.h). */
static int int8Bits(int32_t bits) {
  return bits == 2 || bits == 3 || bits == 4 || bits == 8;
}

/* The int8-activation mode's quantized x, group scales and group sums. */
static size_t int8Bytes(int64_t m, const squant_rt_qweight *w) {
  size_t groups = (size_t)(w->k / w->group_size);
  return (size_t)m * ((size_t)w->k + groups * (sizeof(float) + sizeof(int32_t))) + 64;
}

/* Activations on AMX (gemm_amx.c): bf16, or fp32 in three bf16 parts. */

int squant_rt_amx_eligible(const squant_rt_qweight *w) {
  return w->layout == SQUANT_RT_LAYOUT_BLOCK32_V1 &&
         (w->form == SQUANT_RT_FORM_FMA ||
          (w->form == SQUANT_RT_FORM_LUT_INT8 && w->bits <= 4));
}

/* The fewest activation rows the AMX path takes, where it beats the AVX-512
 * kernels (docs/Performance.md, session 15): 5 for the four-block decode
 * (squant_rt_amx_wide; fp32 in three parts per row, so M = 8 fills 24 of 32
 * tile rows: at M = 5..8, 0.5-0.95x the AVX-512 time), else 9 (8-bit codes
 * and one-block decodes: 1.04-1.07x at M = 8, 0.63-0.75x at M = 12). bf16
 * activations take the same rows: below them they are widened to fp32 (as
 * are 8-bit codes up to M = 16 where AMX-INT8 takes them). */
static int64_t amxMinM(const squant_rt_qweight *w) {
  return squant_rt_amx_wide(w) ? 5 : 9;
}

static size_t align64(size_t bytes) { return (bytes + 63) / 64 * 64; }

static void *align64Ptr(void *p) {
  return (void *)(((uintptr_t)p + 63) & ~(uintptr_t)63);
}

/* The AMX path's workspace (0 where it does not run): the rows' scales
 * (fp32), then x as B tiles, the transposed group sums of x (FMA form),
 * and the kernel's scratch for a call without a pool. */
static size_t amxBytes(int64_t m, const squant_rt_qweight *w, int32_t parts) {
  if (!squant_rt_amx_eligible(w) || m < amxMinM(w))
    return 0;
  size_t rows = (size_t)squant_rt_amx_rows(m, parts);
  size_t groups = (size_t)(w->k / w->group_size);
  size_t xsumT =
      w->form == SQUANT_RT_FORM_FMA ? groups * rows * sizeof(float) : 0;
  size_t scales = parts == 3 ? (size_t)m * sizeof(float) : 0;
  return 64 + align64(scales) +
         align64(rows * (size_t)w->k * sizeof(uint16_t)) + align64(xsumT) +
         SQUANT_RT_AMX_SCRATCH;
}

/* Whether an unforced call takes the AMX-BF16 path with fp32 activations
 * (three bf16 parts per row): where it runs, but not in groups of 32. There
 * each group is one tile product per part, and its dots' stores and
 * scaling per 32 columns take the path to 1.3-1.5x the AVX-512 GEMM's time
 * at M = 16, 32 and 128 (4096 x 4096, session 33; bf16 activations, one
 * part, stay 1.45-1.9x faster on AMX). */
static int amxFp32Pays(int64_t m, const squant_rt_qweight *w) {
  return amxBytes(m, w, 3) > 0 && w->group_size != 32;
}

/* fp32 activations on AMX-BF16 with the weights' scales folded in
 * (gemm_amx_folded.c): every form in BLOCK32_V1 in groups of 32, 64 or 96
 * (the factorized kernel's epilogue every one to three tile products),
 * from M = 32 in groups of 32 and M = 48 in the others, and the FMA form
 * in groups of 128 with 8-bit codes from M = 96, 3-bit codes from M = 128
 * and 2- and 4-bit codes from M = 256. Each weight is decoded into three
 * parts once per pass of up to 256 activation rows, and a last chunk of
 * rows is padded to 32. Measured cold, 4096 x 4096, one thread
 * (docs/Performance.md), against the kernels that ran before: in groups
 * of 32 (the AVX-512 GEMM) at M = 32 8-bit codes even and the others 8-12 %
 * less time, at M = 40 to 64 5-14 % and 10-24 % less; in groups of 64 (the
 * factorized kernel; below 33 rows the AMX-INT8 kernel runs) at M = 40
 * 5-8 % more time (24 of 32 rows padding), at M = 48 4-12 % less (session
 * 36). In groups of 128 (session 37; folded time / factorized time): at
 * M = 64 1.15-1.24 for every width and form; 8-bit codes 0.95 at M = 96,
 * 0.93 at 128, 0.77 at 256; 3-bit codes 1.03, 0.92 and 0.88; 2- and 4-bit
 * codes and 2-bit LUTs 1.05-1.06 at 96, 0.96-1.03 from 128 to 224,
 * 0.92-0.94 at 256; 4-bit LUTs 1.04-1.12. In groups of 256 the factorized
 * kernel took less time but for 8-bit codes at M = 256 (4-bit codes
 * 1.19-1.27, 3-bit 1.01-1.22).
 * Session 38 (medians of two alternated rounds; 4096 x 4096 at M = 256,
 * 384 and 512, 11008 x 4096 and 4096 x 11008 at 256, two threads at
 * 256): 2-bit codes 0.88-0.99, 4-bit codes 0.86-0.99; 2-bit LUTs
 * 0.90-1.01 and 4-bit LUTs 1.00-1.10 stay factorized. */
#define SQUANT_RT_AMX_FOLDED_MIN_M 32
#define SQUANT_RT_AMX_FOLDED_MIN_M_WIDE_GROUPS 48
#define SQUANT_RT_AMX_FOLDED_MIN_M_8BIT_GROUP_128 96
#define SQUANT_RT_AMX_FOLDED_MIN_M_3BIT_GROUP_128 128
#define SQUANT_RT_AMX_FOLDED_MIN_M_2_4BIT_GROUP_128 256
static int amxFoldedTakes(int64_t m, const squant_rt_qweight *w) {
  if (w->layout != SQUANT_RT_LAYOUT_BLOCK32_V1)
    return 0;
  switch (w->group_size) {
  case 32:
    return m >= SQUANT_RT_AMX_FOLDED_MIN_M;
  case 64:
  case 96:
    return m >= SQUANT_RT_AMX_FOLDED_MIN_M_WIDE_GROUPS;
  case 128:
    return w->form == SQUANT_RT_FORM_FMA &&
           ((w->bits == 8 && m >= SQUANT_RT_AMX_FOLDED_MIN_M_8BIT_GROUP_128) ||
            (w->bits == 3 && m >= SQUANT_RT_AMX_FOLDED_MIN_M_3BIT_GROUP_128) ||
            ((w->bits == 2 || w->bits == 4) &&
             m >= SQUANT_RT_AMX_FOLDED_MIN_M_2_4BIT_GROUP_128));
  default:
    return 0;
  }
}

static size_t amxFoldedBytes(int64_t m, const squant_rt_qweight *w) {
  if (!amxFoldedTakes(m, w))
    return 0;
  return 64 + align64((size_t)m * sizeof(float)) +
         align64((size_t)squant_rt_amx_whole_rows(m, 3) * (size_t)w->k *
                 sizeof(uint16_t)) +
         SQUANT_RT_AMX_FOLDED_SCRATCH;
}

/* 2- to 8-bit codes with fp32 activations on AMX-INT8
 * (gemm_amx_int8.c): the FMA form (2- to 4-bit codes also LUT_INT8) in
 * BLOCK32_V1, groups of multiples of 64 up to 65536 for 8-bit codes (where
 * the int32 sums cannot overflow: 65536 * 255 * 127 < 2^31) and up to 512
 * for the others (decoded a group at a time into the kernel's scratch),
 * M = 2..32 (M = 1 is the GEMV's,
 * memory-bound; above 32 the AMX-BF16 split runs whole chunks of 32 rows per
 * pass over the weight). */
static int amxInt8Takes(int64_t m, const squant_rt_qweight *w) {
  int64_t gs = w->group_size;
  int fma = w->form == SQUANT_RT_FORM_FMA;
  return w->layout == SQUANT_RT_LAYOUT_BLOCK32_V1 && gs % 64 == 0 &&
         ((fma && w->bits == 8 && gs <= 65536) ||
          ((fma || w->form == SQUANT_RT_FORM_LUT_INT8) &&
           (w->bits == 4 || w->bits == 3 || w->bits == 2) &&
           gs <= 64 * SQUANT_RT_AMX_INT8_QUADS)) &&
         m >= 2 && m <= SQUANT_RT_AMX_INT8_MAX_M;
}

/* The AMX-INT8 path's workspace: the rows' scales, the parts
 * (squant_rt_amx_int8_parts), one group's residual and the kernel's
 * scratch for a call without a pool. */
typedef struct {
  float *rowScale;
  squant_rt_amx_int8_parts parts;
  float *residual;
  float *scratch;
} AmxInt8Workspace;

/* `bytes` at *at from base (NULL: sizes only), 64-byte aligned. */
static void *carve(char *base, size_t *at, size_t bytes) {
  void *p = base ? base + *at : NULL;
  *at += align64(bytes);
  return p;
}

/* Lays the workspace out from base (64-byte aligned; NULL: sizes only) and
 * returns its bytes. */
static size_t amxInt8Carve(int64_t m, const squant_rt_qweight *w, char *base,
                           AmxInt8Workspace *ws) {
  size_t groups = (size_t)(w->k / w->group_size);
  int32_t blocks = squant_rt_amx_int8_blocks(m);
  size_t units = groups * (size_t)blocks, at = 0;
  size_t tiles = groups * (size_t)squant_rt_amx_int8_first_tile(m, blocks);
  ws->rowScale = carve(base, &at, (size_t)m * sizeof(float));
  ws->parts.tiles = carve(base, &at, tiles * (size_t)w->group_size * 16);
  ws->parts.units = carve(base, &at, tiles * 16 * sizeof(float));
  ws->parts.counts = carve(base, &at, units * sizeof(int32_t));
  ws->parts.sums = carve(base, &at, units * 16 * sizeof(float));
  ws->residual = carve(base, &at, (size_t)w->group_size * (sizeof(float) + 1));
  ws->scratch = carve(base, &at, SQUANT_RT_AMX_INT8_SCRATCH);
  return at;
}

/* The AMX-INT8 GEMV's workspace (after the group sums of x): the row's
 * scale, x's parts (squant_rt_gemv_amx_int8_split; in the int8-activation
 * mode its quantization, which the VNNI GEMV of TILE16_V2 also reads) and
 * two groups' residuals. */
typedef struct {
  float *rowScale;
  squant_rt_amx_int8_parts parts;
  float *residual;
} GemvAmxInt8Workspace;

static size_t gemvAmxInt8Carve(const squant_rt_qweight *w, char *base,
                               GemvAmxInt8Workspace *ws) {
  size_t groups = (size_t)(w->k / w->group_size), at = 0;
  ws->rowScale = carve(base, &at, sizeof(float));
  ws->parts.tiles = carve(base, &at, (size_t)w->k * SQUANT_RT_GEMV_AMX_PARTS);
  ws->parts.units = carve(base, &at, groups * 16 * sizeof(float));
  ws->parts.counts = carve(base, &at, groups * sizeof(int32_t));
  ws->parts.sums = NULL;
  ws->parts.qsums = carve(base, &at, groups * sizeof(int32_t));
  ws->residual = carve(base, &at, 2 * (size_t)w->group_size * sizeof(float));
  return at;
}

static size_t gemvAmxInt8Bytes(int64_t m, const squant_rt_qweight *w) {
  GemvAmxInt8Workspace ws;
  return gemvAmxInt8Takes(m, w)
             ? xsumBytes(m, w) + 64 + gemvAmxInt8Carve(w, NULL, &ws)
             : 0;
}

/* The AMX-INT8 path's workspace bytes (0 where it does not run). */
static size_t amxInt8Bytes(int64_t m, const squant_rt_qweight *w) {
  AmxInt8Workspace ws;
  return amxInt8Takes(m, w) ? 64 + amxInt8Carve(m, w, NULL, &ws) : 0;
}

size_t squant_rt_qgemm_workspace_size(int64_t m, const squant_rt_qweight *w) {
  if (!w || m < 0 || w->group_size <= 0 || w->k < 0)
    return 0;
  /* M > 8: X^T and, for a call without a pool, the GEMM's scratch after
   * it; 2 <= M <= 8: the small-M path's scratch. */
  size_t xt = m > 8   ? (size_t)xtRows(m) * (size_t)w->k * sizeof(float) + SQUANT_RT_GEMM_SCRATCH
              : m > 1 ? SQUANT_RT_SMALL_SCRATCH
                      : 0;
  size_t int8 = m == 1 && w->form == SQUANT_RT_FORM_FMA && int8Bits(w->bits)
                    ? int8Bytes(m, w)
                    : 0;
  size_t tables = m == 1 ? squant_rt_gemv_tables_bytes(w) : 0;
  size_t xorder =
      m == 1 && squant_rt_gemv_x_ordered(w) ? (size_t)w->k * sizeof(float) : 0;
  /* At most one of these is used by a call. */
  size_t extra = xt > int8 ? xt : int8;
  extra = tables > extra ? tables : extra;
  extra = xorder > extra ? xorder : extra;
  size_t vector = xsumBytes(m, w) + extra + (extra ? 64 : 0);
  size_t amx = amxBytes(m, w, 3), int8Amx = amxInt8Bytes(m, w);
  size_t gemvAmx = gemvAmxInt8Bytes(m, w), folded = amxFoldedBytes(m, w);
  amx = int8Amx > amx ? int8Amx : amx;
  amx = folded > amx ? folded : amx;
  amx = gemvAmx > amx ? gemvAmx : amx;
  return amx > vector ? amx : vector;
}

/* Quantizes x (one row) per group to int8, the int8-activation mode's
 * numerics (squant_rt.h; squant_rt_gemv_amx_int8_quantize is the AMX-INT8
 * GEMV's), each 64 columns in the VNNI kernel's register order: group g's
 * scale at scale[g], its sum of int8 values at sum[g], and the sum of its
 * quantized x (the scale times that sum, which the bias multiplies) at
 * xsum[g]. x is finite (the caller's check). */
static void quantizeActivations(const float *x, const squant_rt_qweight *w,
                                int8_t *xq, float *scale, int32_t *sum,
                                float *xsum) {
  int64_t gs = w->group_size, groups = w->k / gs;
  int32_t columns[64]; /* the kernel's byte order: lane -> column */
  for (int32_t lane = 0; lane < 64; ++lane)
    columns[lane] = squant_rt_vnni_code(w->bits, lane);
  for (int64_t g = 0; g < groups; ++g) {
    const float *xg = x + g * gs;
    float amax = 0.0f;
    for (int64_t i = 0; i < gs; ++i) {
      float a = __builtin_fabsf(xg[i]);
      amax = a > amax ? a : amax;
    }
    float s = squant_rt_int8_scale(amax);
    scale[g] = s;
    int32_t total = 0;
    for (int64_t c = 0; c < gs; c += 64)
      for (int32_t lane = 0; lane < 64; ++lane) {
        float v = __builtin_nearbyintf(xg[c + columns[lane]] / s);
        v = v > 127.0f ? 127.0f : v < -127.0f ? -127.0f : v;
        xq[g * gs + c + lane] = (int8_t)v;
        total += (int32_t)v;
      }
    sum[g] = total;
    /* The int sum converts exactly (|total| <= 127 * 65536 < 2^24), the
     * product rounds once. */
    xsum[g] = s * (float)total;
  }
}

/* Whether x[0 .. k) holds no NaN and no infinity. */
static int allFinite(const float *x, int64_t k) {
  for (int64_t i = 0; i < k; ++i)
    if (!(__builtin_fabsf(x[i]) <= FLT_MAX))
      return 0;
  return 1;
}

/* The value of each index, replicated to 16 entries (SIMD lookups read
 * only the low four bits of an index); 8-bit codes are converted, not
 * looked up. */
static void fillValues(const squant_rt_qweight *w, float values[16]) {
  int32_t entries = w->bits <= 4 ? 1 << w->bits : 0;
  for (int32_t j = 0; entries > 0 && j < 16; ++j) {
    int32_t i = j % entries;
    if (w->form == SQUANT_RT_FORM_FMA)
      values[j] = (float)(w->is_signed && i >= entries / 2 ? i - entries : i);
    else if (w->form == SQUANT_RT_FORM_LUT_INT8)
      values[j] = (float)w->table[i];
    else
      values[j] = w->ftable[i];
  }
}

typedef struct {
  squant_rt_qgemm_params params;
  void (*kernel)(const squant_rt_qgemm_params *);
  squant_rt_pool *pool;
} ParallelCall;

/* A call over all of w's rows, with its pool; the caller fills the rest. */
static void initCall(ParallelCall *call, const squant_rt_options *options,
                     const squant_rt_qweight *w, int64_t m, float *y,
                     int64_t y_stride) {
  memset(call, 0, sizeof(*call));
  call->pool = options ? options->pool : NULL;
  call->params.m = m;
  call->params.w = w;
  call->params.y = y;
  call->params.y_stride = y_stride;
  call->params.n_begin = 0;
  call->params.n_end = w->n;
}

/* Splits output rows into equal chunks of whole 16-row tiles: each output
 * is computed by one thread with the same arithmetic, whatever the count. */
static void runSlice(void *opaque, int32_t index, int32_t count) {
  ParallelCall *call = (ParallelCall *)opaque;
  squant_rt_qgemm_params p = call->params;
  int64_t tiles = (p.n_end + 15) / 16;
  int64_t begin = tiles * index / count * 16, end = tiles * (index + 1) / count * 16;
  p.n_begin = begin < p.n_end ? begin : p.n_end;
  p.n_end = end < p.n_end ? end : p.n_end;
  if (call->pool)
    p.scratch = squant_rt_pool_scratch(call->pool, index);
  if (p.n_begin < p.n_end)
    call->kernel(&p);
}

/* The checks both entry points make of the weight, x, y and the flags. */
static squant_rt_status validateCall(const void *x, int64_t m, int64_t x_stride,
                                     const squant_rt_qweight *w, const float *y,
                                     int64_t y_stride,
                                     const squant_rt_options *options) {
  squant_rt_status status = validateWeight(w);
  if (status != SQUANT_RT_OK)
    return status;
  if (m < 0 || (m > 0 && (!x || !y)) || x_stride < w->k || y_stride < w->n)
    return SQUANT_RT_INVALID_ARGUMENT;
  if (options && (options->flags & ~SQUANT_RT_FLAG_INT8_ACTIVATIONS))
    return SQUANT_RT_INVALID_ARGUMENT;
  return SQUANT_RT_OK;
}

/* The sum of each group of one row of x, in k order. */
static void groupSums(const float *x, const squant_rt_qweight *w, float *xsum) {
  for (int64_t g = 0; g < w->k / w->group_size; ++g) {
    float s = 0.0f;
    for (int64_t i = 0; i < w->group_size; ++i)
      s += x[g * w->group_size + i];
    xsum[g] = s;
  }
}

/* Runs the AMX-BF16 kernel on src over the workspace amxBytes sized, or
 * the folded one (gemm_amx_folded.c) over amxFoldedBytes. */
static void runAmx(ParallelCall *call, const squant_rt_amx_source *src,
                   void *workspace) {
  squant_rt_qgemm_params *p = &call->params;
  const squant_rt_qweight *w = p->w;
  p->amx_parts = src->parts;
  p->row_scale = src->row_scale;
  p->m_pad = src->folded ? squant_rt_amx_whole_rows(src->m, src->parts)
                         : squant_rt_amx_rows(src->m, src->parts);
  char *next = (char *)workspace;
  uint16_t *xb = (uint16_t *)next;
  squant_rt_amx_pack_activations(src, w, p->m_pad, xb);
  p->xb = xb;
  next += align64((size_t)p->m_pad * (size_t)w->k * sizeof(uint16_t));
  /* The folded kernel takes no group sums (the bias is in its weights). */
  if (!src->folded && w->form == SQUANT_RT_FORM_FMA) {
    float *xsumT = (float *)next;
    squant_rt_amx_group_sums(src, w, p->m_pad, xsumT);
    p->xsum_t = xsumT;
    next += align64((size_t)(w->k / w->group_size) * (size_t)p->m_pad *
                    sizeof(float));
  }
  p->scratch = (float *)next;
  fillValues(w, p->values);
  call->kernel =
      src->folded ? squant_rt_qgemm_folded_amx : squant_rt_qgemm_bf16_amx;
  squant_rt_pool_run(call->pool, runSlice, call);
}

/* Runs the AMX-INT8 kernel over the workspace amxInt8Bytes sized; 0 (and
 * nothing written to y) where x does not split into its parts. */
static int runAmxInt8(const float *x, int64_t m, int64_t x_stride,
                      const squant_rt_qweight *w, float *y, int64_t y_stride,
                      void *workspace, const squant_rt_options *options) {
  AmxInt8Workspace ws;
  amxInt8Carve(m, w, (char *)align64Ptr(workspace), &ws);
  squant_rt_amx_row_scales(x, m, x_stride, w->k, ws.rowScale);
  if (!squant_rt_amx_int8_split(x, m, x_stride, w, ws.rowScale, ws.residual,
                                &ws.parts))
    return 0;
  ParallelCall call;
  initCall(&call, options, w, m, y, y_stride);
  squant_rt_qgemm_params *p = &call.params;
  p->row_scale = ws.rowScale;
  p->xparts = ws.parts;
  p->scratch = ws.scratch;
  call.kernel = squant_rt_qgemm_int8_amx;
  squant_rt_pool_run(call.pool, runSlice, &call);
  return 1;
}

/* What a TILE16_V2 GEMV's x becomes and which kernel reads it. */
typedef enum {
  GEMV_SPLIT_AMX, /* fp32 x in int8 parts, AMX-INT8 */
  GEMV_INT8_AMX,  /* the int8-activation mode on AMX-INT8 */
  GEMV_INT8_VNNI, /* the int8-activation mode on AVX-512 VNNI */
} GemvTile16Mode;

typedef struct {
  ParallelCall call;
  const float *x;
  float *xsum, *residual; /* thread 0's */
  GemvTile16Mode mode;
  int32_t failed;
} GemvAmxCall;

/* x's parts (and the FMA form's group sums, where xsum is not NULL): in the
 * int8-activation mode its int8 quantization, one part per group (in the
 * AMX GEMV's A tiles, or k bytes in a row for the VNNI GEMV), else its
 * split. Returns the parts' tile rows, 0 where x has no parts (a NaN or an
 * infinity). */
static int32_t makeParts(const GemvAmxCall *s, const squant_rt_qgemm_params *p,
                         float *residual, const squant_rt_amx_int8_parts *parts,
                         float *xsum) {
  if (s->mode != GEMV_SPLIT_AMX)
    return squant_rt_gemv_amx_int8_quantize(
        s->x, p->w,
        squant_rt_gemv_amx_quad_k(p->w->group_size) *
            (s->mode == GEMV_INT8_VNNI ? 1 : 16),
        parts, xsum);
  return squant_rt_gemv_amx_int8_split(s->x, p->w, p->row_scale[0], residual,
                                       parts, xsum);
}

/* Whether a pool thread's scratch holds w's x's parts. */
static int partsFitScratch(const squant_rt_qweight *w) {
  GemvAmxInt8Workspace ws;
  return align64(xsumBytes(1, w)) + gemvAmxInt8Carve(w, NULL, &ws) <=
         SQUANT_RT_POOL_SCRATCH;
}

/* A pooled TILE16_V2 GEMV's thread: on a pool, each thread makes all of x's
 * parts itself (thread 0 in the workspace, the others in their pool scratch)
 * and runs the kernel on its rows: making them again costs less than reading
 * parts another core made. With each thread splitting its share of the
 * groups, waiting for the others and reading their parts from their caches
 * (session 23), two threads took 7.4 us hot for 64 rows at K = 4096 and
 * 32.4 us for 256 rows at K = 11008, against 6.7 and 29.9 so; cold,
 * 1024 x 11008 read 33.3 -> 34.7 GB/s, and the benchmark's four int4
 * shapes 0.875 -> 0.894 of the probe (means of five alternated runs;
 * session 24, two cores). Each thread's parts are the same bytes, so the
 * threads agree on the part count and on whether x has parts at all. */
static void partsThenRun(void *opaque, int32_t index, int32_t count) {
  GemvAmxCall *s = (GemvAmxCall *)opaque;
  ParallelCall mine = s->call;
  squant_rt_qgemm_params *p = &mine.params;
  float *xsum = s->xsum, *residual = s->residual;
  if (index > 0) {
    GemvAmxInt8Workspace ws;
    char *base = (char *)squant_rt_pool_scratch(s->call.pool, index);
    gemvAmxInt8Carve(p->w, base + align64(xsumBytes(1, p->w)), &ws);
    xsum = s->xsum ? (float *)base : NULL;
    residual = ws.residual;
    p->xparts = ws.parts;
    p->xsum = xsum;
  }
  p->xpart_rows = makeParts(s, p, residual, &p->xparts, xsum);
  if (p->xpart_rows == 0) {
    __atomic_store_n(&s->failed, 1, __ATOMIC_RELAXED);
    return;
  }
  runSlice(&mine, index, count);
}

/* Runs the GEMV of TILE16_V2 that mode names over the workspace
 * gemvAmxInt8Bytes sized; 0 (nothing written to y) where x has no parts.
 * In the int8-activation modes (SQUANT_RT_FLAG_INT8_ACTIVATIONS), x's one
 * part per group is its int8 quantization, its unit the group's scale. */
static int runGemvAmxInt8(const float *x, const squant_rt_qweight *w, float *y,
                          int64_t y_stride, void *workspace,
                          const squant_rt_options *options,
                          GemvTile16Mode mode) {
  GemvAmxInt8Workspace ws;
  gemvAmxInt8Carve(w, (char *)align64Ptr((char *)workspace + xsumBytes(1, w)),
                   &ws);
  float *xsum = w->form == SQUANT_RT_FORM_FMA ? (float *)workspace : NULL;
  GemvAmxCall s;
  memset(&s, 0, sizeof(s));
  initCall(&s.call, options, w, 1, y, y_stride);
  squant_rt_qgemm_params *p = &s.call.params;
  p->xsum = xsum;
  p->row_scale = ws.rowScale;
  p->xparts = ws.parts;
  s.call.kernel = mode == GEMV_INT8_VNNI ? squant_rt_gemv_int8_vnni_tile16
                                         : squant_rt_gemv_int8_amx;
  s.x = x;
  s.xsum = xsum;
  s.residual = ws.residual;
  s.mode = mode;
  /* The FMA form's group sums of x come with the parts' pass over x. */
  if (mode != GEMV_SPLIT_AMX)
    ws.rowScale[0] = 1.0f;
  else
    squant_rt_amx_row_scales(x, 1, w->k, w->k, ws.rowScale);
  if (squant_rt_pool_threads(s.call.pool) > 1 && partsFitScratch(w)) {
    squant_rt_pool_run(s.call.pool, partsThenRun, &s);
    return !s.failed;
  }
  p->xpart_rows = makeParts(&s, p, ws.residual, &ws.parts, xsum);
  if (p->xpart_rows == 0)
    return 0;
  squant_rt_pool_run(s.call.pool, runSlice, &s.call);
  return 1;
}

squant_rt_status squant_rt_qgemm(const float *x, int64_t m, int64_t x_stride,
                                 const squant_rt_qweight *w, float *y,
                                 int64_t y_stride, void *workspace,
                                 size_t workspace_size,
                                 const squant_rt_options *options) {
  squant_rt_status status =
      validateCall(x, m, x_stride, w, y, y_stride, options);
  if (status != SQUANT_RT_OK)
    return status;
  squant_rt_isa isa = options ? (squant_rt_isa)options->isa : SQUANT_RT_ISA_AUTO;
  uint32_t flags = options ? options->flags : 0u;
  size_t need = squant_rt_qgemm_workspace_size(m, w);
  if (need > 0 && (!workspace || workspace_size < need))
    return SQUANT_RT_BUFFER_TOO_SMALL;
  int int8Mode = (flags & SQUANT_RT_FLAG_INT8_ACTIVATIONS) != 0;
  /* The int8-activation mode: the VNNI kernels read BLOCK32_V1 and 2-, 3-,
   * 4- and 8-bit TILE16_V2, the AMX-INT8 GEMV TILE16_V2 (ISA AMX). */
  int int8Tiled = w->layout == SQUANT_RT_LAYOUT_TILE16_V2;
  GemvTile16Mode int8TiledMode = GEMV_INT8_VNNI;
  if (int8Mode) {
    if (w->form != SQUANT_RT_FORM_FMA ||
        !(int8Tiled ? gemvAmxInt8Takes(m, w)
                    : w->layout == SQUANT_RT_LAYOUT_BLOCK32_V1 &&
                          int8Bits(w->bits) && w->group_size % 64 == 0) ||
        m > 1 ||
        !(isa == SQUANT_RT_ISA_AUTO || isa == SQUANT_RT_ISA_AMX ||
          isa == SQUANT_RT_ISA_AVX512))
      return SQUANT_RT_UNSUPPORTED;
    /* AUTO: the VNNI GEMV for 2-bit codes, else AMX-INT8 where the CPU has
     * it. With the weights in L2 the VNNI GEMV is 1.5-1.7x as fast at 2,
     * 3 and 4 bits, but cold (docs/Performance.md, session 26) it reads 2-6 %
     * more than the AMX GEMV at 2 bits, as much at 3 and 8 bits, and 1-5 %
     * less at 4 bits. In half quads (groups of odd multiples of 32) it takes
     * 6-11 % less time at 4 bits too (session 33), so it runs those. */
    int vnniFirst =
        w->bits == 2 ||
        (w->bits == 4 && squant_rt_gemv_amx_half_quads(w->group_size));
    if (int8Tiled && (isa == SQUANT_RT_ISA_AMX ||
                      (isa == SQUANT_RT_ISA_AUTO &&
                       squant_rt_isa_available(SQUANT_RT_ISA_AMX) &&
                       !(vnniFirst && vnniTile16Available()))))
      int8TiledMode = GEMV_INT8_AMX;
    int available = !int8Tiled ? vnniAvailable(w->bits == 3, 0)
                    : int8TiledMode == GEMV_INT8_AMX
                        ? squant_rt_isa_available(SQUANT_RT_ISA_AMX)
                        : vnniTile16Available();
    if (!available)
      return SQUANT_RT_ISA_UNAVAILABLE;
  }
  if (isa < SQUANT_RT_ISA_AUTO || isa > SQUANT_RT_ISA_AMX)
    return SQUANT_RT_INVALID_ARGUMENT;
  if (!squant_rt_isa_available(isa))
    return SQUANT_RT_ISA_UNAVAILABLE;
  if (m == 0 || w->n == 0)
    return SQUANT_RT_OK;
  /* A NaN or an infinity in x: the exact path carries it (converting a
   * NaN to int8 is undefined behaviour); the AMX-INT8 GEMV's quantization
   * looks for them itself. */
  if (int8Mode && int8Tiled) {
    if (runGemvAmxInt8(x, w, y, y_stride, workspace, options, int8TiledMode))
      return SQUANT_RT_OK;
    int8Mode = 0, flags = 0;
  }
  if (int8Mode && !allFinite(x, w->k))
    int8Mode = 0, flags = 0;
  int amx =
      flags == 0 &&
      (isa == SQUANT_RT_ISA_AMX ||
       (isa == SQUANT_RT_ISA_AUTO &&
        (amxInt8Takes(m, w) || amxFp32Pays(m, w) || amxFoldedTakes(m, w)) &&
        squant_rt_isa_available(SQUANT_RT_ISA_AMX)));
  if (amx && amxInt8Takes(m, w) &&
      runAmxInt8(x, m, x_stride, w, y, y_stride, workspace, options))
    return SQUANT_RT_OK;
  /* 2-, 3-, 4- and 8-bit TILE16_V2 GEMVs: AMX-INT8 (else, or where it is
   * faster unforced, the table GEMV for 2 and 3 bits, the portable kernel
   * for the others). */
  if (flags == 0 && gemvAmxInt8Takes(m, w) &&
      (isa == SQUANT_RT_ISA_AMX ||
       (isa == SQUANT_RT_ISA_AUTO && !tablesBeatGemvAmxInt8(w))) &&
      squant_rt_isa_available(SQUANT_RT_ISA_AMX) &&
      runGemvAmxInt8(x, w, y, y_stride, workspace, options, GEMV_SPLIT_AMX))
    return SQUANT_RT_OK;
  int folded = amx && amxFoldedTakes(m, w);
  if (folded || (amx && amxBytes(m, w, 3) > 0)) {
    /* Each row in three bf16 parts on the tiles, the rows' scales first. */
    ParallelCall call;
    initCall(&call, options, w, m, y, y_stride);
    float *rowScale = (float *)align64Ptr(workspace);
    squant_rt_amx_row_scales(x, m, x_stride, w->k, rowScale);
    squant_rt_amx_source src = {x, m, x_stride, 3, rowScale, folded};
    runAmx(&call, &src, (char *)rowScale + align64((size_t)m * sizeof(float)));
    return SQUANT_RT_OK;
  }
  /* The AVX-512 kernels run AMX's other calls (no permission asked). */
  if (isa == SQUANT_RT_ISA_AUTO)
    isa = bestVectorIsa();
  if (isa == SQUANT_RT_ISA_AMX)
    isa = SQUANT_RT_ISA_AVX512;
  int tablesGemv = m == 1 && isa == SQUANT_RT_ISA_AVX512 &&
                   squant_rt_gemv_tables_eligible(w);
  /* Of the SIMD kernels, only the table GEMV reads TILE16_V2 (its
   * parameters in place). */
  if (w->layout == SQUANT_RT_LAYOUT_TILE16_V2 && !tablesGemv)
    isa = SQUANT_RT_ISA_PORTABLE;

  ParallelCall call;
  initCall(&call, options, w, m, y, y_stride);
  squant_rt_qgemm_params *p = &call.params;
  p->x = x;
  p->x_stride = x_stride;
  int64_t groups = w->k / w->group_size;
  /* The AVX-512 and AVX2 kernels of M > 1 (the same blocking). */
  int simd = isa == SQUANT_RT_ISA_AVX512 || isa == SQUANT_RT_ISA_AVX2;
  if (m > 8 && simd) {
    /* X^T for the GEMM micro-tiles in slices of 32 activation rows
     * ([k][32] each, slice after slice), 64-byte aligned, padding rows
     * zero; without a pool, the GEMM's scratch follows it. */
    uintptr_t base = (uintptr_t)((char *)workspace + xsumBytes(m, w));
    float *xt = (float *)((base + 63) & ~(uintptr_t)63);
    if (isa == SQUANT_RT_ISA_AVX512)
      squant_rt_transpose_slices_avx512(x, m, x_stride, w->k, xt);
    else
      squant_rt_transpose_slices_avx2(x, m, x_stride, w->k, xt);
    p->xt = xt;
    p->xt_stride = SQUANT_XT_SLICE;
    p->scratch = xt + xtRows(m) * w->k;
  } else if (m > 1 && simd) {
    uintptr_t base = (uintptr_t)((char *)workspace + xsumBytes(m, w));
    p->scratch = (float *)((base + 63) & ~(uintptr_t)63);
  }
  if (w->form == SQUANT_RT_FORM_FMA && (m == 1 || !simd)) {
    /* Group sums of x, once per activation row (the b * sum x term; the
     * AVX-512 and AVX2 kernels of M > 1 multiply exact weights instead;
     * the int8-activation mode sums its quantized x below). */
    float *xsum = (float *)workspace;
    if (!int8Mode)
      for (int64_t r = 0; r < m; ++r)
        groupSums(x + r * x_stride, w, xsum + r * groups);
    p->xsum = xsum;
  }
  fillValues(w, p->values);
  if (int8Mode) {
    char *base = (char *)workspace + xsumBytes(m, w);
    int8_t *xq = (int8_t *)(((uintptr_t)base + 63) & ~(uintptr_t)63);
    float *xqScale = (float *)(xq + w->k);
    int32_t *xqSum = (int32_t *)(xqScale + groups);
    quantizeActivations(x, w, xq, xqScale, xqSum, (float *)workspace);
    p->xq = xq;
    p->xq_scale = xqScale;
    p->xq_sum = xqSum;
    call.kernel =
        w->bits == 3 ? squant_rt_gemv_int8_vnni_vbmi : squant_rt_gemv_int8_vnni;
    squant_rt_pool_run(options ? options->pool : NULL, runSlice, &call);
    return SQUANT_RT_OK;
  }
  if (tablesGemv) {
    /* GEMVs of 1- and 3-bit codes (and of TILE16 2-bit codes) read
     * activation tables built once here. */
    uintptr_t base = (uintptr_t)((char *)workspace + xsumBytes(m, w));
    float *tables = (float *)((base + 63) & ~(uintptr_t)63);
    squant_rt_gemv_tables_build_avx512(p, tables);
    p->tables = tables;
    call.kernel = squant_rt_gemv_tables_avx512;
    squant_rt_pool_run(options ? options->pool : NULL, runSlice, &call);
    return SQUANT_RT_OK;
  }
  if (m == 1 && isa == SQUANT_RT_ISA_AVX512 && squant_rt_gemv_x_ordered(w)) {
    /* The 2-bit and 4-bit GEMVs read x in their decode's lane order. */
    uintptr_t base = (uintptr_t)((char *)workspace + xsumBytes(m, w));
    float *xorder = (float *)((base + 63) & ~(uintptr_t)63);
    squant_rt_gemv_x_order_avx512(w, x, xorder);
    p->xorder = xorder;
  }
  call.kernel = isa == SQUANT_RT_ISA_AVX512 ? squant_rt_qgemm_avx512
                : isa == SQUANT_RT_ISA_AVX2 ? squant_rt_qgemm_avx2
                                            : squant_rt_qgemm_portable;
  squant_rt_pool_run(options ? options->pool : NULL, runSlice, &call);
  return SQUANT_RT_OK;
}

/* bf16 activations. */

/* x widened to fp32 (64-byte aligned), then squant_rt_qgemm's workspace. */
static size_t widenedBytes(int64_t m, const squant_rt_qweight *w) {
  return 64 + align64((size_t)m * (size_t)w->k * sizeof(float)) +
         squant_rt_qgemm_workspace_size(m, w);
}

size_t squant_rt_qgemm_bf16_workspace_size(int64_t m,
                                           const squant_rt_qweight *w) {
  if (!w || m <= 0 || w->group_size <= 0 || w->k < 0)
    return 0;
  size_t amx = amxBytes(m, w, 1), widened = widenedBytes(m, w);
  return amx > widened ? amx : widened;
}

static float bf16ToFloat(uint16_t v) {
  uint32_t bits = (uint32_t)v << 16;
  float f;
  memcpy(&f, &bits, sizeof(f));
  return f;
}

squant_rt_status squant_rt_qgemm_bf16(const uint16_t *x, int64_t m,
                                      int64_t x_stride,
                                      const squant_rt_qweight *w, float *y,
                                      int64_t y_stride, void *workspace,
                                      size_t workspace_size,
                                      const squant_rt_options *options) {
  squant_rt_status status =
      validateCall(x, m, x_stride, w, y, y_stride, options);
  if (status != SQUANT_RT_OK)
    return status;
  squant_rt_isa isa =
      options ? (squant_rt_isa)options->isa : SQUANT_RT_ISA_AUTO;
  uint32_t flags = options ? options->flags : 0u;
  if (isa < SQUANT_RT_ISA_AUTO || isa > SQUANT_RT_ISA_AMX)
    return SQUANT_RT_INVALID_ARGUMENT;
  if (!squant_rt_isa_available(isa))
    return SQUANT_RT_ISA_UNAVAILABLE;
  size_t need = squant_rt_qgemm_bf16_workspace_size(m, w);
  if (need > 0 && (!workspace || workspace_size < need))
    return SQUANT_RT_BUFFER_TOO_SMALL;
  if (m == 0 || w->n == 0)
    return SQUANT_RT_OK;
  if (isa == SQUANT_RT_ISA_AUTO)
    isa = squant_rt_best_isa();

  /* 8-bit codes up to M = 16 and 2- to 4-bit codes up to M = 8 run faster
   * widened, on AMX-INT8, than decoded to bf16 tiles (4096x4096, one
   * thread: int8 M = 9..16 2.7 -> 1.7-2.0 ms, int4 M = 8 1.63 -> 1.49 ms;
   * int8 from 17 and int4 at 16, even or slower). */
  int widenForInt8 = amxInt8Takes(m, w) && m <= (w->bits == 8 ? 16 : 8);
  if (isa == SQUANT_RT_ISA_AMX && flags == 0 && amxBytes(m, w, 1) > 0 &&
      !widenForInt8) {
    ParallelCall call;
    initCall(&call, options, w, m, y, y_stride);
    squant_rt_amx_source src = {x, m, x_stride, 1, NULL, 0};
    runAmx(&call, &src, align64Ptr(workspace));
    return SQUANT_RT_OK;
  }

  /* Everything else: x widened to fp32 (exact) and squant_rt_qgemm. */
  float *xf = (float *)align64Ptr(workspace);
  for (int64_t r = 0; r < m; ++r)
    for (int64_t c = 0; c < w->k; ++c)
      xf[r * w->k + c] = bf16ToFloat(x[r * x_stride + c]);
  char *rest = (char *)xf + align64((size_t)m * (size_t)w->k * sizeof(float));
  size_t restSize = workspace_size - (size_t)(rest - (char *)workspace);
  return squant_rt_qgemm(xf, m, w->k, w, y, y_stride, rest, restSize, options);
}
