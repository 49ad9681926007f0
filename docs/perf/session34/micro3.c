#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#ifndef GR
#define GR 6
#endif
#ifndef MW
#define MW 4
#endif
#define PS 400
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+1e-9*t.tv_nsec;}
static inline __attribute__((always_inline)) void
microTile(const float *panel, const float *xt, long kc, float *ct) {
  __m512 acc[GR][MW];
  for (int r = 0; r < GR; ++r)
    for (int j = 0; j < MW; ++j)
      acc[r][j] = _mm512_loadu_ps(ct + r * 16*MW + 16 * j);
#pragma clang loop unroll_count(UNROLL)
  for (long c = 0; c < kc; ++c) {
    __m512 x[MW];
    for (int j = 0; j < MW; ++j) x[j] = _mm512_loadu_ps(xt + c * 16*MW + 16*j);
    for (int r = 0; r < GR; ++r) {
      __m512 wv = _mm512_set1_ps(panel[r * PS + c]);
      for (int j = 0; j < MW; ++j) acc[r][j] = _mm512_fmadd_ps(wv, x[j], acc[r][j]);
    }
  }
  for (int r = 0; r < GR; ++r)
    for (int j = 0; j < MW; ++j)
      _mm512_storeu_ps(ct + r * 16*MW + 16 * j, acc[r][j]);
}
__attribute__((noinline)) void run(const float*panel,const float*xt,long kc,float*ct,int nslice,long xsl){
  for(int s=0;s<nslice;s++) microTile(panel,xt+s*xsl,kc,ct+s*GR*16*MW);
}
int main(int argc,char**argv){
  long kc=atol(argv[1]); int nslice=atoi(argv[2]);
  float*panel=aligned_alloc(64,GR*PS*4+64); float*xt=aligned_alloc(64,nslice*kc*16*MW*4); float*ct=aligned_alloc(64,nslice*GR*16*MW*4);
  for(long i=0;i<GR*PS;i++)panel[i]=1e-3f; for(long i=0;i<nslice*kc*16*MW;i++)xt[i]=1e-3f; for(long i=0;i<nslice*GR*16*MW;i++)ct[i]=0;
  long reps=2000000000L/(kc*nslice*GR*16*MW*2);
  for(int t=0;t<3;t++){double t0=now(); for(long r=0;r<reps;r++) run(panel,xt,kc,ct,nslice,kc*16*MW); double dt=now()-t0;
  printf("GR=%d MW=%d kc=%ld slices=%d: %.1f GFLOP/s\n",GR,MW,kc,nslice,reps*(double)kc*nslice*GR*16*MW*2/dt/1e9);}
  return ct[5]>1e30;
}
