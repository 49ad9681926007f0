#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
typedef struct { uint8_t palette, startRow, reserved[14]; uint16_t colsb[16]; uint8_t rows[16]; } Cfg;
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+1e-9*t.tv_nsec;}
/* all operands in L1: A: 6 tiles, B: 2 tiles */
__attribute__((noinline)) long run(const uint16_t *A, const uint16_t *B, long iters) {
  long tdps = 0;
  _tile_zero(0); _tile_zero(1); _tile_zero(2); _tile_zero(3);
  for (long i = 0; i < iters; ++i) {
#if MODE == 0   /* current: per step B x2, then 3 parts: A x2 + 4 TDP */
    _tile_loadd(6, B, 64); _tile_loadd(7, B + 512, 64);
    for (int p = 0; p < 3; ++p) {
      _tile_loadd(4, A + p * 1024, 64); _tile_loadd(5, A + p * 1024 + 512, 64);
      _tile_dpbf16ps(0, 4, 6); _tile_dpbf16ps(1, 4, 7); _tile_dpbf16ps(2, 5, 6); _tile_dpbf16ps(3, 5, 7);
    }
    tdps += 12;
#elif MODE == 1  /* no A reloads within a step */
    _tile_loadd(6, B, 64); _tile_loadd(7, B + 512, 64);
    _tile_loadd(4, A, 64); _tile_loadd(5, A + 512, 64);
    for (int p = 0; p < 3; ++p) {
      _tile_dpbf16ps(0, 4, 6); _tile_dpbf16ps(1, 4, 7); _tile_dpbf16ps(2, 5, 6); _tile_dpbf16ps(3, 5, 7);
    }
    tdps += 12;
#elif MODE == 2  /* no loads at all */
    for (int p = 0; p < 3; ++p) {
      _tile_dpbf16ps(0, 4, 6); _tile_dpbf16ps(1, 4, 7); _tile_dpbf16ps(2, 5, 6); _tile_dpbf16ps(3, 5, 7);
    }
    tdps += 12;
#elif MODE == 3  /* C = 1 x 2, A parts in 3 regs (2,3,4), B 6,7: per step 2 B + 3 A loads, 6 TDPs; two weight tiles: twice */
    for (int wt = 0; wt < 2; ++wt) {
      _tile_loadd(6, B, 64); _tile_loadd(7, B + 512, 64);
      _tile_loadd(2, A + wt*512, 64); _tile_loadd(3, A + 1024 + wt*512, 64); _tile_loadd(4, A + 2048 + wt*512, 64);
      _tile_dpbf16ps(0, 2, 6); _tile_dpbf16ps(1, 2, 7);
      _tile_dpbf16ps(0, 3, 6); _tile_dpbf16ps(1, 3, 7);
      _tile_dpbf16ps(0, 4, 6); _tile_dpbf16ps(1, 4, 7);
    }
    tdps += 12;
#elif MODE == 4  /* 2x2 C, but the 3 parts of A for w0 / w1 alternate between regs 4,5 in a staggered order */
    _tile_loadd(6, B, 64); _tile_loadd(7, B + 512, 64);
    _tile_loadd(4, A, 64);
    _tile_dpbf16ps(0, 4, 6); _tile_dpbf16ps(1, 4, 7);
    _tile_loadd(5, A + 512, 64);
    _tile_dpbf16ps(2, 5, 6); _tile_dpbf16ps(3, 5, 7);
    _tile_loadd(4, A + 1024, 64);
    _tile_dpbf16ps(0, 4, 6); _tile_dpbf16ps(1, 4, 7);
    _tile_loadd(5, A + 1536, 64);
    _tile_dpbf16ps(2, 5, 6); _tile_dpbf16ps(3, 5, 7);
    _tile_loadd(4, A + 2048, 64);
    _tile_dpbf16ps(0, 4, 6); _tile_dpbf16ps(1, 4, 7);
    _tile_loadd(5, A + 2560, 64);
    _tile_dpbf16ps(2, 5, 6); _tile_dpbf16ps(3, 5, 7);
    tdps += 12;
#endif
  }
  return tdps;
}
int main(){
  syscall(SYS_arch_prctl, 0x1023, 18);
  Cfg c; memset(&c,0,sizeof c); c.palette=1; for(int t=0;t<8;t++){c.colsb[t]=64;c.rows[t]=16;} _tile_loadconfig(&c);
  uint16_t *A = aligned_alloc(64, 6*1024), *B = aligned_alloc(64, 2*1024);
  for (int i=0;i<3*1024;i++) A[i]=0x3f80; for (int i=0;i<1024;i++) B[i]=0x3f80;
  for (int r=0;r<3;r++){ double t0=now(); long n=run(A,B,200000); double dt=now()-t0; printf("MODE %d: %.1f cycles/TDP\n", MODE, dt*3.74e9/n); }
}
