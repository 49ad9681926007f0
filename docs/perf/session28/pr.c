// access-pattern probe: ./pr pattern chunk near far ; pattern 0 = two halves (probe), 1 = tiles of T bytes in runs of 2, 2 = one stream
#define _GNU_SOURCE
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
static int cmp(const void*a,const void*b){double x=*(double*)a,y=*(double*)b;return x<y?-1:x>y;}
static size_t T=36864, half; static int PAT, OPS;
static inline const char* addr(const char*b,int s,size_t pos){
  if(PAT==0) return b+s*half+pos;
  if(PAT==2) return b+pos; // s ignored (one stream: caller uses s=0 only)
  size_t run=pos/T, off=pos-run*T; return b+(2*run+s)*T+off;
}
typedef struct{const char*p,*end;} Cur;
static inline void adv(Cur*c){c->p+=64; if(c->p==c->end && PAT==1){c->p+=T; c->end=c->p+T;}}
static inline Cur mk(const char*b,int s,size_t pos){Cur c; c.p=addr(b,s,pos); if(PAT==1){size_t run=pos/T; c.end=b+(2*run+s)*T+T;} else c.end=0; return c;}
__attribute__((noinline)) static __m512i pass(const char*b,size_t sz,size_t C,long A,long F,__m512i acc){
  const __m512i k1=_mm512_set1_epi32(0x12345); int ns=PAT==2?1:2; size_t len=sz/ns; Cur r[2],a[2],f[2];
  for(int s=0;s<ns;s++){r[s]=mk(b,s,0);a[s]=mk(b,s,A);f[s]=mk(b,s,F);}
  for(size_t c=0;c<len;c+=C){
    size_t e=c+C<len?c+C:len;
    for(int s=0;s<ns;s++) for(size_t p=c;p<e;p+=64){
      if(A&&p+A<len)_mm_prefetch(a[s].p,_MM_HINT_T0);
      if(F&&p+F<len)_mm_prefetch(f[s].p,_MM_HINT_T1);
      {__m512i v=_mm512_loadu_si512(r[s].p); for(int o=0;o<OPS;o++) v=_mm512_ternarylogic_epi32(v,k1,v,0x96); acc=_mm512_add_epi64(acc,v);}
      adv(&r[s]);adv(&a[s]);adv(&f[s]);
    }
  }
  return acc;
}
int main(int argc,char**argv){
  int nc=argc-1; int P[16],O[16]; size_t Cc[16]; long Aa[16],Ff[16];
  for(int i=0;i<nc;i++) sscanf(argv[i+1],"%d,%zu,%ld,%ld,%d",&P[i],&Cc[i],&Aa[i],&Ff[i],&O[i]);
  if(getenv("T"))T=atol(getenv("T"));
  size_t sz=T*256; half=sz/2; long copies=(1000l<<20)/sz+1;
  char*buf=mmap(0,sz*copies,PROT_READ|PROT_WRITE,MAP_PRIVATE|MAP_ANONYMOUS,-1,0); madvise(buf,sz*copies,MADV_HUGEPAGE); memset(buf,1,sz*copies);
  int reps=getenv("REPS")?atoi(getenv("REPS")):200; double*t=malloc(reps*8*nc); __m512i acc=_mm512_setzero_si512();
  double th[16];
  for(int c=0;c<nc;c++){PAT=P[c];OPS=O[c];th[c]=1e9; for(int i=0;i<30;i++){double t0=now(); acc=pass(buf,T*8,Cc[c],Aa[c],Ff[c],acc); double d=now()-t0; if(d<th[c])th[c]=d;}}
  long cp=0;
  for(int i=0;i<reps;i++) for(int c=0;c<nc;c++){PAT=P[c];OPS=O[c]; double t0=now(); acc=pass(buf+(cp++%copies)*sz,sz,Cc[c],Aa[c],Ff[c],acc); t[c*reps+i]=now()-t0;}
  double base=0;
  for(int c=0;c<nc;c++){qsort(t+c*reps,reps,8,cmp); double g=sz/t[c*reps+reps/2]/1e9; if(!c)base=g;
  printf("%-22s hot %5.1f GB/s  cold med %6.2f GB/s  ratio %.3f\n",argv[c+1],T*8/th[c]/1e9,g,g/base);}
  printf("chk %lld\n",(long long)_mm512_reduce_add_epi64(acc));
}
