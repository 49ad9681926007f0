//===- GpuApiTest.cpp - libsquant_gpu's argument checks and status codes ---===//
//
// What libsquant_gpu promises without a GPU: every entry point validates its
// arguments first and returns a status (never crashes on bad input), and a
// machine without the CUDA driver or device gets NO_DRIVER / NO_DEVICE with
// a message. Execution on a device is squant-gpu-check's job.
//
//===----------------------------------------------------------------------===//

#include "squant/runtime/squant_gpu.h"

#include <gtest/gtest.h>

#include <cstring>

namespace {

// A problem the kernels accept (pointers are never dereferenced by the
// checks below).
squant_gpu_qmatmul validProblem() {
  static float dummy[4];
  squant_gpu_qmatmul p{};
  p.form = SQUANT_GPU_FORM_FMA;
  p.bits = 4;
  p.m = 1;
  p.n = 8;
  p.k = 256;
  p.group_size = 128;
  p.act = SQUANT_GPU_F16;
  p.x = p.codes = p.scales = p.biases = p.table = dummy;
  p.y = dummy;
  return p;
}

TEST(GpuApi, StatusStringsAreNamed) {
  for (int s = SQUANT_GPU_OK; s <= SQUANT_GPU_NOT_BUILT; ++s)
    EXPECT_STRNE(squant_gpu_status_string(squant_gpu_status(s)),
                 "unknown status");
  EXPECT_STREQ(squant_gpu_status_string(squant_gpu_status(99)), "unknown status");
}

TEST(GpuApi, QMatmulRejectsBadArguments) {
  EXPECT_EQ(squant_gpu_qmatmul_run(nullptr, nullptr), SQUANT_GPU_INVALID_ARGUMENT);
  auto expect = [](squant_gpu_status want, auto mutate) {
    squant_gpu_qmatmul p = validProblem();
    mutate(p);
    EXPECT_EQ(squant_gpu_qmatmul_run(&p, nullptr), want);
  };
  expect(SQUANT_GPU_INVALID_ARGUMENT, [](auto &p) { p.x = nullptr; });
  expect(SQUANT_GPU_INVALID_ARGUMENT, [](auto &p) { p.biases = nullptr; });
  expect(SQUANT_GPU_INVALID_ARGUMENT, [](auto &p) { p.m = 0; });
  expect(SQUANT_GPU_INVALID_ARGUMENT, [](auto &p) { p.act = squant_gpu_dtype(7); });
  expect(SQUANT_GPU_INVALID_ARGUMENT, [](auto &p) { p.form = squant_gpu_form(0); });
  expect(SQUANT_GPU_INVALID_ARGUMENT, [](auto &p) { p.group_size = 96; });
  expect(SQUANT_GPU_UNSUPPORTED, [](auto &p) { p.bits = 5; });
  expect(SQUANT_GPU_UNSUPPORTED, [](auto &p) {
    p.form = SQUANT_GPU_FORM_LUT;
    p.bits = 8;
  });
  // 2-bit steps are 64 codes, 3-bit steps 128: K = 32 fits neither.
  expect(SQUANT_GPU_UNSUPPORTED, [](auto &p) {
    p.bits = 2;
    p.k = p.group_size = 32;
  });
  expect(SQUANT_GPU_UNSUPPORTED, [](auto &p) {
    p.bits = 3;
    p.k = 64;
    p.group_size = 32;
  });
  expect(SQUANT_GPU_UNSUPPORTED, [](auto &p) { p.group_size = 16, p.k = 32; });
}

TEST(GpuApi, MemoryCallsRejectBadArguments) {
  int host = 0;
  EXPECT_EQ(squant_gpu_malloc(nullptr, 4), SQUANT_GPU_INVALID_ARGUMENT);
  void *ptr = nullptr;
  EXPECT_EQ(squant_gpu_malloc(&ptr, 0), SQUANT_GPU_INVALID_ARGUMENT);
  EXPECT_EQ(squant_gpu_memcpy(nullptr, &host, 4), SQUANT_GPU_INVALID_ARGUMENT);
  EXPECT_EQ(squant_gpu_memcpy(&host, nullptr, 4), SQUANT_GPU_INVALID_ARGUMENT);
  EXPECT_EQ(squant_gpu_free(nullptr), SQUANT_GPU_OK);
  double ms;
  int64_t launches;
  EXPECT_EQ(squant_gpu_profiled_ms(nullptr, &launches), SQUANT_GPU_INVALID_ARGUMENT);
  EXPECT_EQ(squant_gpu_profile_launches(1), SQUANT_GPU_OK);
  EXPECT_EQ(squant_gpu_profiled_ms(&ms, &launches), SQUANT_GPU_OK);
  EXPECT_EQ(ms, 0.0);
  EXPECT_EQ(launches, 0);
  // Launch capture: nothing kept until lowered code launches; replaying a
  // launch that was not kept is an argument error, with or without a GPU.
  EXPECT_EQ(squant_gpu_captured_launches(nullptr), SQUANT_GPU_INVALID_ARGUMENT);
  EXPECT_EQ(squant_gpu_capture_launches(1), SQUANT_GPU_OK);
  int64_t captured = -1;
  EXPECT_EQ(squant_gpu_captured_launches(&captured), SQUANT_GPU_OK);
  EXPECT_EQ(captured, 0);
  EXPECT_EQ(squant_gpu_replay_launch(0, nullptr), SQUANT_GPU_INVALID_ARGUMENT);
  EXPECT_EQ(squant_gpu_replay_launch(-1, nullptr), SQUANT_GPU_INVALID_ARGUMENT);
  EXPECT_EQ(squant_gpu_capture_launches(0), SQUANT_GPU_OK);
  char name[8];
  int major, minor;
  EXPECT_EQ(squant_gpu_device_info(name, 0, &major, &minor),
            SQUANT_GPU_INVALID_ARGUMENT);
}

// Without a usable GPU every call that needs one says which of driver or
// device is missing; a valid problem still validates first.
TEST(GpuApi, WithoutGpuCallsReportWhy) {
  squant_gpu_status init = squant_gpu_init();
  if (init == SQUANT_GPU_OK) {
    // A device is present: squant-gpu-check covers it (not pointers here).
    char name[128];
    int major = 0, minor = 0;
    EXPECT_EQ(squant_gpu_device_info(name, sizeof name, &major, &minor), SQUANT_GPU_OK);
    EXPECT_GE(major, 1);
    return;
  }
  EXPECT_TRUE(init == SQUANT_GPU_NO_DRIVER || init == SQUANT_GPU_NO_DEVICE ||
              init == SQUANT_GPU_DRIVER_ERROR);
  void *ptr = nullptr;
  EXPECT_EQ(squant_gpu_malloc(&ptr, 16), init);
  EXPECT_EQ(squant_gpu_synchronize(), init);
  squant_gpu_qmatmul p = validProblem();
  squant_gpu_status run = squant_gpu_qmatmul_run(&p, nullptr);
  EXPECT_TRUE(run == init || run == SQUANT_GPU_NOT_BUILT) << run;
}

} // namespace
