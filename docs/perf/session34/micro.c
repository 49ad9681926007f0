#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#define GR 14
#define PS 400
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+1e-9*t.tv_nsec;}
static inline __attribute__((always_inline)) void
microTile(const float *panel, long ps, const float *xt, long mp,
          long kc, float *ct, long mc, const int mw, int first) {
  __m512 acc[GR][2];
  for (int r = 0; r < GR; ++r)
    for (int j = 0; j < mw; ++j)
      acc[r][j] = first ? _mm512_setzero_ps() : _mm512_loadu_ps(ct + r * mc + 16 * j);
#pragma clang loop unroll_count(UNROLL)
  for (long c = 0; c < kc; ++c) {
    __m512 x0 = _mm512_loadu_ps(xt + c * mp);
    __m512 x1 = mw > 1 ? _mm512_loadu_ps(xt + c * mp + 16) : x0;
    for (int r = 0; r < GR; ++r) {
      __m512 wv = _mm512_set1_ps(panel[r * ps + c]);
      acc[r][0] = _mm512_fmadd_ps(wv, x0, acc[r][0]);
      if (mw > 1) acc[r][1] = _mm512_fmadd_ps(wv, x1, acc[r][1]);
    }
  }
  for (int r = 0; r < GR; ++r)
    for (int j = 0; j < mw; ++j)
      _mm512_storeu_ps(ct + r * mc + 16 * j, acc[r][j]);
}
__attribute__((noinline)) void run(const float*panel,long ps,const float*xt,long kc,float*ct,int nslice,long xsl){
  for(int s=0;s<nslice;s++) microTile(panel,PS,xt+s*xsl,32,kc,ct+s*GR*32,32,2,0);
}
int main(int argc,char**argv){
  long kc=atol(argv[1]); int nslice=atoi(argv[2]); long ps=PS;
  float*panel=aligned_alloc(64,GR*ps*4+64); float*xt=aligned_alloc(64,nslice*kc*32*4); float*ct=aligned_alloc(64,nslice*GR*32*4);
  for(long i=0;i<GR*ps;i++)panel[i]=1e-3f; for(long i=0;i<nslice*kc*32;i++)xt[i]=1e-3f; for(long i=0;i<nslice*GR*32;i++)ct[i]=0;
  long reps=2000000000L/(kc*nslice*GR*32*2);
  for(int t=0;t<3;t++){double t0=now(); for(long r=0;r<reps;r++) run(panel,ps,xt,kc,ct,nslice,kc*32); double dt=now()-t0;
  printf("kc=%ld slices=%d: %.1f GFLOP/s\n",kc,nslice,reps*(double)kc*nslice*GR*32*2/dt/1e9);}
  return ct[5]>1e30;
}
