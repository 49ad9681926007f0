/*===- cuda_driver.c - the CUDA driver API, opened at run time -----*- C -*-===//
 *
 * Process-wide state, by necessity: the driver handle and device 0's
 * primary context (the driver's own state is process-wide too). Loaded once
 * under pthread_once; the first failure message is kept, under a mutex, for
 * squant_gpu_take_error().
 *
 *===----------------------------------------------------------------------===*/

#define _GNU_SOURCE
#include "cuda_driver.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static squant_cuda_driver driver;
static squant_gpu_status load_status = SQUANT_GPU_NO_DRIVER;
static CUcontext primary;
static pthread_once_t load_once = PTHREAD_ONCE_INIT;

static pthread_mutex_t error_lock = PTHREAD_MUTEX_INITIALIZER;
static char error_message[512];
static char taken_message[512];
static int has_error;

void squant_gpu_record_error(const char *message) {
  pthread_mutex_lock(&error_lock);
  if (!has_error) {
    snprintf(error_message, sizeof error_message, "%s", message);
    has_error = 1;
  }
  pthread_mutex_unlock(&error_lock);
  fprintf(stderr, "squant-gpu: %s\n", message);
}

const char *squant_gpu_take_error(void) {
  const char *result = NULL;
  pthread_mutex_lock(&error_lock);
  if (has_error) {
    memcpy(taken_message, error_message, sizeof taken_message);
    has_error = 0;
    result = taken_message;
  }
  pthread_mutex_unlock(&error_lock);
  return result;
}

squant_gpu_status squant_cuda_check(CUresult result, const char *call,
                                    const char *what) {
  if (result == 0)
    return SQUANT_GPU_OK;
  const char *text = NULL;
  if (driver.cuGetErrorString)
    driver.cuGetErrorString(result, &text);
  char message[512];
  snprintf(message, sizeof message, "%s in %s failed: %s (CUresult %d)", call,
           what, text ? text : "unknown error", result);
  squant_gpu_record_error(message);
  return SQUANT_GPU_DRIVER_ERROR;
}

/* Resolves `name` (or its _v2 variant, which the headers would pick). */
static void *resolve(void *lib, const char *name, const char *v2) {
  void *f = v2 ? dlsym(lib, v2) : NULL;
  return f ? f : dlsym(lib, name);
}

#define LOAD(field, v2)                                                        \
  do {                                                                         \
    *(void **)&driver.field = resolve(lib, #field, v2);                        \
    if (!driver.field) {                                                       \
      squant_gpu_record_error("libcuda.so.1 lacks " #field);                   \
      return;                                                                  \
    }                                                                          \
  } while (0)

static void load_driver(void) {
  void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    load_status = SQUANT_GPU_NO_DRIVER;
    return;
  }
  load_status = SQUANT_GPU_NO_DRIVER;
  LOAD(cuGetErrorString, NULL);
  LOAD(cuInit, NULL);
  LOAD(cuDeviceGet, NULL);
  LOAD(cuDeviceGetCount, NULL);
  LOAD(cuDeviceGetName, NULL);
  LOAD(cuDeviceGetAttribute, NULL);
  LOAD(cuDevicePrimaryCtxRetain, NULL);
  LOAD(cuCtxSetCurrent, NULL);
  LOAD(cuCtxSynchronize, NULL);
  LOAD(cuModuleLoadData, NULL);
  LOAD(cuModuleUnload, NULL);
  LOAD(cuModuleGetFunction, NULL);
  LOAD(cuFuncSetAttribute, NULL);
  LOAD(cuLaunchKernel, NULL);
  LOAD(cuStreamCreate, NULL);
  LOAD(cuStreamDestroy, "cuStreamDestroy_v2");
  LOAD(cuStreamSynchronize, NULL);
  LOAD(cuStreamWaitEvent, NULL);
  LOAD(cuEventCreate, NULL);
  LOAD(cuEventDestroy, "cuEventDestroy_v2");
  LOAD(cuEventRecord, NULL);
  LOAD(cuEventSynchronize, NULL);
  LOAD(cuEventElapsedTime, "cuEventElapsedTime_v2");
  LOAD(cuMemAlloc, "cuMemAlloc_v2");
  LOAD(cuMemAllocManaged, NULL);
  LOAD(cuMemFree, "cuMemFree_v2");
  LOAD(cuMemcpy, NULL);
  LOAD(cuMemcpyAsync, NULL);
  LOAD(cuMemsetD32Async, NULL);
  LOAD(cuMemsetD16Async, NULL);
  *(void **)&driver.cuFuncGetParamInfo = dlsym(lib, "cuFuncGetParamInfo");

  int count = 0;
  CUdevice device;
  if (squant_cuda_check(driver.cuInit(0), "cuInit", "squant_gpu_init"))
    return;
  if (squant_cuda_check(driver.cuDeviceGetCount(&count), "cuDeviceGetCount",
                        "squant_gpu_init"))
    return;
  if (count == 0) {
    load_status = SQUANT_GPU_NO_DEVICE;
    return;
  }
  if (squant_cuda_check(driver.cuDeviceGet(&device, 0), "cuDeviceGet",
                        "squant_gpu_init") ||
      squant_cuda_check(driver.cuDevicePrimaryCtxRetain(&primary, device),
                        "cuDevicePrimaryCtxRetain", "squant_gpu_init")) {
    load_status = SQUANT_GPU_DRIVER_ERROR;
    return;
  }
  load_status = SQUANT_GPU_OK;
}

const squant_cuda_driver *squant_cuda_driver_get(squant_gpu_status *status) {
  pthread_once(&load_once, load_driver);
  *status = load_status;
  if (load_status != SQUANT_GPU_OK)
    return NULL;
  /* The primary context, current on the calling thread. After the driver
   * has shut down (exit: the generated code's global destructors unload
   * their modules after libcuda's own teardown), there is nothing left to
   * release: report it without an error message. */
  CUresult result = driver.cuCtxSetCurrent(primary);
  if (result == CUDA_ERROR_DEINITIALIZED) {
    *status = SQUANT_GPU_DRIVER_ERROR;
    return NULL;
  }
  if (squant_cuda_check(result, "cuCtxSetCurrent", "squant_gpu")) {
    *status = SQUANT_GPU_DRIVER_ERROR;
    return NULL;
  }
  return &driver;
}
