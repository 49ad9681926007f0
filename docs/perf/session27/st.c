// cold stream rate vs compute per line. ./st ops_per_line [pattern] ; 1 thread; copies over 1000 MiB
#define _GNU_SOURCE
#include <immintrin.h>
#include <unistd.h>
#include <sys/syscall.h>
typedef struct{unsigned char palette,start;unsigned char r[14];unsigned short colsb[16];unsigned char rows[16];} Cfg;
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
static int cmp(const void*a,const void*b){double x=*(double*)a,y=*(double*)b;return x<y?-1:x>y;}
static int STORES=0, AMX=0; static long AHEAD=2048; static int MODE=0; static long BURST=4;
static long FAR=3072;
static _Alignas(64) char ring[8192];
__attribute__((noinline)) static __m512i pass(const char*p,size_t tileBytes,size_t groupBytes,long tiles,int ops,__m512i acc){
  const __m512i k1=_mm512_set1_epi32(0x12345); long ln=0;
  for(long t=0;t<tiles;t+=2){
    const char*run=p+t*tileBytes;
    for(size_t g=0;g<tileBytes;g+=groupBytes){
      for(int i=0;i<2;i++){
        const char*grp=run+i*tileBytes+g;
        if(MODE==1) for(size_t l=0;l<groupBytes;l+=64) _mm_prefetch(grp+BURST*groupBytes+l,_MM_HINT_T1);
        if(MODE==3) for(size_t l=0;l<groupBytes;l+=64) _mm_prefetch(grp+BURST*groupBytes+l,_MM_HINT_T2);
        for(size_t l=0;l<groupBytes;l+=64){
          const char*near=grp+l+AHEAD, *far=grp+l+FAR;
          if(AHEAD)_mm_prefetch(near,_MM_HINT_T0);if(FAR&&MODE==0)_mm_prefetch(far,_MM_HINT_T1); if(MODE==2){_mm_prefetch(far,_MM_HINT_T1);_mm_prefetch(grp+l+2*FAR,_MM_HINT_T2);}
          __m512i v=_mm512_loadu_si512(grp+l);
          for(int o=0;o<ops;o++) v=_mm512_ternarylogic_epi32(v,k1,v,0x96);
          acc=_mm512_add_epi32(acc,v);
          for(int q=0;q<STORES;q++){ _mm512_store_si512(ring+((ln*4+q)&63)*64, _mm512_and_si512(_mm512_srli_epi32(v,2*q),k1)); }
          if(AMX && (ln&15)==15){ _tile_loadd(1, ring+((ln>>4)&3)*1024, 64); _tile_dpbusd(4,0,1);} 
          ln++;
        }
      }
    }
  }
  return acc;
}
int main(int argc,char**argv){
  int ops=atoi(argv[1]); if(argc>2)AHEAD=atol(argv[2]); if(argc>3)FAR=atol(argv[3]); if(getenv("STORES"))STORES=atoi(getenv("STORES")); if(getenv("AMX"))AMX=atoi(getenv("AMX")); if(getenv("MODE"))MODE=atoi(getenv("MODE")); if(getenv("BURST"))BURST=atol(getenv("BURST")); size_t groupBytes=1152, tileBytes=32*1152; long tiles=256; // 4096x4096 int4
  size_t sz=tileBytes*tiles; long copies=(1000l<<20)/sz+1;
  char*buf=mmap(0,sz*copies,PROT_READ|PROT_WRITE,MAP_PRIVATE|MAP_ANONYMOUS,-1,0); madvise(buf,sz*copies,MADV_HUGEPAGE); memset(buf,1,sz*copies);
  if(AMX){ if(syscall(SYS_arch_prctl,0x1023,18)){puts("no amx");return 1;} Cfg c; memset(&c,0,sizeof c); c.palette=1; for(int t=0;t<8;t++){c.colsb[t]=64;c.rows[t]=t==1?16:5;} _tile_loadconfig(&c); _tile_zero(0); _tile_zero(4);}
  int reps=300; double*t=malloc(reps*8); __m512i acc=_mm512_setzero_si512();
  // hot rate
  double th=1e9; for(int i=0;i<50;i++){double t0=now(); acc=pass(buf,tileBytes,groupBytes,8,ops,acc); double d=now()-t0; if(d<th)th=d;}
  for(int i=0;i<reps;i++){double t0=now(); acc=pass(buf+(i%copies)*sz,tileBytes,groupBytes,tiles,ops,acc); t[i]=now()-t0;}
  qsort(t,reps,8,cmp);
  printf("S%d X%d M%d B%ld A%5ld F%5ld ops %3d: hot %.1f GB/s (%.2f ns/line)  cold med %.2f GB/s  (chk %d)\n",STORES,AMX,MODE,BURST,AHEAD,FAR,ops, 8*tileBytes/th/1e9, th/(8*tileBytes/64)*1e9, sz/t[reps/2]/1e9,_mm512_reduce_add_epi32(acc));
}
