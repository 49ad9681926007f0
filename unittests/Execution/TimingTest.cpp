//===- TimingTest.cpp - Paired reads and windows of squant's timing -------===//

#include "squant/Execution/Timing.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <vector>

using namespace mlir::squant;

namespace {

/// Spins for `s` seconds (a sleep may overshoot by a scheduler tick).
void spinFor(double s) {
  auto end =
      std::chrono::steady_clock::now() + std::chrono::duration<double>(s);
  while (std::chrono::steady_clock::now() < end) {
  }
}

TEST(Timing, PairedWindowsPairEachTimedCallWithItsRead) {
  BandwidthProbe probe(size_t(8) << 20);
  // What ran, in order: +i for call(i), -i for paired(i) (i >= 1 here:
  // calls 0 and 1 warm up and measure, unpaired).
  std::vector<int> log;
  const double read = 1e-3, call = 2e-3;
  TimingStats s = timeWindows(
      [&](int i) {
        log.push_back(i);
        spinFor(call);
      },
      probe, 1, /*windows=*/3, /*windowSeconds=*/0.01, nullptr,
      [&](int i) {
        log.push_back(-i);
        return read;
      });
  ASSERT_GE(log.size(), 2u + 3 * 2);
  EXPECT_EQ(log[0], 0);
  EXPECT_EQ(log[1], 1);
  for (size_t j = 2; j + 1 < log.size(); j += 2) {
    EXPECT_EQ(log[j], -log[j + 1]) << "entry " << j;
    EXPECT_EQ(log[j + 1], int(j / 2 + 1)) << "entry " << j;
  }
  EXPECT_EQ(log.size() % 2, 0u);
  EXPECT_EQ(s.pairedSeconds, read);
  // read / call time: at most 0.5, less only where the spin ran long (on
  // a loaded machine, a spin preempted for a few ticks runs far longer:
  // no lower bound but a positive fraction).
  EXPECT_LE(s.pairedFraction, read / call + 1e-9);
  EXPECT_GT(s.pairedFraction, 0.0);
  EXPECT_GE(s.median, call);
  EXPECT_GT(s.bandwidth, 0.0);
}

TEST(Timing, UnpairedWindowsReportNoPairedFraction) {
  BandwidthProbe probe(size_t(8) << 20);
  int calls = 0;
  TimingStats s = timeWindows([&](int) { ++calls; }, probe, 1, 3, 0.001);
  EXPECT_GT(calls, 2);
  EXPECT_EQ(s.pairedFraction, 0.0);
  EXPECT_EQ(s.pairedSeconds, 0.0);
}

TEST(Timing, ReadNextRunsOneSliceOnEachThread) {
  BandwidthProbe probe(size_t(4) << 20);
  for (int threads : {1, 2, 3}) {
    std::vector<int> seen(threads, 0), counts;
    OnThreads sequential = [&](const std::function<void(int, int)> &task) {
      for (int i = 0; i < threads; ++i)
        task(i, threads);
    };
    auto recording = [&](const std::function<void(int, int)> &task) {
      sequential([&](int index, int count) {
        ++seen[index];
        counts.push_back(count);
        task(index, count);
      });
    };
    // Reads larger than the buffer, and enough of them to go round it.
    for (size_t bytes : {size_t(1) << 20, size_t(3) << 20, size_t(64) << 20})
      EXPECT_GT(probe.readNext(bytes, recording), 0.0);
    for (int i = 0; i < threads; ++i)
      EXPECT_EQ(seen[i], 3) << threads << " threads, index " << i;
    for (int c : counts)
      EXPECT_EQ(c, threads);
  }
}

} // namespace
