// What the scratch harnesses of sessions 27 and 28 share: the benchmark probe's
// two-stream pass (probe2), a clock, a comparison for qsort, a generator.
#define _GNU_SOURCE
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
static long long sinkv;
static inline __m512i rl(const char*p,size_t i,size_t end,int far,__m512i acc){for(;i+64<=end;i+=64){_mm_prefetch(p+i+2048,_MM_HINT_T0);if(far)_mm_prefetch(p+i+4096,_MM_HINT_T1);acc=_mm512_add_epi64(acc,_mm512_loadu_si512(p+i));}return acc;}
static void probe2(const char*p,size_t n){__m512i acc=_mm512_setzero_si512();size_t half=n/2/1024*1024;for(size_t c=0;c<half;c+=1024){acc=rl(p,c,c+1024,1,acc);acc=rl(p+half,c,c+1024,1,acc);}acc=rl(p,2*half,n,0,acc);sinkv+=_mm512_reduce_add_epi64(acc);}
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
static int cmp(const void*a,const void*b){double x=*(double*)a,y=*(double*)b;return x<y?-1:x>y;}
static unsigned long long s=88172645463325252ull; static unsigned r(void){s^=s<<13;s^=s>>7;s^=s<<17;return (unsigned)s;}
