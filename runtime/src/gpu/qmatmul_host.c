/*===- qmatmul_host.c - squant_gpu_qmatmul_run ---------------------*- C -*-===//
 *
 * Validates a problem, picks the instantiation of runtime/src/cuda/qmatmul.cu
 * by name, and launches it from the fatbin (sm_80 and sm_90 cubins plus
 * compute_90 PTX) embedded at build time. Without nvcc the library still
 * validates, then reports SQUANT_GPU_NOT_BUILT.
 *
 *===----------------------------------------------------------------------===*/

#include "cuda_driver.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#ifdef SQUANT_HAVE_CUDA_KERNELS
extern const unsigned char squant_cuda_kernels_fatbin[];
#endif

enum { kWarpsPerBlock = 4 };
/* Codes per lane step of the kernel: K must be a multiple. */
static int64_t step_codes(int bits) {
  return bits == 2 ? 64 : bits == 3 ? 128 : 32;
}

static squant_gpu_status validate(const squant_gpu_qmatmul *p) {
  if (!p || !p->x || !p->codes || !p->scales || !p->y)
    return SQUANT_GPU_INVALID_ARGUMENT;
  if (p->m < 1 || p->n < 1 || p->k < 1 || p->group_size < 1)
    return SQUANT_GPU_INVALID_ARGUMENT;
  if (p->act != SQUANT_GPU_F32 && p->act != SQUANT_GPU_F16 &&
      p->act != SQUANT_GPU_BF16)
    return SQUANT_GPU_INVALID_ARGUMENT;
  if (p->form == SQUANT_GPU_FORM_FMA) {
    if (!p->biases)
      return SQUANT_GPU_INVALID_ARGUMENT;
    if (p->bits != 2 && p->bits != 3 && p->bits != 4 && p->bits != 8)
      return SQUANT_GPU_UNSUPPORTED;
  } else if (p->form == SQUANT_GPU_FORM_LUT) {
    if (!p->table)
      return SQUANT_GPU_INVALID_ARGUMENT;
    if (p->bits != 2 && p->bits != 3 && p->bits != 4)
      return SQUANT_GPU_UNSUPPORTED;
  } else {
    return SQUANT_GPU_INVALID_ARGUMENT;
  }
  if (p->k % p->group_size != 0)
    return SQUANT_GPU_INVALID_ARGUMENT;
  if (p->group_size % 32 != 0 || p->k % step_codes(p->bits) != 0)
    return SQUANT_GPU_UNSUPPORTED;
  if (p->m > INT32_MAX || p->n > INT32_MAX || p->k > INT32_MAX ||
      p->n * (p->k / p->group_size) > INT32_MAX)
    return SQUANT_GPU_UNSUPPORTED;
  return SQUANT_GPU_OK;
}

#ifdef SQUANT_HAVE_CUDA_KERNELS
/* The instantiations of runtime/src/cuda: kind (SIMT FMA, SIMT LUT, MMA),
 * bits, tile (SIMT: 1 or 8 activation rows; MMA: 1, 2, 4 or 8 column
 * tiles) and activation type, looked up by name once with the module. */
enum { kSimtFma, kSimtLut, kMma, kKinds };
static const char *const kActNames[] = {"f32", "f16", "bf16"};
static const int kSimtRows[] = {1, 8}, kMmaTiles[] = {1, 2, 4, 8};
/* qmatmul_mma.cuh's kChunk and kMaxWarps. */
enum { kMmaChunk = 128, kMmaMaxWarps = 8 };

/* The tensor-core kernel (qmatmul_mma.cuh) takes the one-FMA form with
 * f16/bf16 activations, groups of a multiple of 128 codes and 16-byte
 * aligned x and codes; every other problem the SIMT kernel. */
static int uses_mma(const squant_gpu_qmatmul *p) {
  return p->form == SQUANT_GPU_FORM_FMA &&
         (p->act == SQUANT_GPU_F16 || p->act == SQUANT_GPU_BF16) &&
         p->group_size % kMmaChunk == 0 && (uintptr_t)p->x % 16 == 0 &&
         (uintptr_t)p->codes % 16 == 0;
}

/* The MMA kernel's column tiles (8 activation rows each) per block, as an
 * index into kMmaTiles: the fewest that hold m rows, at most 8. */
static int mma_tile(int64_t m) {
  return m <= 8 ? 0 : m <= 16 ? 1 : m <= 32 ? 2 : 3;
}

