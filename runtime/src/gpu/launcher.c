/*===- launcher.c - the mgpu* ABI of lowered gpu ops ---------------*- C -*-===//
 *
 * `gpu-to-llvm` lowers gpu.launch_func, gpu.alloc, gpu.memcpy, ... to calls
 * of these functions, which upstream implements in libmlir_cuda_runtime (not
 * shipped by Debian's MLIR). squant defines them over the driver API opened
 * at run time, so lowered host code links against libsquant_gpu and needs
 * only the CUDA driver. The ABI has no status: a failure is printed and kept
 * for squant_gpu_take_error(), and the call does nothing further.
 *
 *===----------------------------------------------------------------------===*/

#include "cuda_driver.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SQUANT_EXPORT __attribute__((visibility("default")))

static const squant_cuda_driver *driver_for(const char *what) {
  squant_gpu_status status;
  const squant_cuda_driver *d = squant_cuda_driver_get(&status);
  if (!d && status != SQUANT_GPU_DRIVER_ERROR) {
    char message[256];
    snprintf(message, sizeof message, "%s: %s", what,
             squant_gpu_status_string(status));
    squant_gpu_record_error(message);
  }
  return d;
}

#define DRIVER_OR(what, fallback)                                              \
  const squant_cuda_driver *d = driver_for(what);                              \
  if (!d)                                                                      \
    return fallback;

/* Launch profiling (squant_gpu_profile_launches). */
static pthread_mutex_t profile_lock = PTHREAD_MUTEX_INITIALIZER;
static int profile_enabled;
static double profile_ms;
static int64_t profile_launches;

squant_gpu_status squant_gpu_profile_launches(int enable) {
  pthread_mutex_lock(&profile_lock);
  profile_enabled = enable != 0;
  profile_ms = 0;
  profile_launches = 0;
  pthread_mutex_unlock(&profile_lock);
  return SQUANT_GPU_OK;
}

squant_gpu_status squant_gpu_profiled_ms(double *total_ms, int64_t *launches) {
  if (!total_ms || !launches)
    return SQUANT_GPU_INVALID_ARGUMENT;
  pthread_mutex_lock(&profile_lock);
  *total_ms = profile_ms;
  *launches = profile_launches;
  pthread_mutex_unlock(&profile_lock);
  return SQUANT_GPU_OK;
}

SQUANT_EXPORT void *mgpuModuleLoad(void *data, size_t size) {
  (void)size;
  DRIVER_OR("mgpuModuleLoad", NULL);
  CUmodule module = NULL;
  squant_cuda_check(d->cuModuleLoadData(&module, data), "cuModuleLoadData",
                    "mgpuModuleLoad");
  return module;
}

/* PTX (gpu-module-to-binary format=isa): the driver compiles it. */
SQUANT_EXPORT void *mgpuModuleLoadJIT(void *data, int optLevel) {
  (void)optLevel;
  return mgpuModuleLoad(data, 0);
}

SQUANT_EXPORT void mgpuModuleUnload(void *module) {
  DRIVER_OR("mgpuModuleUnload", );
  if (module)
    squant_cuda_check(d->cuModuleUnload((CUmodule)module), "cuModuleUnload",
                      "mgpuModuleUnload");
}

SQUANT_EXPORT void *mgpuModuleGetFunction(void *module, const char *name) {
  DRIVER_OR("mgpuModuleGetFunction", NULL);
  CUfunction function = NULL;
  if (!module) {
    squant_gpu_record_error("mgpuModuleGetFunction: the module did not load");
    return NULL;
  }
  squant_cuda_check(d->cuModuleGetFunction(&function, (CUmodule)module, name),
                    "cuModuleGetFunction", name);
  return function;
}

/* Launch capture (squant_gpu_capture_launches). */
#define SQUANT_MAX_KERNEL_ARGS 64
typedef struct captured_launch {
  CUfunction function;
  unsigned grid[3], block[3], smem;
  size_t count;
  uint64_t args[SQUANT_MAX_KERNEL_ARGS];
} captured_launch;
static pthread_mutex_t capture_lock = PTHREAD_MUTEX_INITIALIZER;
static int capture_enabled;
static captured_launch *captured;
static int64_t captured_count, captured_capacity;

squant_gpu_status squant_gpu_capture_launches(int enable) {
  pthread_mutex_lock(&capture_lock);
  capture_enabled = enable != 0;
  free(captured);
  captured = NULL;
  captured_count = captured_capacity = 0;
  pthread_mutex_unlock(&capture_lock);
  return SQUANT_GPU_OK;
}

squant_gpu_status squant_gpu_captured_launches(int64_t *count) {
  if (!count)
    return SQUANT_GPU_INVALID_ARGUMENT;
  pthread_mutex_lock(&capture_lock);
  *count = captured_count;
  pthread_mutex_unlock(&capture_lock);
  return SQUANT_GPU_OK;
}

