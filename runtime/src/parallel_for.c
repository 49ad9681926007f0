/*===- parallel_for.c - The parallel loop of generated code ---------------===//
 *
 * squant_rt_parallel_for runs the outlined row loop of squant's generated
 * code (squant-parallel-to-runtime) on process-wide pools, one per thread
 * count, created on first use and kept until the process exits: generated
 * code has no pool argument to receive. These pools and the processor
 * count cached below are the library's only mutable globals; the kernels
 * never use them. Their workers spin briefly
 * before sleeping (pool.c), which is what makes threads pay off for calls
 * of a fraction of a millisecond: a futex wake-up costs tens of
 * microseconds on a virtual machine.
 *
 *===----------------------------------------------------------------------===*/

#include "pool.h"

#include <pthread.h>
#include <unistd.h>

#define SQUANT_PARALLEL_MAX_THREADS 256

typedef struct {
  squant_rt_pool *pool;
  int busy; /* one call at a time; others run on their own thread */
} SharedPool;

static SharedPool shared[SQUANT_PARALLEL_MAX_THREADS + 1];
static pthread_mutex_t sharedLock = PTHREAD_MUTEX_INITIALIZER;

typedef struct {
  squant_rt_parallel_body body;
  void *ctx;
  int64_t count;
} Loop;

/* Thread `index` of `threads` runs a contiguous share of the iterations. */
static void runShare(void *arg, int32_t index, int32_t threads) {
  const Loop *loop = (const Loop *)arg;
  int64_t begin = loop->count * index / threads;
  int64_t end = loop->count * (index + 1) / threads;
  if (begin < end)
    loop->body(loop->ctx, begin, end);
}

static squant_rt_pool *sharedPool(int32_t threads) {
  squant_rt_pool *pool = __atomic_load_n(&shared[threads].pool, __ATOMIC_ACQUIRE);
  if (pool)
    return pool;
  pthread_mutex_lock(&sharedLock);
  pool = shared[threads].pool;
  if (!pool && squant_rt_pool_create(threads, &pool) == SQUANT_RT_OK)
    __atomic_store_n(&shared[threads].pool, pool, __ATOMIC_RELEASE);
  pthread_mutex_unlock(&sharedLock);
  return pool;
}

void squant_rt_parallel_for(squant_rt_parallel_body body, void *ctx,
                            int64_t count, int32_t threads) {
  if (!body || count <= 0)
    return;
  /* No more threads than iterations or processors: spinning workers
   * beyond the cores would only take turns. The processor count is read
   * once (sysconf parses /sys: 1.7 us a call here, a sixth of a small
   * GEMV). */
  static long onlineCpus; /* 0: not read yet */
  long cpus = __atomic_load_n(&onlineCpus, __ATOMIC_RELAXED);
  if (cpus == 0) {
    cpus = sysconf(_SC_NPROCESSORS_ONLN);
    __atomic_store_n(&onlineCpus, cpus, __ATOMIC_RELAXED);
  }
  if (cpus >= 1 && threads > cpus)
    threads = (int32_t)(cpus < SQUANT_PARALLEL_MAX_THREADS ? cpus : SQUANT_PARALLEL_MAX_THREADS);
  if (threads > SQUANT_PARALLEL_MAX_THREADS)
    threads = SQUANT_PARALLEL_MAX_THREADS;
  if (threads > count)
    threads = (int32_t)count;
  Loop loop = {body, ctx, count};
  squant_rt_pool *pool = threads > 1 ? sharedPool(threads) : NULL;
  /* A nested or concurrent call finds the pool busy and runs on its own
   * thread: the iterations are independent, so only the speed differs. */
  if (!pool || __atomic_exchange_n(&shared[threads].busy, 1, __ATOMIC_ACQUIRE)) {
    body(ctx, 0, count);
    return;
  }
  squant_rt_pool_run(pool, runShare, &loop);
  __atomic_store_n(&shared[threads].busy, 0, __ATOMIC_RELEASE);
}
