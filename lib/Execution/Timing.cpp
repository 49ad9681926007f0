//===- Timing.cpp - Medians over windows next to measured bandwidth -------===//

#include "squant/Execution/Timing.h"

#include "llvm/ADT/Twine.h"
#include "llvm/Support/ErrorHandling.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <thread>

#include <sys/mman.h>
#include <unistd.h>

#include <immintrin.h>

using namespace mlir::squant;
using Clock = std::chrono::steady_clock;

namespace {

double seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

/// Bytes a read pass prefetches ahead: with it, one core reads 10-15 %
/// more than with the hardware prefetchers alone (19.5-20.4 against 17.6
/// GB/s here; 512 B to 8 KiB measured).
constexpr size_t kProbeAhead = 2048;
/// Bytes the two-stream pass also prefetches ahead into L2, and the chunk
/// it reads of one stream before the other: two streams so read 8-12 %
/// more than one (session 22: 20-22 against 18.5-19.5 GB/s on one core,
/// 40-41 against 37 on two; 3 and 6 KiB ahead, 2 KiB chunks and 64-byte
/// alternation read less), as fast as the AMX-INT8 GEMV's two streams
/// with the same prefetches read.
constexpr size_t kProbeFar = 4096;
constexpr size_t kProbeChunk = 1024;

/// The lines [i, end) of one stream, each with its prefetches (into L1
/// and, with `far`, into L2).
__attribute__((target("avx512f"), always_inline)) inline __m512i
readLines(const char *p, size_t i, size_t end, bool far, __m512i acc) {
  for (; i + 64 <= end; i += 64) {
    _mm_prefetch(p + i + kProbeAhead, _MM_HINT_T0);
    if (far)
      _mm_prefetch(p + i + kProbeFar, _MM_HINT_T1);
    acc = _mm512_add_epi64(acc, _mm512_loadu_si512(p + i));
  }
  return acc;
}

/// One pass over [p, p + n) with the widest loads the core has, as one
/// stream or as two (its halves, kProbeChunk bytes of each in turn); the
/// sum goes to a volatile so that the loads stay.
__attribute__((target("avx512f"))) void readAvx512(const char *p, size_t n,
                                                   int streams) {
  __m512i acc = _mm512_setzero_si512();
  size_t half = streams == 2 ? n / 2 / kProbeChunk * kProbeChunk : 0;
  for (size_t c = 0; c < half; c += kProbeChunk) {
    acc = readLines(p, c, c + kProbeChunk, true, acc);
    acc = readLines(p + half, c, c + kProbeChunk, true, acc);
  }
  acc = readLines(p, 2 * half, n, false, acc);
  volatile long long sink = _mm512_reduce_add_epi64(acc);
  (void)sink;
}

__attribute__((target("avx2"))) void readAvx2(const char *p, size_t n) {
  __m256i acc = _mm256_setzero_si256();
  for (size_t i = 0; i + 32 <= n; i += 32) {
    _mm_prefetch(p + i + kProbeAhead, _MM_HINT_T0);
    acc = _mm256_add_epi64(acc, _mm256_loadu_si256(reinterpret_cast<const __m256i *>(p + i)));
  }
  alignas(32) long long lanes[4];
  _mm256_store_si256(reinterpret_cast<__m256i *>(lanes), acc);
  volatile long long sink = lanes[0] + lanes[1] + lanes[2] + lanes[3];
  (void)sink;
}

void readPortable(const char *p, size_t n) {
  uint64_t acc = 0;
  for (size_t i = 0; i + 8 <= n; i += 8) {
    uint64_t v;
    __builtin_memcpy(&v, p + i, 8);
    acc += v;
  }
  volatile uint64_t sink = acc;
  (void)sink;
}

void readOnce(const char *p, size_t n, int streams) {
  if (__builtin_cpu_supports("avx512f"))
    readAvx512(p, n, streams);
  else if (__builtin_cpu_supports("avx2"))
    readAvx2(p, n);
  else
    readPortable(p, n);
}

} // namespace

size_t mlir::squant::coldBytes() {
  long llc = 0;
  for (int name : {_SC_LEVEL4_CACHE_SIZE, _SC_LEVEL3_CACHE_SIZE, _SC_LEVEL2_CACHE_SIZE})
    llc = std::max(llc, sysconf(name));
  return std::max(size_t(256) << 20, 2 * size_t(llc));
}

constexpr size_t kHugePage = size_t(2) << 20;

