#include "squant/runtime/squant_rt.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+1e-9*t.tv_nsec;}
static int cmpd(const void*a,const void*b){double x=*(double*)a,y=*(double*)b;return x<y?-1:x>y;}
int main(int argc,char**argv){
  int64_t n=4096,k=4096,m=argc>1?atoi(argv[1]):128,gs=argc>2?atoi(argv[2]):128; int bits=4;
  int isa=argc>3?atoi(argv[3]):SQUANT_RT_ISA_AVX512;
  int8_t*codes=malloc(n*k); for(int64_t i=0;i<n*k;i++) codes[i]=rand()&15;
  size_t ps=squant_rt_packed_size(n,k,bits); uint8_t*packed=aligned_alloc(64,(ps+63)/64*64);
  squant_rt_pack_block32(codes,n,k,bits,packed,ps);
  float*sc=malloc(n*k/gs*4),*bi=malloc(n*k/gs*4);
  for(int64_t i=0;i<n*k/gs;i++){sc[i]=0.01f*(1+rand()%7);bi[i]=-0.05f;}
  squant_rt_qweight w={SQUANT_RT_LAYOUT_BLOCK32_V1,SQUANT_RT_FORM_FMA,bits,0,n,k,gs,packed,sc,bi,0,0,0};
  float*x=malloc(m*k*4),*y=malloc(m*n*4); for(int64_t i=0;i<m*k;i++) x[i]=(rand()%1000)/500.0f-1;
  size_t ws=squant_rt_qgemm_workspace_size(m,&w)+(8u<<20); void*wk=aligned_alloc(64,(ws+63)/64*64);
  squant_rt_options o={isa,0,0};
  double t[15];
  for(int r=0;r<15;r++){double t0=now(); int st=squant_rt_qgemm(x,m,k,&w,y,n,wk,ws,&o); t[r]=now()-t0; if(st){printf("status %d\n",st);return 1;}}
  qsort(t,15,sizeof(double),cmpd);
  printf("M=%ld g=%ld isa=%d: %.3f ms  %.1f GFLOP/s\n",m,gs,isa,t[7]*1e3,2.0*m*n*k/t[7]/1e9);
}
