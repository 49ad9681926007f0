/*===- pool.c - A caller-owned pool of worker threads ---------------------===//
 *
 * The only allocation the runtime makes, at the caller's request: the
 * workers and each thread's scratch (SQUANT_RT_POOL_SCRATCH bytes). A pool
 * runs one call at a time: calls on different pools are independent.
 *
 *===----------------------------------------------------------------------===*/

#include "pool.h"

#include <immintrin.h>
#include <pthread.h>
#include <stdlib.h>

/* Spin this many pause iterations (tens of microseconds) before sleeping:
 * a kernel call is often shorter than a futex wake-up. */
#define SQUANT_POOL_SPIN 20000

struct squant_rt_pool {
  int32_t threads;
  pthread_t *workers;
  pthread_mutex_t mutex;
  pthread_cond_t start, done;
  uint64_t generation;
  int32_t pending;
  int shutdown;
  squant_rt_pool_task fn;
  void *arg;
  char *scratch; /* threads x SQUANT_RT_POOL_SCRATCH bytes, 64-byte aligned */
};

typedef struct {
  squant_rt_pool *pool;
  int32_t index;
} WorkerArg;

static void *workerMain(void *opaque) {
  WorkerArg *wa = (WorkerArg *)opaque;
  squant_rt_pool *pool = wa->pool;
  int32_t index = wa->index;
  free(wa);
  uint64_t seen = 0;
  for (;;) {
    for (int spin = 0; spin < SQUANT_POOL_SPIN &&
                       __atomic_load_n(&pool->generation, __ATOMIC_ACQUIRE) == seen &&
                       !__atomic_load_n(&pool->shutdown, __ATOMIC_ACQUIRE);
         ++spin)
      _mm_pause();
    pthread_mutex_lock(&pool->mutex);
    while (!pool->shutdown && pool->generation == seen)
      pthread_cond_wait(&pool->start, &pool->mutex);
    if (pool->shutdown) {
      pthread_mutex_unlock(&pool->mutex);
      return NULL;
    }
    seen = pool->generation;
    squant_rt_pool_task fn = pool->fn;
    void *arg = pool->arg;
    pthread_mutex_unlock(&pool->mutex);
    fn(arg, index, pool->threads);
    if (__atomic_sub_fetch(&pool->pending, 1, __ATOMIC_ACQ_REL) == 0) {
      pthread_mutex_lock(&pool->mutex);
      pthread_cond_signal(&pool->done);
      pthread_mutex_unlock(&pool->mutex);
    }
  }
}

squant_rt_status squant_rt_pool_create(int32_t threads, squant_rt_pool **out) {
  if (!out || threads < 1 || threads > 1024)
    return SQUANT_RT_INVALID_ARGUMENT;
  squant_rt_pool *pool = (squant_rt_pool *)calloc(1, sizeof(*pool));
  if (!pool)
    return SQUANT_RT_INVALID_ARGUMENT;
  pool->threads = threads;
  pool->scratch = (char *)aligned_alloc(64, (size_t)threads * SQUANT_RT_POOL_SCRATCH);
  if (!pool->scratch) {
    free(pool);
    return SQUANT_RT_INVALID_ARGUMENT;
  }
  pthread_mutex_init(&pool->mutex, NULL);
  pthread_cond_init(&pool->start, NULL);
  pthread_cond_init(&pool->done, NULL);
  pool->workers = (pthread_t *)calloc((size_t)threads, sizeof(pthread_t));
  for (int32_t i = 1; i < threads; ++i) {
    WorkerArg *wa = (WorkerArg *)malloc(sizeof(WorkerArg));
    wa->pool = pool;
    wa->index = i;
    pthread_create(&pool->workers[i], NULL, workerMain, wa);
  }
  *out = pool;
  return SQUANT_RT_OK;
}

void squant_rt_pool_destroy(squant_rt_pool *pool) {
  if (!pool)
    return;
  pthread_mutex_lock(&pool->mutex);
  pool->shutdown = 1;
  pthread_cond_broadcast(&pool->start);
  pthread_mutex_unlock(&pool->mutex);
  for (int32_t i = 1; i < pool->threads; ++i)
    pthread_join(pool->workers[i], NULL);
  pthread_cond_destroy(&pool->start);
  pthread_cond_destroy(&pool->done);
  pthread_mutex_destroy(&pool->mutex);
  free(pool->workers);
  free(pool->scratch);
  free(pool);
}

int32_t squant_rt_pool_threads(const squant_rt_pool *pool) {
  return pool ? pool->threads : 1;
}

float *squant_rt_pool_scratch(squant_rt_pool *pool, int32_t index) {
  if (!pool || index < 0 || index >= pool->threads)
    return NULL;
  return (float *)(pool->scratch + (size_t)index * SQUANT_RT_POOL_SCRATCH);
}

void squant_rt_pool_run(squant_rt_pool *pool, squant_rt_pool_task fn,
                        void *arg) {
  if (!pool || pool->threads == 1) {
    fn(arg, 0, 1);
    return;
  }
  pthread_mutex_lock(&pool->mutex);
  pool->fn = fn;
  pool->arg = arg;
  __atomic_store_n(&pool->pending, pool->threads - 1, __ATOMIC_RELEASE);
  __atomic_add_fetch(&pool->generation, 1, __ATOMIC_ACQ_REL);
  pthread_cond_broadcast(&pool->start);
  pthread_mutex_unlock(&pool->mutex);
  fn(arg, 0, pool->threads);
  for (int spin = 0; spin < SQUANT_POOL_SPIN &&
                     __atomic_load_n(&pool->pending, __ATOMIC_ACQUIRE) > 0;
       ++spin)
    _mm_pause();
  pthread_mutex_lock(&pool->mutex);
  while (__atomic_load_n(&pool->pending, __ATOMIC_ACQUIRE) > 0)
    pthread_cond_wait(&pool->done, &pool->mutex);
  pthread_mutex_unlock(&pool->mutex);
}

squant_rt_status squant_rt_pool_parallel(squant_rt_pool *pool,
                                         squant_rt_pool_task task, void *arg) {
  if (!task)
    return SQUANT_RT_INVALID_ARGUMENT;
  squant_rt_pool_run(pool, task, arg);
  return SQUANT_RT_OK;
}
