/*===- pool.h - Running work on a caller-owned pool ----------------*- C -*-===*/

#ifndef SQUANT_RUNTIME_POOL_H
#define SQUANT_RUNTIME_POOL_H

#include "squant/runtime/squant_rt.h"

/* squant_rt_pool_parallel without its check: fn is not NULL. */
void squant_rt_pool_run(squant_rt_pool *pool, squant_rt_pool_task fn,
                        void *arg);

/* The threads squant_rt_pool_run runs fn on (1 for a NULL pool). */
int32_t squant_rt_pool_threads(const squant_rt_pool *pool);

/* Bytes of scratch each thread of a pool owns (allocated with the pool). */
#define SQUANT_RT_POOL_SCRATCH ((size_t)1 << 20)

/* Thread `index`'s scratch (SQUANT_RT_POOL_SCRATCH bytes, 64-byte aligned),
 * for the duration of a call that runs on the pool; NULL for a NULL pool. */
float *squant_rt_pool_scratch(squant_rt_pool *pool, int32_t index);

#endif /* SQUANT_RUNTIME_POOL_H */
