// REQUIRES: cuda-device
// The generated kernels and the hand-written ones against the CPU
// reference on the GPU (two seeds).
// RUN: squant-gpu-check 1 | FileCheck %s
// RUN: squant-gpu-check 2 | FileCheck %s
// CHECK-NOT: FAIL
// CHECK: squant-gpu-check: all ok