PageBuffer::PageBuffer(size_t size) : bytes(size) {
  // 2 MiB of slack to align the start, the end rounded up to a whole page.
  size_t whole = (size + kHugePage - 1) / kHugePage * kHugePage;
  mapped = whole + kHugePage;
  void *p = mmap(nullptr, mapped, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    llvm::report_fatal_error("squant: cannot map a benchmark buffer of " +
                             llvm::Twine(size) + " bytes");
  mapping = static_cast<char *>(p);
  uintptr_t start = reinterpret_cast<uintptr_t>(mapping);
  base = mapping + (kHugePage - start % kHugePage) % kHugePage;
  // Advice only: where the kernel has no huge pages, 4 KiB pages serve.
  (void)madvise(base, whole, MADV_HUGEPAGE);
  std::memset(base, 0, whole);
}

PageBuffer::~PageBuffer() {
  if (mapping)
    munmap(mapping, mapped);
}

BandwidthProbe::BandwidthProbe(size_t bytes) : buffer(bytes) {}

/// Bytes per second `threads` threads read, each over its slice once as
/// `streams` streams.
static double readRate(const PageBuffer &buffer, int threads, int streams) {
  size_t slice = buffer.size() / threads;
  std::vector<std::thread> workers;
  auto t0 = Clock::now();
  for (int t = 1; t < threads; ++t)
    workers.emplace_back(readOnce, buffer.data() + t * slice, slice, streams);
  readOnce(buffer.data(), slice, streams);
  for (std::thread &w : workers)
    w.join();
  return double(slice) * threads / seconds(t0, Clock::now());
}

double BandwidthProbe::measure(int threads) const {
  threads = std::max(threads, 1);
  double one = readRate(buffer, threads, 1);
  // Only the AVX-512 pass reads as two streams; elsewhere both are one.
  if (!__builtin_cpu_supports("avx512f"))
    return one;
  return std::max(one, readRate(buffer, threads, 2));
}

double BandwidthProbe::readNext(size_t bytes, const OnThreads &onThreads) {
  bytes = std::min(bytes, buffer.size()) / 64 * 64;
  if (next + bytes > buffer.size())
    next = 0;
  const char *p = buffer.data() + next;
  next += bytes;
  auto t0 = Clock::now();
  onThreads([&](int index, int count) {
    size_t slice = bytes / size_t(count) / 64 * 64;
    // Two streams where the core has AVX-512; readOnce reads one elsewhere.
    readOnce(p + size_t(index) * slice, slice, 2);
  });
  return seconds(t0, Clock::now());
}

static double medianOf(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

TimingStats
mlir::squant::timeWindows(const std::function<void(int)> &call,
                          const BandwidthProbe &probe, int threads, int windows,
                          double windowSeconds,
                          const std::function<void()> &untimed,
                          const std::function<double(int)> &paired) {
  windows = std::max(windows, 1);
  call(0); // warm-up: code, page tables
  auto t0 = Clock::now();
  if (untimed)
    untimed();
  call(1);
  double once = std::max(seconds(t0, Clock::now()), 1e-6);
  int reps = std::max(1, std::min(64, int(windowSeconds / once)));
  std::vector<double> times, bw, fractions, reads;
  int next = 2;
  for (int w = 0; w < windows; ++w) {
    bw.push_back(probe.measure(threads));
    if (untimed || paired) { // each call timed alone
      std::vector<double> callTimes, readTimes;
      double sum = 0;
      for (int r = 0; r < reps; ++r) {
        if (untimed)
          untimed();
        if (paired)
          readTimes.push_back(paired(next));
        auto start = Clock::now();
        call(next++);
        callTimes.push_back(seconds(start, Clock::now()));
        sum += callTimes.back();
      }
      times.push_back(sum / reps);
      if (paired) {
        reads.push_back(medianOf(readTimes));
        fractions.push_back(reads.back() / medianOf(callTimes));
      }
      continue;
    }
    auto start = Clock::now();
    for (int r = 0; r < reps; ++r)
      call(next++);
    times.push_back(seconds(start, Clock::now()) / reps);
  }
  std::sort(times.begin(), times.end());
  std::sort(bw.begin(), bw.end());
  TimingStats stats{times[windows / 2], times.front(), times.back(),
                    bw[windows / 2]};
  if (paired) {
    stats.pairedFraction = medianOf(fractions);
    stats.pairedSeconds = medianOf(reads);
  }
  return stats;
}

CacheEvictor::CacheEvictor(size_t bytes) : buffer(bytes) {}

void CacheEvictor::operator()() {
  ++round;
  char *p = buffer.data();
  for (size_t i = 0; i < buffer.size(); i += 64)
    p[i] = static_cast<char>(p[i] + round);
}
