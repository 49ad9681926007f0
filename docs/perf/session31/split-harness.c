/* x's split (squant_rt_gemv_amx_int8_split) of two builds, old and new,
 * alternated: ./sp K REPS NORMAL(0/1) BITS. Build: see README.md. */
#include "kernels.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
typedef int32_t (*SplitFn)(const float *, const squant_rt_qweight *, float,
                           float *, const squant_rt_amx_int8_parts *, float *);
int32_t split_old(const float *, const squant_rt_qweight *, float, float *,
                  const squant_rt_amx_int8_parts *, float *);
int32_t split_new(const float *, const squant_rt_qweight *, float, float *,
                  const squant_rt_amx_int8_parts *, float *);
static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}
static int cmpd(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}
typedef struct {
  int8_t *tiles;
  float *units, *xsum, *residual;
  int32_t *counts;
  squant_rt_amx_int8_parts p;
} Out;
static void make(Out *o, int64_t k, int64_t gs) {
  o->tiles = aligned_alloc(64, k * 16);
  memset(o->tiles, 0, k * 16);
  o->units = calloc(k / gs * 16, 4);
  o->counts = calloc(k / gs, 4);
  o->xsum = calloc(k / gs, 4);
  o->residual = aligned_alloc(64, 4 * gs * 5 + 64);
  memset(&o->p, 0, sizeof(o->p));
  o->p.tiles = o->tiles;
  o->p.units = o->units;
  o->p.counts = o->counts;
}
int main(int argc, char **argv) {
  int64_t k = argc > 1 ? atol(argv[1]) : 4096, gs = 128;
  int reps = argc > 2 ? atoi(argv[2]) : 2000;
  int normal = argc > 3 ? atoi(argv[3]) : 0;
  float *x = aligned_alloc(64, k * 4);
  srand(1);
  for (int64_t i = 0; i < k; ++i) {
    if (normal) {
      double u = (rand() + 1.0) / (RAND_MAX + 2.0), v = rand() / (RAND_MAX + 1.0);
      x[i] = (float)(sqrt(-2 * log(u)) * cos(6.283185307 * v));
    } else
      x[i] = (float)((i * 2654435761u) % 1000) / 1000.0f - 0.5f;
  }
  squant_rt_qweight w;
  memset(&w, 0, sizeof(w));
  w.bits = argc > 4 ? atoi(argv[4]) : 4;
  w.k = k;
  w.group_size = gs;
  w.n = 16;
  Out a, b;
  make(&a, k, gs);
  make(&b, k, gs);
  int32_t ra = split_old(x, &w, 1.0f, a.residual, &a.p, a.xsum);
  int32_t rb = split_new(x, &w, 1.0f, b.residual, &b.p, b.xsum);
  int same = ra == rb && !memcmp(a.counts, b.counts, k / gs * 4) &&
             !memcmp(a.units, b.units, k / gs * 64) &&
             !memcmp(a.xsum, b.xsum, k / gs * 4);
  for (int64_t g = 0; same && g < k / gs; ++g)
    for (int64_t c = 0; c < gs / 64; ++c)
      same &= !memcmp(a.tiles + (g * gs / 64 + c) * 1024,
                      b.tiles + (g * gs / 64 + c) * 1024, a.counts[g] * 64);
  printf("k %lld most %d/%d parts(g0) %d identical %d\n", (long long)k, ra, rb,
         a.counts[0], same);
  double *t[2];
  t[0] = malloc(reps * 8);
  t[1] = malloc(reps * 8);
  SplitFn f[2] = {split_old, split_new};
  Out *o[2] = {&a, &b};
  for (int r = 0; r < reps; ++r)
    for (int j = 0; j < 2; ++j) {
      double t0 = now();
      f[j](x, &w, 1.0f, o[j]->residual, &o[j]->p, o[j]->xsum);
      t[j][r] = now() - t0;
    }
  qsort(t[0], reps, 8, cmpd);
  qsort(t[1], reps, 8, cmpd);
  printf("old %.2f us  new %.2f us  new/old %.3f\n", t[0][reps / 2] * 1e6,
         t[1][reps / 2] * 1e6, t[1][reps / 2] / t[0][reps / 2]);
  return 0;
}
