//===- Timing.h - Medians over windows next to measured bandwidth -*- C++
//-*-===//
//
// How squant times code (bench/ and squant-run --bench): a read-bandwidth
// probe runs before every timing window, in the same process and with the
// same thread count, so a ratio to it holds for what the machine could do
// at that moment. Medians over windows, with min and max. Where the caller
// also pairs each call with a read of the same number of bytes on the same
// threads (BandwidthProbe::readNext), the ratio of the two is taken call by
// call: this VM's read bandwidth moves by 10-20 % within minutes, and its
// two vCPUs read at different rates at times (sessions 28 and 29).
//
//===----------------------------------------------------------------------===//

#ifndef SQUANT_EXECUTION_TIMING_H
#define SQUANT_EXECUTION_TIMING_H

#include <cstddef>
#include <functional>
#include <vector>

namespace mlir::squant {

/// Bytes that no cache of this machine holds: twice the last-level cache
/// the OS reports (a VM's L3 may be the host's, hundreds of MiB, part of
/// which serves this process), at least 256 MiB.
size_t coldBytes();

/// A buffer of `bytes` (zero-filled, its pages touched) on 2 MiB pages
/// where the OS gives them: mmap'd 2 MiB-aligned, advised MADV_HUGEPAGE.
/// The probe reads one and benchmarks keep cold weights in them, so that
/// a kernel and the probe read the same kind of pages (session 23: with a
/// ninth of a 4096 x 4096 weight on 4 KiB pages, where separately
/// malloc'd copies put it, the AMX-INT8 GEMV read ~8 % less on one core).
class PageBuffer {
public:
  explicit PageBuffer(size_t bytes);
  ~PageBuffer();
  PageBuffer(const PageBuffer &) = delete;
  PageBuffer &operator=(const PageBuffer &) = delete;

  char *data() const { return base; }
  size_t size() const { return bytes; }
  /// The T at byte `offset`.
  template <typename T> T *at(size_t offset) const {
    return reinterpret_cast<T *>(base + offset);
  }

private:
  char *mapping = nullptr, *base = nullptr;
  size_t mapped = 0, bytes = 0;
};

/// Runs task(index, count) once on each of `count` threads (index 0 on the
/// calling thread) and returns when all are done: the threads that the
/// measured calls run on, e.g. their pool's (squant_rt_pool_parallel).
using OnThreads =
    std::function<void(const std::function<void(int index, int count)> &task)>;

/// Read bandwidth over a buffer larger than the last-level cache.
class BandwidthProbe {
public:
  explicit BandwidthProbe(size_t bytes = coldBytes());
  /// Bytes per second read by `threads` threads, each over its slice once:
  /// the faster of a pass as one stream and one as two streams with
  /// prefetches into L1 and L2 (Timing.cpp), the best plain reads measured.
  double measure(int threads) const;
  /// Seconds that the threads of `onThreads` take to read the buffer's next
  /// `bytes` (at most its size), each thread its slice, as two streams
  /// where the core has AVX-512 (measure()'s faster pass here, by 8-12 %
  /// in every run since session 22), else as one. Successive reads go
  /// round the buffer, so each finds its bytes cold.
  double readNext(size_t bytes, const OnThreads &onThreads);

private:
  PageBuffer buffer;
  size_t next = 0;
};

struct TimingStats {
  double median = 0, min = 0, max = 0; ///< seconds per call
  double bandwidth = 0;                ///< median probe, bytes per second
  /// With a paired read: the median over windows of (the window's median
  /// paired read time / its median call time), the call's speed as a
  /// fraction of a plain read of its bytes; and that median read time.
  double pairedFraction = 0, pairedSeconds = 0;
};

/// Runs `call(i)` (i counts calls, for rotating cold copies) once to warm up,
/// then in `windows` windows of enough repetitions for ~`windowSeconds`,
/// each window after a probe with `threads` threads. With `untimed`, every
/// call is timed alone, after `untimed()` ran (e.g. evicting the caches),
/// and a window's ~`windowSeconds` include the untimed work. With `paired`,
/// every call is timed alone too, right after `paired(i)`, which returns
/// the seconds of a read of the call's bytes (BandwidthProbe::readNext on
/// the call's threads), and the stats give the fraction of it.
TimingStats timeWindows(const std::function<void(int)> &call,
                        const BandwidthProbe &probe, int threads,
                        int windows = 5, double windowSeconds = 0.05,
                        const std::function<void()> &untimed = nullptr,
                        const std::function<double(int)> &paired = nullptr);

/// Writes and reads `bytes` (larger than the last-level cache) so that the
/// next call finds no data of its own cached.
class CacheEvictor {
public:
  explicit CacheEvictor(size_t bytes = coldBytes());
  void operator()();

private:
  PageBuffer buffer;
  char round = 0;
};

} // namespace mlir::squant

#endif // SQUANT_EXECUTION_TIMING_H