squant_gpu_status squant_gpu_replay_launch(int64_t index, void *stream) {
  pthread_mutex_lock(&capture_lock);
  if (index < 0 || index >= captured_count) {
    pthread_mutex_unlock(&capture_lock);
    return SQUANT_GPU_INVALID_ARGUMENT;
  }
  captured_launch launch = captured[index];
  pthread_mutex_unlock(&capture_lock);
  squant_gpu_status status;
  const squant_cuda_driver *d = squant_cuda_driver_get(&status);
  if (!d)
    return status;
  void *args[SQUANT_MAX_KERNEL_ARGS];
  for (size_t i = 0; i < launch.count; ++i)
    args[i] = &launch.args[i];
  return squant_cuda_check(
      d->cuLaunchKernel(launch.function, launch.grid[0], launch.grid[1],
                        launch.grid[2], launch.block[0], launch.block[1],
                        launch.block[2], launch.smem, (CUstream)stream, args,
                        NULL),
      "cuLaunchKernel", "squant_gpu_replay_launch");
}

/* Keeps a launch instead of running it; false if capture is off. */
static bool capture(const squant_cuda_driver *d, CUfunction function,
                    const intptr_t grid[3], const intptr_t block[3],
                    int32_t smem, void **params, size_t count) {
  pthread_mutex_lock(&capture_lock);
  bool enabled = capture_enabled;
  pthread_mutex_unlock(&capture_lock);
  if (!enabled)
    return false;
  if (count > SQUANT_MAX_KERNEL_ARGS) {
    squant_gpu_record_error("mgpuLaunchKernel: capture: more than 64 kernel arguments");
    return true;
  }
  captured_launch launch = {function, {0}, {0}, (unsigned)smem, count, {0}};
  for (int i = 0; i < 3; ++i) {
    launch.grid[i] = (unsigned)grid[i];
    launch.block[i] = (unsigned)block[i];
  }
  for (size_t i = 0; i < count; ++i) {
    size_t offset = 0, size = 8;
    if (d->cuFuncGetParamInfo &&
        d->cuFuncGetParamInfo(function, i, &offset, &size) == 0 && size != 8) {
      char message[160];
      snprintf(message, sizeof message,
               "mgpuLaunchKernel: capture: kernel argument %zu is %zu bytes, "
               "not 8", i, size);
      squant_gpu_record_error(message);
      return true;
    }
    memcpy(&launch.args[i], params[i], 8);
  }
  pthread_mutex_lock(&capture_lock);
  if (captured_count == captured_capacity) {
    int64_t capacity = captured_capacity ? 2 * captured_capacity : 16;
    captured_launch *grown = realloc(captured, (size_t)capacity * sizeof *grown);
    if (!grown) {
      pthread_mutex_unlock(&capture_lock);
      squant_gpu_record_error("mgpuLaunchKernel: capture: out of memory");
      return true;
    }
    captured = grown;
    captured_capacity = capacity;
  }
  captured[captured_count++] = launch;
  pthread_mutex_unlock(&capture_lock);
  return true;
}

SQUANT_EXPORT void mgpuLaunchKernel(void *function, intptr_t gridX,
                                    intptr_t gridY, intptr_t gridZ,
                                    intptr_t blockX, intptr_t blockY,
                                    intptr_t blockZ, int32_t smem,
                                    void *stream, void **params, void **extra,
                                    size_t paramsCount) {
  DRIVER_OR("mgpuLaunchKernel", );
  if (!function) {
    squant_gpu_record_error("mgpuLaunchKernel: no kernel (see above)");
    return;
  }
  if (smem > 48 * 1024 &&
      squant_cuda_check(
          d->cuFuncSetAttribute(
              (CUfunction)function,
              SQUANT_CUDA_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, smem),
          "cuFuncSetAttribute", "mgpuLaunchKernel"))
    return;
  const intptr_t grid[3] = {gridX, gridY, gridZ};
  const intptr_t block[3] = {blockX, blockY, blockZ};
  if (capture(d, (CUfunction)function, grid, block, smem, params, paramsCount))
    return;
  pthread_mutex_lock(&profile_lock);
  int profile = profile_enabled;
  pthread_mutex_unlock(&profile_lock);
  CUevent start = NULL, stop = NULL;
  if (profile) {
    d->cuEventCreate(&start, 0);
    d->cuEventCreate(&stop, 0);
    d->cuEventRecord(start, (CUstream)stream);
  }
  squant_cuda_check(d->cuLaunchKernel((CUfunction)function, (unsigned)gridX,
                                      (unsigned)gridY, (unsigned)gridZ,
                                      (unsigned)blockX, (unsigned)blockY,
                                      (unsigned)blockZ, (unsigned)smem,
                                      (CUstream)stream, params, extra),
                    "cuLaunchKernel", "mgpuLaunchKernel");
  if (profile) {
    float ms = 0;
    d->cuEventRecord(stop, (CUstream)stream);
    d->cuEventSynchronize(stop);
    d->cuEventElapsedTime(&ms, start, stop);
    d->cuEventDestroy(start);
    d->cuEventDestroy(stop);
    pthread_mutex_lock(&profile_lock);
    profile_ms += ms;
    profile_launches += 1;
    pthread_mutex_unlock(&profile_lock);
  }
}

