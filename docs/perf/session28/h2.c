// alternating cold harness: ./h2 threads n k bits cfg... ; cfg = "P" (probe2) or "isa,flags"; per call the configs alternate, each on the next cold copy
#define _GNU_SOURCE
#include "squant/runtime/squant_rt.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <immintrin.h>
static long long sinkv;
static inline __m512i rl(const char*p,size_t i,size_t end,int far,__m512i acc){for(;i+64<=end;i+=64){_mm_prefetch(p+i+2048,_MM_HINT_T0);if(far)_mm_prefetch(p+i+4096,_MM_HINT_T1);acc=_mm512_add_epi64(acc,_mm512_loadu_si512(p+i));}return acc;}
static void probe2(const char*p,size_t n){__m512i acc=_mm512_setzero_si512();size_t half=n/2/1024*1024;for(size_t c=0;c<half;c+=1024){acc=rl(p,c,c+1024,1,acc);acc=rl(p+half,c,c+1024,1,acc);}acc=rl(p,2*half,n,0,acc);sinkv+=_mm512_reduce_add_epi64(acc);}
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
static int cmp(const void*a,const void*b){double x=*(double*)a,y=*(double*)b;return x<y?-1:x>y;}
static unsigned long long s=88172645463325252ull; static unsigned r(void){s^=s<<13;s^=s>>7;s^=s<<17;return (unsigned)s;}
int main(int argc,char**argv){
  int th=atoi(argv[1]); long n=atol(argv[2]),k=atol(argv[3]); int bits=atoi(argv[4]); int nc=argc-5;
  int reps=getenv("REPS")?atoi(getenv("REPS")):200; long coldMiB=getenv("COLD")?atol(getenv("COLD")):1000; long gs=getenv("GS")?atol(getenv("GS")):128;
  int8_t*codes=malloc(n*k); float*sc=malloc(n*k/gs*4),*bi=malloc(n*k/gs*4),*x=malloc(k*4),*y=getenv("YOFF")?(float*)((char*)aligned_alloc(64,n*4+64)+atoi(getenv("YOFF"))):malloc(n*4);
  for(long i=0;i<n*k;i++)codes[i]=(int8_t)(r()%(1<<bits));
  for(long i=0;i<n*k/gs;i++){sc[i]=0.01f+(r()%100)*1e-4f;bi[i]=-0.05f+(r()%100)*1e-3f;}
  for(long i=0;i<k;i++)x[i]=((int)(r()%2001)-1000)*1e-3f;
  size_t sz=squant_rt_packed_size_tile16_v2(n,k,bits,gs); long copies=(coldMiB<<20)/sz+1; size_t stride=(sz+4095)&~4095ul;
  uint8_t*buf=mmap(0,stride*copies+(2<<20),PROT_READ|PROT_WRITE,MAP_PRIVATE|MAP_ANONYMOUS,-1,0); madvise(buf,stride*copies,MADV_HUGEPAGE);
  if(squant_rt_pack_tile16_v2(codes,sc,bi,n,k,bits,gs,buf,sz)){puts("pack fail");return 1;}
  for(long c=1;c<copies;c++)memcpy(buf+c*stride,buf,sz);
  squant_rt_qweight w={0};w.layout=SQUANT_RT_LAYOUT_TILE16_V2;w.form=SQUANT_RT_FORM_FMA;w.bits=bits;w.n=n;w.k=k;w.group_size=gs;w.codes=buf;
  size_t wsz=squant_rt_qgemm_workspace_size(1,&w);void*ws=aligned_alloc(64,(wsz+63)&~63ul);
  squant_rt_pool*pool=0; if(th>1)squant_rt_pool_create(th,&pool);
  int isa[16]; unsigned fl[16]; int isP[16];
  for(int c=0;c<nc;c++){isP[c]=argv[5+c][0]=='P'; if(!isP[c]) sscanf(argv[5+c],"%d,%u",&isa[c],&fl[c]);}
  double*t=malloc(reps*8*nc); long cp=0;
  for(int i=0;i<reps;i++) for(int c=0;c<nc;c++){ w.codes=buf+(cp++%copies)*stride; squant_rt_options o={isa[c],pool,fl[c]};
    double t0=now(); if(isP[c]) probe2((const char*)w.codes,sz); else if(squant_rt_qgemm(x,1,k,&w,y,n,ws,wsz,&o)){puts("fail");return 1;} t[c*reps+i]=now()-t0;}
  double base=0;
  for(int c=0;c<nc;c++){qsort(t+c*reps,reps,8,cmp); double g=sz/t[c*reps+reps/2]/1e9; if(!c)base=g; printf("%dt %ldx%ld b%d %-6s med %7.1f us  %6.2f GB/s  ratio %.3f\n",th,n,k,bits,argv[5+c],t[c*reps+reps/2]*1e6,g,g/base);}
  return 0;}
