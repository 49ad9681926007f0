// The alternating cold harness of sessions 28 and 29: ./h3 (or ./h4) threads
// n k bits cfg... ; per call the configurations alternate, each on the next
// cold copy: "P" the probe's two-stream pass over the copy (one thread),
// "P2" the same on the library's pool (each thread half the copy), "PD" P2
// over the next chunk of a separate 960 MiB buffer, "PC" P2 over all of that
// buffer, "PL" that buffer read by a thread started per pass (as the
// benchmark's window probe), "PT" the copy read so, "Q" / "R" pure reads
// (pr.c's pattern 1; the kernel's loop order), "S" R then a 16-row call,
// "isa,flags" a GEMV, "vN" variant N of the VNNI GEMV (variants.sh; "3,1"
// runs v0), "aN" (built with -DAMX_VARIANTS, ../session29/build.sh) variant
// N of the AMX-INT8 GEMV; "cfg@B" runs cfg with WARMX=B in the environment
// (../session30/warmup.patch). Env: REPS, COLD (MiB), GS, HOT, YOFF, FILLPL.
#include "../harness.h"
#include "squant/runtime/squant_rt.h"
#include <pthread.h>
struct squant_rt_qgemm_params;
typedef void (*KFn)(const struct squant_rt_qgemm_params*);
#define V(n) void vk##n(const struct squant_rt_qgemm_params*);
V(0) V(1) V(2) V(3) V(4) V(5) V(6) V(7)
static KFn vks[8]={vk0,vk1,vk2,vk3,vk4,vk5,vk6,vk7}; static int cur;
void squant_rt_gemv_int8_vnni_tile16(const struct squant_rt_qgemm_params*p){vks[cur](p);}
static int curA;
#ifdef AMX_VARIANTS
void ak0(const struct squant_rt_qgemm_params*);void ak1(const struct squant_rt_qgemm_params*);static KFn aks[2]={ak0,ak1};
void squant_rt_gemv_int8_amx(const struct squant_rt_qgemm_params*p){aks[curA](p);}
#endif
static size_t TB=36864; 
typedef struct{const char*p,*end;} Cur;
static inline void adv(Cur*c){c->p+=64; if(c->p==c->end){c->p+=TB; c->end=c->p+TB;}}
static inline Cur mk(const char*b,int s,size_t pos){Cur c; size_t run=pos/TB; c.p=b+(2*run+s)*TB+pos%TB; c.end=b+(2*run+s)*TB+TB; return c;}
__attribute__((noinline)) static void tpass(const char*b,size_t sz,size_t C,long A,long F){
  __m512i acc=_mm512_setzero_si512(); size_t len=sz/2; Cur r[2],a[2],f[2];
  for(int s=0;s<2;s++){r[s]=mk(b,s,0);a[s]=mk(b,s,A);f[s]=mk(b,s,F);}
  for(size_t c=0;c<len;c+=C){
    size_t e=c+C<len?c+C:len;
    for(int s=0;s<2;s++) for(size_t p=c;p<e;p+=64){
      _mm_prefetch(a[s].p,_MM_HINT_T0); _mm_prefetch(f[s].p,_MM_HINT_T1);
      acc=_mm512_add_epi64(acc,_mm512_loadu_si512(r[s].p));
      adv(&r[s]);adv(&a[s]);adv(&f[s]);
    }
  }
  sinkv+=_mm512_reduce_add_epi64(acc);
}
static int Q2PAR=1, Q2LOADPAR=1;
__attribute__((noinline)) static void q2pass(const char*b,size_t sz){
  __m512i acc=_mm512_setzero_si512(); long tiles=sz/TB; const long G=1152, CB=1024;
  for(long t0=0;t0<tiles;t0+=2){ const char*run=b+t0*TB;
    for(long g=0;g<32;g++) for(int i=0;i<2;i++){
      const char*grp=run+i*TB+g*G; const char*te=run+(i+1)*TB; int nearEnd=grp+G+3072>te;
      if(Q2PAR) for(long l=CB;l<G;l+=64){const char*n=grp+l+2048,*f=grp+l+3072; if(nearEnd){n=n>=te?n+TB:n;f=f>=te?f+TB:f;} _mm_prefetch(n,_MM_HINT_T0);_mm_prefetch(f,_MM_HINT_T1);}
      for(long l=0;l<CB;l+=64){const char*n=grp+l+2048,*f=grp+l+3072; if(nearEnd){n=n>=te?n+TB:n;f=f>=te?f+TB:f;} _mm_prefetch(n,_MM_HINT_T0);_mm_prefetch(f,_MM_HINT_T1); acc=_mm512_add_epi64(acc,_mm512_loadu_si512(grp+l));}
      if(Q2LOADPAR) for(long l=CB;l<G;l+=64) acc=_mm512_add_epi64(acc,_mm512_loadu_si512(grp+l));
    }
  }
  sinkv+=_mm512_reduce_add_epi64(acc);
}
void squant_rt_pool_run(squant_rt_pool*,void(*)(void*,int,int),void*);
static const char*p2buf; static size_t p2sz;
static void p2fn(void*a,int i,int n){(void)a; size_t part=p2sz/n&~(size_t)4095; probe2(p2buf+i*part,part);}
static squant_rt_pool*gpool; static char*plbuf; static size_t plsz=(size_t)960<<20;
static void*plth(void*a){probe2(plbuf+plsz/2,plsz/2);return a;}
static const char*thb; static size_t thsz;
static void*th8(void*a){probe2(thb+thsz/2,thsz/2);return a;}
static double probeThread(const char*b,size_t sz){thb=b;thsz=sz&~(size_t)8191; double t0=now(); pthread_t t; pthread_create(&t,0,th8,0); probe2(b,thsz/2); pthread_join(t,0); return now()-t0;}
static double probeLong(void){if(!plbuf){plbuf=aligned_alloc(2<<20,plsz);madvise(plbuf,plsz,MADV_HUGEPAGE);memset(plbuf,1,plsz); if(getenv("FILLPL")){for(size_t o=0;o<plsz;o++)plbuf[o]=(char)(r()>>5);}} double t0=now(); pthread_t t; pthread_create(&t,0,plth,0); probe2(plbuf,plsz/2); pthread_join(t,0); return now()-t0;}
static double probe2x2(const char*b,size_t sz){p2buf=b;p2sz=sz; double t0=now(); squant_rt_pool_run(gpool,p2fn,0); return now()-t0;}
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
  squant_rt_pool*pool=0; if(th>1)squant_rt_pool_create(th,&pool); gpool=pool;
  int isa[16]; unsigned fl[16]; int isP[16]; int vsel[16];
  for(int c=0;c<nc;c++){isP[c]=!strcmp(argv[5+c],"PD")?9:!strcmp(argv[5+c],"PT")?7:!strcmp(argv[5+c],"PC")?8:!strcmp(argv[5+c],"PL")?6:!strcmp(argv[5+c],"P2")?5:argv[5+c][0]=='P'?1:argv[5+c][0]=='Q'?2:argv[5+c][0]=='R'?3:argv[5+c][0]=='S'?4:0; vsel[c]=0; if(!isP[c]&&argv[5+c][0]=='v') {isa[c]=3;fl[c]=1;vsel[c]=atoi(argv[5+c]+1);} else if(!isP[c]&&argv[5+c][0]=='a') {isa[c]=4;fl[c]=argv[5+c][2]=='i';vsel[c]=100+atoi(argv[5+c]+1);} else if(!isP[c]) sscanf(argv[5+c],"%d,%u",&isa[c],&fl[c]);}
  double*t=malloc(reps*8*nc); long cp=0;
  for(int i=0;i<reps;i++) for(int c=0;c<nc;c++){ w.codes=buf+(getenv("HOT")?0:(cp++%copies)*stride); {const char*at=strchr(argv[5+c],0x40); setenv("WARMX",at?at+1:"0",1);} squant_rt_options o={isa[c],pool,fl[c]}; cur=vsel[c]>=100?0:vsel[c]; curA=vsel[c]>=100?vsel[c]-100:0;
    if(isP[c]==9){static size_t pdo; if(!plbuf)probeLong(); size_t s8=sz&~(size_t)8191; if(pdo+s8>plsz)pdo=0; t[c*reps+i]=probe2x2(plbuf+pdo,s8); pdo+=s8; continue;} if(isP[c]==7){t[c*reps+i]=probeThread((const char*)w.codes,sz);continue;} if(isP[c]==8){probeLong(); t[c*reps+i]=probe2x2(plbuf,plsz)*sz/plsz;continue;} if(isP[c]==6){t[c*reps+i]=probeLong()*sz/plsz;continue;} if(isP[c]==5){t[c*reps+i]=probe2x2((const char*)w.codes,sz);continue;} double t0=now(); if(isP[c]==1) probe2((const char*)w.codes,sz); else if(isP[c]==3) q2pass((const char*)w.codes,sz); else if(isP[c]==4){ q2pass((const char*)w.codes,sz); squant_rt_qweight w2=w; w2.n=16; w2.codes=buf+((cp+7)%copies)*stride; squant_rt_options o2={3,0,1}; cur=vsel[0]; squant_rt_qgemm(x,1,k,&w2,y,16,ws,wsz,&o2);} else if(isP[c]==2) tpass((const char*)w.codes,sz,1152,2048,3072); else if(squant_rt_qgemm(x,1,k,&w,y,n,ws,wsz,&o)){puts("fail");return 1;} t[c*reps+i]=now()-t0;}
  double base=0;
  for(int c=0;c<nc;c++){qsort(t+c*reps,reps,8,cmp); double g=sz/t[c*reps+reps/2]/1e9; if(!c)base=g; printf("%dt %ldx%ld b%d %-6s med %7.1f us  %6.2f GB/s  ratio %.3f  min %.1f p90 %.1f\n",th,n,k,bits,argv[5+c],t[c*reps+reps/2]*1e6,g,g/base,t[c*reps]*1e6,t[c*reps+reps*9/10]*1e6);}
  return 0;}
