/*===- check.c - squant-gpu-check: GPU results against a CPU reference ---===*
 *
 * Runs, on device 0, the functions of kernels.mlir (compiled by
 * squant-lower-to-nvvm) and the hand-written kernels of libsquant_gpu on
 * the same problems, fresh random inputs from a seed, outputs poisoned
 * with NaN first, and compares every output with a CPU reference of the
 * same numerics: w = fma(q, s, b) (FMA form) or w = table[q]·s (LUT form,
 * an f32 table per tensor) in f32, x from its f16/bf16/f32 value, the sum
 * in f64, within
 *   K · 2^-22 · Σ_k |x_k| (|q_k s| + |b|)      (D8 with the factorized term;
 *                                               |table[q_k] s| for LUTs)
 * plus half an ulp of the output type. Exit 0: all agree; 1: a mismatch;
 * 77: no usable GPU (the reason printed).
 *
 *===--------------------------------------------------------------------===*/

#include "squant/runtime/squant_gpu.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  void *allocated, *aligned;
  int64_t offset, sizes[2], strides[2];
} Memref2;

typedef struct {
  void *allocated, *aligned;
  int64_t offset, sizes[1], strides[1];
} Memref1;

/* kernels.mlir's functions: (y, x, packed codes, scales, biases) for the
 * FMA form, (y, x, packed codes, scales, table) for the LUT form. */
typedef void (*FmaEntry)(Memref2 *, Memref2 *, Memref2 *, Memref2 *, Memref2 *);
typedef void (*LutEntry)(Memref2 *, Memref2 *, Memref2 *, Memref2 *, Memref1 *);
#define FMA_CASE(name) void _mlir_ciface_##name(Memref2 *, Memref2 *, Memref2 *, Memref2 *, Memref2 *);
#define LUT_CASE(name) void _mlir_ciface_##name(Memref2 *, Memref2 *, Memref2 *, Memref2 *, Memref1 *);
FMA_CASE(int4_f16_m1)
FMA_CASE(int4_f16_m16)
FMA_CASE(int2_f32_m11)
FMA_CASE(int3_bf16_m2)
FMA_CASE(int3_bf16_m3_g128)
FMA_CASE(int8_bf16_m1)
LUT_CASE(lut4_f32_m1)
LUT_CASE(lut2_f32_m5)
LUT_CASE(lut3_f32_m1)

typedef struct {
  const char *name;
  squant_gpu_form form;
  FmaEntry fma;
  LutEntry lut;
  squant_gpu_dtype act;
  int bits;
  int64_t m, n, k, g;
} Case;

static uint64_t rng = 0x5eed;
static double uniform(void) {
  rng = rng * 6364136223846793005ull + 1442695040888963407ull;
  return (double)(rng >> 11) / 9007199254740992.0;
}

/* bf16 <-> f32 by bits (round to nearest even; no libgcc/compiler-rt). */
static uint16_t bf16_from(float v) {
  uint32_t u;
  memcpy(&u, &v, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u)
    return (uint16_t)((u >> 16) | 0x40);
  return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1)) >> 16);
}
static float bf16_to(uint16_t h) {
  uint32_t u = (uint32_t)h << 16;
  float v;
  memcpy(&v, &u, 4);
  return v;
}

static size_t act_size(squant_gpu_dtype t) { return t == SQUANT_GPU_F32 ? 4 : 2; }
static float act_get(const void *p, squant_gpu_dtype t, int64_t i) {
  if (t == SQUANT_GPU_F32) return ((const float *)p)[i];
  if (t == SQUANT_GPU_F16) return (float)((const _Float16 *)p)[i];
  return bf16_to(((const uint16_t *)p)[i]);
}
static void act_set(void *p, squant_gpu_dtype t, int64_t i, float v) {
  if (t == SQUANT_GPU_F32) ((float *)p)[i] = v;
  else if (t == SQUANT_GPU_F16) ((_Float16 *)p)[i] = (_Float16)v;
  else ((uint16_t *)p)[i] = bf16_from(v);
}
static double half_ulp(squant_gpu_dtype t, double v) {
  int e;
  frexp(v, &e);
  int mant = t == SQUANT_GPU_F32 ? 24 : t == SQUANT_GPU_F16 ? 11 : 8;
  return ldexp(1.0, e - mant - 1) + (t == SQUANT_GPU_F16 ? ldexp(1.0, -25) : 0);
}

static void *device_copy(const void *host, size_t bytes) {
  void *d = NULL;
  if (squant_gpu_malloc(&d, bytes) != SQUANT_GPU_OK ||
      squant_gpu_memcpy(d, host, bytes) != SQUANT_GPU_OK) {
    fprintf(stderr, "squant-gpu-check: device allocation failed: %s\n",
            squant_gpu_take_error());
    exit(1);
  }
  return d;
}

static Memref2 memref(void *p, int64_t rows, int64_t cols) {
  Memref2 m = {p, p, 0, {rows, cols}, {cols, 1}};
  return m;
}

