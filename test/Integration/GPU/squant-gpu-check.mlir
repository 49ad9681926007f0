// REQUIRES: cuda-toolkit
// UNSUPPORTED: cuda-device
// squant-gpu-check (tools/squant-gpu-check: kernels.mlir through
// squant-lower-to-nvvm, linked with libsquant_gpu) built here; without a
// GPU it says why and exits 77, it does not crash or pretend.
// RUN: not squant-gpu-check | FileCheck %s
// CHECK: squant-gpu-check: UNAVAILABLE: no CUDA
