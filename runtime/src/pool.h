/*===- pool.h - Running work on a caller-owned pool ----------------*- C -*-===*/

#ifndef SQUANT_RUNTIME_POOL_H
#define SQUANT_RUNTIME_POOL_H

#include "squant/runtime/squant_rt.h"

/* Work item `index` of `count`. */
typedef void (*squant_rt_pool_fn)(void *arg, int32_t index, int32_t count);

/* Runs fn(arg, i, count) for i in [0, count) on the pool's threads (the
 * caller runs index 0) and returns when all are done. A NULL pool runs
 * fn(arg, 0, 1) on the caller. */
void squant_rt_pool_run(squant_rt_pool *pool, squant_rt_pool_fn fn, void *arg);

/* The threads squant_rt_pool_run runs fn on (1 for a NULL pool). */
int32_t squant_rt_pool_threads(const squant_rt_pool *pool);

/* Bytes of scratch each thread of a pool owns (allocated with the pool). */
#define SQUANT_RT_POOL_SCRATCH ((size_t)1 << 20)

/* Thread `index`'s scratch (SQUANT_RT_POOL_SCRATCH bytes, 64-byte aligned),
 * for the duration of a call that runs on the pool; NULL for a NULL pool. */
float *squant_rt_pool_scratch(squant_rt_pool *pool, int32_t index);

#endif /* SQUANT_RUNTIME_POOL_H */
