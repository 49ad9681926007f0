/*===- api.c - squant_gpu_* entry points ---------------------------*- C -*-===*/

#include "cuda_driver.h"

#include <stdint.h>

const char *squant_gpu_status_string(squant_gpu_status status) {
  switch (status) {
  case SQUANT_GPU_OK: return "ok";
  case SQUANT_GPU_INVALID_ARGUMENT: return "invalid argument";
  case SQUANT_GPU_UNSUPPORTED: return "unsupported configuration";
  case SQUANT_GPU_NO_DRIVER: return "no CUDA driver (libcuda.so.1 not found)";
  case SQUANT_GPU_NO_DEVICE: return "no CUDA device";
  case SQUANT_GPU_DRIVER_ERROR: return "CUDA driver error";
  case SQUANT_GPU_NOT_BUILT:
    return "CUDA kernels not built (configure with nvcc and "
           "SQUANT_ENABLE_CUDA_KERNELS=ON)";
  }
  return "unknown status";
}

squant_gpu_status squant_gpu_init(void) {
  squant_gpu_status status;
  squant_cuda_driver_get(&status);
  return status;
}

#define DRIVER_OR_RETURN                                                       \
  squant_gpu_status status;                                                    \
  const squant_cuda_driver *d = squant_cuda_driver_get(&status);               \
  if (!d)                                                                      \
    return status;

squant_gpu_status squant_gpu_device_info(char *name, size_t name_size,
                                         int *major, int *minor) {
  if (!name || name_size == 0 || !major || !minor)
    return SQUANT_GPU_INVALID_ARGUMENT;
  DRIVER_OR_RETURN
  CUdevice device;
  if ((status = squant_cuda_check(d->cuDeviceGet(&device, 0), "cuDeviceGet",
                                  "squant_gpu_device_info")))
    return status;
  if ((status = squant_cuda_check(
           d->cuDeviceGetName(name, (int)name_size, device), "cuDeviceGetName",
           "squant_gpu_device_info")))
    return status;
  if ((status = squant_cuda_check(
           d->cuDeviceGetAttribute(
               major, SQUANT_CUDA_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR,
               device),
           "cuDeviceGetAttribute", "squant_gpu_device_info")))
    return status;
  return squant_cuda_check(
      d->cuDeviceGetAttribute(
          minor, SQUANT_CUDA_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device),
      "cuDeviceGetAttribute", "squant_gpu_device_info");
}

squant_gpu_status squant_gpu_malloc(void **device_ptr, size_t bytes) {
  if (!device_ptr || bytes == 0)
    return SQUANT_GPU_INVALID_ARGUMENT;
  DRIVER_OR_RETURN
  CUdeviceptr ptr = 0;
  status = squant_cuda_check(d->cuMemAlloc(&ptr, bytes), "cuMemAlloc",
                             "squant_gpu_malloc");
  *device_ptr = (void *)(uintptr_t)ptr;
  return status;
}

squant_gpu_status squant_gpu_free(void *device_ptr) {
  if (!device_ptr)
    return SQUANT_GPU_OK;
  DRIVER_OR_RETURN
  return squant_cuda_check(d->cuMemFree((CUdeviceptr)(uintptr_t)device_ptr),
                           "cuMemFree", "squant_gpu_free");
}

squant_gpu_status squant_gpu_memcpy(void *dst, const void *src, size_t bytes) {
  if (!dst || !src)
    return SQUANT_GPU_INVALID_ARGUMENT;
  DRIVER_OR_RETURN
  return squant_cuda_check(d->cuMemcpy((CUdeviceptr)(uintptr_t)dst,
                                       (CUdeviceptr)(uintptr_t)src, bytes),
                           "cuMemcpy", "squant_gpu_memcpy");
}

squant_gpu_status squant_gpu_synchronize(void) {
  DRIVER_OR_RETURN
  return squant_cuda_check(d->cuCtxSynchronize(), "cuCtxSynchronize",
                           "squant_gpu_synchronize");
}