/* Compares y (host copy, act type) with the reference; prints a line. */
static int compare(const Case *c, const char *who, const void *y,
                   const double *ref, const double *bound) {
  double worst = 0;
  int64_t bad = 0;
  for (int64_t i = 0; i < c->m * c->n; ++i) {
    double v = act_get(y, c->act, i);
    double err = fabs(v - ref[i]);
    double tol = bound[i] + half_ulp(c->act, ref[i]);
    if (!(err <= tol)) ++bad;
    if (err / (tol > 0 ? tol : 1) > worst) worst = err / (tol > 0 ? tol : 1);
  }
  printf("%-20s %-12s %s (worst error / bound = %.3g, %lld of %lld outside)\n",
         c->name, who, bad ? "FAIL" : "ok", worst, (long long)bad,
         (long long)(c->m * c->n));
  return bad != 0;
}

static int run_case(const Case *c) {
  int64_t rowBytes = c->k * c->bits / 8, groups = c->k / c->g;
  size_t xBytes = (size_t)(c->m * c->k) * act_size(c->act);
  size_t yBytes = (size_t)(c->m * c->n) * act_size(c->act);
  void *x = malloc(xBytes), *y = malloc(yBytes), *poison = malloc(yBytes);
  uint8_t *codes = calloc((size_t)(c->n * rowBytes), 1);
  uint8_t *q = malloc((size_t)(c->n * c->k));
  float *s = malloc(sizeof(float) * (size_t)(c->n * groups));
  float *b = malloc(sizeof(float) * (size_t)(c->n * groups));
  float table[16];
  int lut = c->form == SQUANT_GPU_FORM_LUT;
  double *ref = malloc(sizeof(double) * (size_t)(c->m * c->n));
  double *bound = malloc(sizeof(double) * (size_t)(c->m * c->n));
  memset(poison, 0xff, yBytes); /* NaN in every format */

  for (int64_t i = 0; i < c->m * c->k; ++i)
    act_set(x, c->act, i, (float)(2 * uniform() - 1));
  for (int64_t i = 0; i < c->n * groups; ++i) {
    s[i] = (float)(0.01 + 0.09 * uniform());
    b[i] = (float)(uniform() - 0.5);
  }
  for (int i = 0; i < 16; ++i)
    table[i] = (float)(4 * uniform() - 2);
  for (int64_t n = 0; n < c->n; ++n)
    for (int64_t k = 0; k < c->k; ++k) {
      uint8_t v = (uint8_t)(uniform() * (1 << c->bits));
      q[n * c->k + k] = v;
      int64_t bit = k * c->bits;
      uint32_t field = (uint32_t)v << (bit % 8);
      codes[n * rowBytes + bit / 8] |= (uint8_t)field;
      if (bit % 8 + c->bits > 8)
        codes[n * rowBytes + bit / 8 + 1] |= (uint8_t)(field >> 8);
    }
  for (int64_t m = 0; m < c->m; ++m)
    for (int64_t n = 0; n < c->n; ++n) {
      double sum = 0, mag = 0;
      for (int64_t k = 0; k < c->k; ++k) {
        int64_t g = n * groups + k / c->g;
        uint8_t qk = q[n * c->k + k];
        float w = lut ? table[qk] * s[g] : fmaf((float)qk, s[g], b[g]);
        double xv = act_get(x, c->act, m * c->k + k);
        sum += xv * w;
        mag += fabs(xv) * (lut ? fabs((double)w)
                               : fabs((double)qk * s[g]) + fabs(b[g]));
      }
      ref[m * c->n + n] = sum;
      bound[m * c->n + n] = (double)c->k * ldexp(1.0, -22) * mag;
    }

  void *dx = device_copy(x, xBytes), *dcodes = device_copy(codes, (size_t)(c->n * rowBytes));
  void *ds = device_copy(s, sizeof(float) * (size_t)(c->n * groups));
  void *db = device_copy(b, sizeof(float) * (size_t)(c->n * groups));
  void *dt = device_copy(table, sizeof table);
  int failures = 0;

  /* Generated code (cases without a kernels.mlir function check only the
   * hand-written kernel). */
  Memref2 mx = memref(dx, c->m, c->k), mp = memref(dcodes, c->n, rowBytes),
          ms = memref(ds, c->n, groups), mb = memref(db, c->n, groups), my;
  Memref1 mt = {dt, dt, 0, {1 << c->bits}, {1}};
  if (c->fma || c->lut) {
    if (lut)
      c->lut(&my, &mx, &mp, &ms, &mt);
    else
      c->fma(&my, &mx, &mp, &ms, &mb);
    const char *error = squant_gpu_take_error();
    if (error) {
      printf("%-20s %-12s FAIL (%s)\n", c->name, "generated", error);
      failures++;
    } else {
      squant_gpu_memcpy(y, my.aligned, yBytes);
      failures += compare(c, "generated", y, ref, bound);
    }
    squant_gpu_free(my.allocated);
  }

  /* Hand-written kernel. */
  void *dy = device_copy(poison, yBytes);
  squant_gpu_qmatmul problem = {c->form, c->bits, c->m, c->n, c->k, c->g,
                                c->act, dx, dcodes, ds, lut ? NULL : db,
                                lut ? dt : NULL, dy};
  squant_gpu_status status = squant_gpu_qmatmul_run(&problem, NULL);
  if (status == SQUANT_GPU_OK)
    status = squant_gpu_synchronize();
  if (status != SQUANT_GPU_OK) {
    printf("%-20s %-12s FAIL (%s)\n", c->name, "hand-written",
           squant_gpu_status_string(status));
    failures++;
  } else {
    squant_gpu_memcpy(y, dy, yBytes);
    failures += compare(c, "hand-written", y, ref, bound);
  }
  squant_gpu_free(dy);
  squant_gpu_free(dx);
  squant_gpu_free(dcodes);
  squant_gpu_free(ds);
  squant_gpu_free(db);
  squant_gpu_free(dt);
  free(x); free(y); free(poison); free(codes); free(q); free(s); free(b);
  free(ref); free(bound);
  return failures;
}

