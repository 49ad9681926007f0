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
int main(int argc,char**argv){
  size_t total=1000ul<<20; size_t sz=atol(argv[1]); int rounds=atoi(argv[2]);
  char*buf=mmap(0,total+(2<<20),PROT_READ|PROT_WRITE,MAP_PRIVATE|MAP_ANONYMOUS,-1,0); buf=(char*)(((unsigned long)buf+(2<<20)-1)&~((2ul<<20)-1)); madvise(buf,total,MADV_HUGEPAGE); memset(buf,1,total);
  long copies=total/sz; 
  for(int r=0;r<rounds;r++){
    double t0=now(); probe2(buf,total); double tl=now()-t0;
    double*t=malloc(copies*8); for(long c=0;c<copies;c++){double a=now(); probe2(buf+c*sz,sz); t[c]=now()-a;}
    double sum=0; for(long c=0;c<copies;c++)sum+=t[c]; qsort(t,copies,8,cmp);
    printf("long pass %.2f GB/s | %zu-byte passes: med %.2f GB/s, total %.2f GB/s\n",total/tl/1e9,sz,sz/t[copies/2]/1e9,copies*sz/sum/1e9);
  }
}
