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
#define G 128
#define KB 8
#ifndef D
#define D 2
#endif
/* per (n-tile, K block of KB groups): A[KB] in L1; for each of 24 m-tiles: acc regs loaded from out, KB TDPs + epilogues, stored. */
__attribute__((noinline)) void blockRun(const uint16_t *A, const uint16_t *B, long bStride, const float *s, float *buf, float *out) {
  for (int m = 0; m < 24; ++m) {
    __m512 acc[16];
    float *o = out + m * 256;
    for (int r = 0; r < 16; ++r) acc[r] = _mm512_loadu_ps(o + 16 * r);
    const uint16_t *b = B + m * bStride;
    for (int g = 0; g < KB + D; ++g) {
      if (g < KB) {
        _tile_zero(0); _tile_loadd(4, A + g*512, 64); _tile_loadd(6, b + g*512, 64); _tile_dpbf16ps(0, 4, 6);
        _tile_stored(0, buf + (g % 8) * 256, 64);
      }
      if (g >= D) {
        int h = g - D;
        for (int r = 0; r < 16; ++r)
          acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(s[r * G + h]), _mm512_loadu_ps(buf + (h % 8) * 256 + 16 * r), acc[r]);
      }
    }
    for (int r = 0; r < 16; ++r) _mm512_storeu_ps(o + 16*r, acc[r]);
  }
}
int main(){
  syscall(SYS_arch_prctl, 0x1023, 18);
  Cfg c; memset(&c,0,sizeof c); c.palette=1; for(int t=0;t<8;t++){c.colsb[t]=64;c.rows[t]=16;} _tile_loadconfig(&c);
  uint16_t *A = aligned_alloc(64, 16*KB*1024), *B = aligned_alloc(64, 24*G*1024);
  for (long i=0;i<16*KB*512;i++) A[i]=0x3f80; for(long i=0;i<24*G*512;i++) B[i]=0x3f80;
  float *s = aligned_alloc(64, 16*G*4); for(int i=0;i<16*G;i++) s[i]=1e-3f;
  float *buf = aligned_alloc(64, 16384), *out = aligned_alloc(64, 24*1024*4);
  memset(out,0,24*1024*4);
  long reps = 3000;
  for (int t=0;t<3;t++){
    double t0=now();
    /* reps n-tiles, each over G/KB K blocks (B from L2: 24 m-tiles x KB groups = 192 KB per block) */
    for (long r=0;r<reps;r++) for (int kb=0; kb<G; kb+=KB) blockRun(A + (r%16)*0, B + kb*512, G*512, s + kb, buf, out);
    double dt=now()-t0; double tdps=(double)reps*24*G;
    printf("D=%d: %.1f cycles/TDP, real GFLOP/s equiv %.1f\n", D, dt*3.74e9/tdps, tdps*8192*2/3/dt/1e9);
  }
  return out[3] > 1e30;
}