int main(int argc, char **argv) {
  if (argc > 1)
    rng = strtoull(argv[1], NULL, 0);
  squant_gpu_status status = squant_gpu_init();
  if (status != SQUANT_GPU_OK) {
    const char *why = squant_gpu_take_error();
    printf("squant-gpu-check: UNAVAILABLE: %s%s%s\n",
           squant_gpu_status_string(status), why ? ": " : "", why ? why : "");
    return 77;
  }
  char name[256];
  int major = 0, minor = 0;
  squant_gpu_device_info(name, sizeof name, &major, &minor);
  printf("squant-gpu-check: %s (sm_%d%d), seed %llu\n", name, major, minor,
         (unsigned long long)rng);
#define FMA(name, act, bits, m, n, k, g) \
  {#name, SQUANT_GPU_FORM_FMA, _mlir_ciface_##name, NULL, act, bits, m, n, k, g}
#define LUT(name, act, bits, m, n, k, g) \
  {#name, SQUANT_GPU_FORM_LUT, NULL, _mlir_ciface_##name, act, bits, m, n, k, g}
#define HAND(name, act, bits, m, n, k, g) \
  {#name, SQUANT_GPU_FORM_FMA, NULL, NULL, act, bits, m, n, k, g}
  const Case cases[] = {
      FMA(int4_f16_m1, SQUANT_GPU_F16, 4, 1, 37, 512, 128),
      FMA(int4_f16_m16, SQUANT_GPU_F16, 4, 16, 37, 4096, 128),
      FMA(int2_f32_m11, SQUANT_GPU_F32, 2, 11, 13, 256, 64),
      FMA(int3_bf16_m2, SQUANT_GPU_BF16, 3, 2, 13, 256, 32),
      FMA(int3_bf16_m3_g128, SQUANT_GPU_BF16, 3, 3, 21, 8192, 128),
      FMA(int8_bf16_m1, SQUANT_GPU_BF16, 8, 1, 7, 256, 32),
      /* The tensor-core kernel (f16/bf16, groups of 128k): every width,
       * column-tile count (M 1..8, 9..16, 17..32, 33..64, > 64), ragged N,
       * one warp (K = 128) to uneven K splits (K = 1536: 12 chunks over 8
       * warps), groups of 256 and 384. Hand-written only. */
      HAND(mma_int4_f16_m1_k128, SQUANT_GPU_F16, 4, 1, 5, 128, 128),
      HAND(mma_int4_f16_m9, SQUANT_GPU_F16, 4, 9, 100, 2048, 256),
      HAND(mma_int4_bf16_m40, SQUANT_GPU_BF16, 4, 40, 33, 512, 128),
      HAND(mma_int2_f16_m3, SQUANT_GPU_F16, 2, 3, 50, 1536, 128),
      HAND(mma_int2_bf16_m16, SQUANT_GPU_BF16, 2, 16, 17, 256, 128),
      HAND(mma_int3_f16_m5, SQUANT_GPU_F16, 3, 5, 29, 1152, 384),
      HAND(mma_int3_bf16_m20, SQUANT_GPU_BF16, 3, 20, 16, 4096, 128),
      HAND(mma_int8_f16_m64, SQUANT_GPU_F16, 8, 64, 23, 640, 128),
      HAND(mma_int8_bf16_m70, SQUANT_GPU_BF16, 8, 70, 31, 384, 128),
      LUT(lut4_f32_m1, SQUANT_GPU_F32, 4, 1, 37, 512, 128),
      LUT(lut2_f32_m5, SQUANT_GPU_F32, 2, 5, 13, 256, 64),
      LUT(lut3_f32_m1, SQUANT_GPU_F32, 3, 1, 9, 384, 128),
  };
  int failures = 0;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i)
    failures += run_case(&cases[i]);
  printf("squant-gpu-check: %s\n", failures ? "FAILED" : "all ok");
  return failures ? 1 : 0;
}
