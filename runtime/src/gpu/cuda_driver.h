/*===- cuda_driver.h - the CUDA driver API, opened at run time -----*- C -*-===//
 *
 * The few driver entry points libsquant_gpu uses, resolved from
 * libcuda.so.1 with dlopen so that the library builds without the CUDA
 * toolkit and loads on machines without a GPU (every call then reports
 * SQUANT_GPU_NO_DRIVER). The types are the driver's ABI, declared here.
 *
 *===----------------------------------------------------------------------===*/

#ifndef SQUANT_RUNTIME_GPU_CUDA_DRIVER_H
#define SQUANT_RUNTIME_GPU_CUDA_DRIVER_H

#include "squant/runtime/squant_gpu.h"

#include <stddef.h>

typedef int CUresult; /* CUDA_SUCCESS == 0 */
enum { CUDA_ERROR_DEINITIALIZED = 4 }; /* the driver has shut down (exit) */
typedef int CUdevice;
typedef struct CUctx_st *CUcontext;
typedef struct CUmod_st *CUmodule;
typedef struct CUfunc_st *CUfunction;
typedef struct CUstream_st *CUstream;
typedef struct CUevent_st *CUevent;
typedef unsigned long long CUdeviceptr;

typedef struct squant_cuda_driver {
  CUresult (*cuInit)(unsigned);
  CUresult (*cuDeviceGet)(CUdevice *, int);
  CUresult (*cuDeviceGetCount)(int *);
  CUresult (*cuDeviceGetName)(char *, int, CUdevice);
  CUresult (*cuDeviceGetAttribute)(int *, int, CUdevice);
  CUresult (*cuDevicePrimaryCtxRetain)(CUcontext *, CUdevice);
  CUresult (*cuCtxSetCurrent)(CUcontext);
  CUresult (*cuCtxSynchronize)(void);
  CUresult (*cuModuleLoadData)(CUmodule *, const void *);
  CUresult (*cuModuleUnload)(CUmodule);
  CUresult (*cuModuleGetFunction)(CUfunction *, CUmodule, const char *);
  CUresult (*cuFuncSetAttribute)(CUfunction, int, int);
  CUresult (*cuLaunchKernel)(CUfunction, unsigned, unsigned, unsigned,
                             unsigned, unsigned, unsigned, unsigned, CUstream,
                             void **, void **);
  CUresult (*cuStreamCreate)(CUstream *, unsigned);
  CUresult (*cuStreamDestroy)(CUstream);
  CUresult (*cuStreamSynchronize)(CUstream);
  CUresult (*cuStreamWaitEvent)(CUstream, CUevent, unsigned);
  CUresult (*cuEventCreate)(CUevent *, unsigned);
  CUresult (*cuEventDestroy)(CUevent);
  CUresult (*cuEventRecord)(CUevent, CUstream);
  CUresult (*cuEventSynchronize)(CUevent);
  CUresult (*cuEventElapsedTime)(float *, CUevent, CUevent);
  CUresult (*cuMemAlloc)(CUdeviceptr *, size_t);
  CUresult (*cuMemAllocManaged)(CUdeviceptr *, size_t, unsigned);
  CUresult (*cuMemFree)(CUdeviceptr);
  CUresult (*cuMemcpy)(CUdeviceptr, CUdeviceptr, size_t);
  CUresult (*cuMemcpyAsync)(CUdeviceptr, CUdeviceptr, size_t, CUstream);
  CUresult (*cuMemsetD32Async)(CUdeviceptr, unsigned, size_t, CUstream);
  CUresult (*cuMemsetD16Async)(CUdeviceptr, unsigned short, size_t, CUstream);
  CUresult (*cuGetErrorString)(CUresult, const char **);
  /* Optional (driver >= 12.4; NULL before): a kernel parameter's offset and
   * size. */
  CUresult (*cuFuncGetParamInfo)(CUfunction, size_t, size_t *, size_t *);
} squant_cuda_driver;

/* The driver with device 0's primary context current on this thread, or
 * NULL with *status saying why. Loads and initializes once per process. */
const squant_cuda_driver *squant_cuda_driver_get(squant_gpu_status *status);

/* Records the first failure ("cuXxx in <what>: <driver message>"), prints it
 * to stderr, and returns SQUANT_GPU_DRIVER_ERROR; OK when result == 0. */
squant_gpu_status squant_cuda_check(CUresult result, const char *call,
                                    const char *what);

/* Records a failure that is not a driver result. */
void squant_gpu_record_error(const char *message);

#define SQUANT_CUDA_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES 8
#define SQUANT_CUDA_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR 75
#define SQUANT_CUDA_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR 76

#endif /* SQUANT_RUNTIME_GPU_CUDA_DRIVER_H */
