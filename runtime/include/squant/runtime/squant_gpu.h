/*===- squant_gpu.h - squant's CUDA launcher and GPU kernels -------*- C -*-===//
 *
 * libsquant_gpu: the host side of squant's GPU path. It needs only the CUDA
 * driver (libcuda.so.1, opened at run time), no CUDA toolkit and no LLVM:
 *
 *  - the launcher that code lowered by `squant-lower-to-nvvm` calls
 *    (`gpu.launch_func`, `gpu.alloc`, `gpu.memcpy` become calls of the
 *    mgpu* functions, which this library defines over the driver API);
 *  - memory and synchronization helpers for programs that call that code;
 *  - the hand-written CUDA kernels (runtime/src/cuda), when the library was
 *    built with nvcc (SQUANT_ENABLE_CUDA_KERNELS).
 *
 * All state is the driver's: one primary context of device 0 (the one
 * PyTorch and the CUDA runtime use), retained on first use. Every
 * squant_gpu_* function returns a status; the mgpu* ABI has no status, so a
 * failure there is printed to stderr once and kept for
 * squant_gpu_take_error().
 *
 *===----------------------------------------------------------------------===*/

#ifndef SQUANT_RUNTIME_SQUANT_GPU_H
#define SQUANT_RUNTIME_SQUANT_GPU_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SQUANT_GPU_ABI_VERSION 1

typedef enum squant_gpu_status {
  SQUANT_GPU_OK = 0,
  SQUANT_GPU_INVALID_ARGUMENT = 1, /* null pointer, bad size, bad enum */
  SQUANT_GPU_UNSUPPORTED = 2,      /* valid but not implemented */
  SQUANT_GPU_NO_DRIVER = 3,        /* libcuda.so.1 could not be opened */
  SQUANT_GPU_NO_DEVICE = 4,        /* the driver reports no usable device */
  SQUANT_GPU_DRIVER_ERROR = 5,     /* a driver call failed (message kept) */
  SQUANT_GPU_NOT_BUILT = 6,        /* kernels not compiled into this build */
} squant_gpu_status;

/* A short English description of a status. */
const char *squant_gpu_status_string(squant_gpu_status status);

/* Opens the driver and retains device 0's primary context; idempotent. */
squant_gpu_status squant_gpu_init(void);

/* The first failure since the last call (NULL if none), with the driver's
 * message; clears it. */
const char *squant_gpu_take_error(void);

/* Device 0's name and compute capability (e.g. 9.0). */
squant_gpu_status squant_gpu_device_info(char *name, size_t name_size,
                                         int *major, int *minor);

squant_gpu_status squant_gpu_malloc(void **device_ptr, size_t bytes);
squant_gpu_status squant_gpu_free(void *device_ptr);
/* Copies between any two of host and device memory (unified addressing). */
squant_gpu_status squant_gpu_memcpy(void *dst, const void *src, size_t bytes);
squant_gpu_status squant_gpu_synchronize(void);

/* Kernel time of the lowered code: when enabled, every mgpuLaunchKernel is
 * bracketed by events and the elapsed milliseconds are summed. */
squant_gpu_status squant_gpu_profile_launches(int enable);
squant_gpu_status squant_gpu_profiled_ms(double *total_ms, int64_t *launches);

/* Launch capture, for benchmarks. While enabled, kernels that lowered code
 * launches (mgpuLaunchKernel) do not run: the launch is kept (kernel, grid,
 * block, shared memory and argument values) and squant_gpu_replay_launch
 * runs a kept launch on any stream, e.g. PyTorch's, so that generated
 * kernels are timed back to back with events like any other kernel.
 * Arguments must be 8 bytes each (pointers and 64-bit integers: every
 * argument of squant's lowered kernels; checked where the driver can tell)
 * and at most 64. Enabling or disabling drops the kept launches. */
squant_gpu_status squant_gpu_capture_launches(int enable);
squant_gpu_status squant_gpu_captured_launches(int64_t *count);
squant_gpu_status squant_gpu_replay_launch(int64_t index, void *stream);

/*===--------------------------------------------------------------------===*
 * Hand-written kernels (runtime/src/cuda).
 *
 * y[m][n] = sum_k x[m][k] * w[n][k] for M <= 64, fp32 accumulation, with
 * activations and outputs in `act` (f16 or bf16, or f32) and weights packed
 * little-endian along K, LSB first (squant.pack's lsb_first layout):
 *
 *   FMA form:  w = fma(q, s[n][k/g], b[n][k/g])   (tinygemm's float zero point
 *              folded into b = fma(s, -2^(bits-1), zero) as squant does)
 *   LUT form:  w = table[q] * s[n][k/g]          (f32 table per tensor)
 *
 * bits 2, 3, 4 (and 8 for FMA); q unsigned; k and g multiples of 32 (bits 3:
 * each run of 32 codes is 12 bytes, three 32-bit words, code i at bit 3i).
 * Scales and biases are f32 [n][k/g]. `stream` is a CUstream (NULL: the
 * legacy default stream). All pointers are device pointers.
 *
 * Kernels: the FMA form with f16/bf16 activations, g a multiple of 128 and
 * 16-byte aligned x and codes runs on tensor cores (mma.sync, f32
 * accumulation of exact codes: s * sum(x q) + b * sum(x) per group, the
 * numerics of the other kernel); everything else on a SIMT kernel. Both
 * are deterministic (no atomics; fixed summation order) and within the
 * same bound of the reference, but they sum in different orders: the same
 * problem with a misaligned x or codes (the SIMT kernel) can differ from
 * the aligned one in the last bits.
 *===--------------------------------------------------------------------===*/

typedef enum squant_gpu_dtype {
  SQUANT_GPU_F32 = 0,
  SQUANT_GPU_F16 = 1,
  SQUANT_GPU_BF16 = 2,
} squant_gpu_dtype;

typedef enum squant_gpu_form {
  SQUANT_GPU_FORM_FMA = 1,
  SQUANT_GPU_FORM_LUT = 2,
} squant_gpu_form;

typedef struct squant_gpu_qmatmul {
  squant_gpu_form form;
  int32_t bits;
  int64_t m, n, k, group_size;
  squant_gpu_dtype act;
  const void *x;          /* [m][k] of act */
  const void *codes;      /* [n][k*bits/8] bytes */
  const float *scales;    /* [n][k/g] */
  const float *biases;    /* [n][k/g]; FMA form */
  const float *table;     /* [2^bits]; LUT form */
  void *y;                /* [m][n] of act */
} squant_gpu_qmatmul;

squant_gpu_status squant_gpu_qmatmul_run(const squant_gpu_qmatmul *problem,
                                         void *stream);

#ifdef __cplusplus
}
#endif

#endif /* SQUANT_RUNTIME_SQUANT_GPU_H */