static pthread_once_t module_once = PTHREAD_ONCE_INIT;
static CUmodule module;
static squant_gpu_status module_status;
static CUfunction functions[kKinds][9][4][3];

static void kernel_name(char *name, size_t size, int kind, int bits, int tile,
                        int act) {
  if (kind == kMma)
    snprintf(name, size, "squant_qmatmul_mma_b%d_nt%d_%s", bits,
             kMmaTiles[tile], kActNames[act]);
  else
    snprintf(name, size, "squant_qmatmul_%s_b%d_mt%d_%s",
             kind == kSimtFma ? "fma" : "lut", bits, kSimtRows[tile],
             kActNames[act]);
}

static void load_module(void) {
  const squant_cuda_driver *d = squant_cuda_driver_get(&module_status);
  if (!d || (module_status = squant_cuda_check(
                 d->cuModuleLoadData(&module, squant_cuda_kernels_fatbin),
                 "cuModuleLoadData", "squant_gpu_qmatmul_run")))
    return;
  static const int widths[] = {2, 3, 4, 8};
  for (int kind = 0; kind < kKinds; ++kind)
    for (int w = 0; w < 4; ++w)
      for (int tile = 0; tile < (kind == kMma ? 4 : 2); ++tile)
        for (int act = kind == kMma ? 1 : 0; act < 3; ++act) {
          int bits = widths[w];
          if (kind == kSimtLut && bits == 8)
            continue;
          char name[64];
          kernel_name(name, sizeof name, kind, bits, tile, act);
          if ((module_status = squant_cuda_check(
                   d->cuModuleGetFunction(&functions[kind][bits][tile][act],
                                          module, name),
                   "cuModuleGetFunction", name)))
            return;
        }
}
#endif

squant_gpu_status squant_gpu_qmatmul_run(const squant_gpu_qmatmul *p,
                                         void *stream) {
  squant_gpu_status status = validate(p);
  if (status != SQUANT_GPU_OK)
    return status;
#ifndef SQUANT_HAVE_CUDA_KERNELS
  (void)stream;
  return SQUANT_GPU_NOT_BUILT;
#else
  const squant_cuda_driver *d = squant_cuda_driver_get(&status);
  if (!d)
    return status;
  pthread_once(&module_once, load_module);
  if (module_status != SQUANT_GPU_OK)
    return module_status;
  int mma = uses_mma(p);
  int kind = mma ? kMma : p->form == SQUANT_GPU_FORM_FMA ? kSimtFma : kSimtLut;
  int tile = mma ? mma_tile(p->m) : p->m > 1;
  /* Activation rows per block. */
  int mt = mma ? 8 * kMmaTiles[tile] : kSimtRows[tile];
  CUfunction function = functions[kind][p->bits][tile][p->act];
  int m = (int)p->m, n = (int)p->n, k = (int)p->k, g = (int)p->group_size;
  const void *x = p->x, *codes = p->codes, *scales = p->scales,
             *biases = p->biases, *table = p->table;
  void *y = p->y;
  void *simt_params[] = {&x, &codes, &scales, &biases, &table,
                         &y, &m,     &n,      &k,      &g};
  void *mma_params[] = {&x, &codes, &scales, &biases, &y, &m, &n, &k, &g};
  unsigned grid_y = (unsigned)((p->m + mt - 1) / mt), grid_x, warps;
  if (mma) {
    /* 16 weight rows per block; its warps split K in 128-code chunks. */
    grid_x = (unsigned)((p->n + 15) / 16);
    warps = (unsigned)(p->k / kMmaChunk < kMmaMaxWarps ? p->k / kMmaChunk
                                                       : kMmaMaxWarps);
  } else {
    grid_x = (unsigned)((p->n + kWarpsPerBlock - 1) / kWarpsPerBlock);
    warps = kWarpsPerBlock;
  }
  CUresult result =
      d->cuLaunchKernel(function, grid_x, grid_y, 1, 32, warps, 1, 0,
                        (CUstream)stream, mma ? mma_params : simt_params, NULL);
  if (result == 0)
    return SQUANT_GPU_OK;
  char name[64];
  kernel_name(name, sizeof name, kind, (int)p->bits, tile, (int)p->act);
  return squant_cuda_check(result, "cuLaunchKernel", name);
#endif
}