SQUANT_EXPORT void *mgpuStreamCreate(void) {
  DRIVER_OR("mgpuStreamCreate", NULL);
  CUstream stream = NULL;
  squant_cuda_check(d->cuStreamCreate(&stream, /*NON_BLOCKING=*/1),
                    "cuStreamCreate", "mgpuStreamCreate");
  return stream;
}

SQUANT_EXPORT void mgpuStreamDestroy(void *stream) {
  DRIVER_OR("mgpuStreamDestroy", );
  squant_cuda_check(d->cuStreamDestroy((CUstream)stream), "cuStreamDestroy",
                    "mgpuStreamDestroy");
}

SQUANT_EXPORT void mgpuStreamSynchronize(void *stream) {
  DRIVER_OR("mgpuStreamSynchronize", );
  squant_cuda_check(d->cuStreamSynchronize((CUstream)stream),
                    "cuStreamSynchronize", "mgpuStreamSynchronize");
}

SQUANT_EXPORT void mgpuStreamWaitEvent(void *stream, void *event) {
  DRIVER_OR("mgpuStreamWaitEvent", );
  squant_cuda_check(d->cuStreamWaitEvent((CUstream)stream, (CUevent)event, 0),
                    "cuStreamWaitEvent", "mgpuStreamWaitEvent");
}

SQUANT_EXPORT void *mgpuEventCreate(void) {
  DRIVER_OR("mgpuEventCreate", NULL);
  CUevent event = NULL;
  squant_cuda_check(d->cuEventCreate(&event, /*DISABLE_TIMING=*/2),
                    "cuEventCreate", "mgpuEventCreate");
  return event;
}

SQUANT_EXPORT void mgpuEventDestroy(void *event) {
  DRIVER_OR("mgpuEventDestroy", );
  squant_cuda_check(d->cuEventDestroy((CUevent)event), "cuEventDestroy",
                    "mgpuEventDestroy");
}

SQUANT_EXPORT void mgpuEventSynchronize(void *event) {
  DRIVER_OR("mgpuEventSynchronize", );
  squant_cuda_check(d->cuEventSynchronize((CUevent)event),
                    "cuEventSynchronize", "mgpuEventSynchronize");
}

SQUANT_EXPORT void mgpuEventRecord(void *event, void *stream) {
  DRIVER_OR("mgpuEventRecord", );
  squant_cuda_check(d->cuEventRecord((CUevent)event, (CUstream)stream),
                    "cuEventRecord", "mgpuEventRecord");
}

SQUANT_EXPORT void *mgpuMemAlloc(uint64_t bytes, void *stream,
                                 bool isHostShared) {
  (void)stream;
  DRIVER_OR("mgpuMemAlloc", NULL);
  CUdeviceptr ptr = 0;
  if (bytes == 0)
    return NULL;
  if (isHostShared)
    squant_cuda_check(d->cuMemAllocManaged(&ptr, bytes, /*ATTACH_GLOBAL=*/1),
                      "cuMemAllocManaged", "mgpuMemAlloc");
  else
    squant_cuda_check(d->cuMemAlloc(&ptr, bytes), "cuMemAlloc", "mgpuMemAlloc");
  return (void *)(uintptr_t)ptr;
}

SQUANT_EXPORT void mgpuMemFree(void *ptr, void *stream) {
  DRIVER_OR("mgpuMemFree", );
  if (!ptr)
    return;
  /* cuMemFree is synchronous; the stream's work on ptr must finish first. */
  if (stream)
    d->cuStreamSynchronize((CUstream)stream);
  squant_cuda_check(d->cuMemFree((CUdeviceptr)(uintptr_t)ptr), "cuMemFree",
                    "mgpuMemFree");
}

SQUANT_EXPORT void mgpuMemcpy(void *dst, void *src, size_t bytes,
                              void *stream) {
  DRIVER_OR("mgpuMemcpy", );
  squant_cuda_check(d->cuMemcpyAsync((CUdeviceptr)(uintptr_t)dst,
                                     (CUdeviceptr)(uintptr_t)src, bytes,
                                     (CUstream)stream),
                    "cuMemcpyAsync", "mgpuMemcpy");
}

SQUANT_EXPORT void mgpuMemset32(void *dst, unsigned value, size_t count,
                                void *stream) {
  DRIVER_OR("mgpuMemset32", );
  squant_cuda_check(d->cuMemsetD32Async((CUdeviceptr)(uintptr_t)dst, value,
                                        count, (CUstream)stream),
                    "cuMemsetD32Async", "mgpuMemset32");
}

SQUANT_EXPORT void mgpuMemset16(void *dst, unsigned short value, size_t count,
                                void *stream) {
  DRIVER_OR("mgpuMemset16", );
  squant_cuda_check(d->cuMemsetD16Async((CUdeviceptr)(uintptr_t)dst, value,
                                        count, (CUstream)stream),
                    "cuMemsetD16Async", "mgpuMemset16");
}

SQUANT_EXPORT void mgpuSetDefaultDevice(int32_t device) {
  if (device != 0)
    squant_gpu_record_error("mgpuSetDefaultDevice: squant uses device 0 only");
}
