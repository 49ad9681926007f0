// hot/cold GEMV harness: ./h threads n k bits [flags] ; env ISA, REPS, COLD (MiB of copies), SIGNED
#include "../harness.h"
#include "squant/runtime/squant_rt.h"
int main(int argc,char**argv){
  int th=atoi(argv[1]); long n=atol(argv[2]),k=atol(argv[3]); int bits=atoi(argv[4]); unsigned flags=argc>5?atoi(argv[5]):0;
  int isa=getenv("ISA")?atoi(getenv("ISA")):0; int reps=getenv("REPS")?atoi(getenv("REPS")):200;
  long coldMiB=getenv("COLD")?atol(getenv("COLD")):0; int sg=getenv("SIGNED")?1:0; long gs=getenv("GS")?atol(getenv("GS")):128;
  int8_t*codes=malloc(n*k); float*sc=malloc(n*k/gs*4),*bi=malloc(n*k/gs*4),*x=malloc(k*4),*y=malloc(n*4);
  int lo=sg?-(1<<(bits-1)):0, span=1<<bits;
  for(long i=0;i<n*k;i++)codes[i]=(int8_t)(lo+(int)(r()%span));
  for(long i=0;i<n*k/gs;i++){sc[i]=0.01f+(r()%100)*1e-4f;bi[i]=-0.05f+(r()%100)*1e-3f;}
  for(long i=0;i<k;i++)x[i]=((int)(r()%2001)-1000)*1e-3f;
  size_t sz=squant_rt_packed_size_tile16_v2(n,k,bits,gs);
  long copies=coldMiB? (coldMiB<<20)/sz+1:1;
  size_t stride=(sz+4095)&~4095ul;
  uint8_t*buf=mmap(0,stride*copies+(2<<20),PROT_READ|PROT_WRITE,MAP_PRIVATE|MAP_ANONYMOUS,-1,0);
  madvise(buf,stride*copies,MADV_HUGEPAGE);
  if(squant_rt_pack_tile16_v2(codes,sc,bi,n,k,bits,gs,buf,sz)){puts("pack fail");return 1;}
  for(long c=1;c<copies;c++)memcpy(buf+c*stride,buf,sz);
  squant_rt_qweight w={0};w.layout=SQUANT_RT_LAYOUT_TILE16_V2;w.form=SQUANT_RT_FORM_FMA;w.bits=bits;w.is_signed=sg;w.n=n;w.k=k;w.group_size=gs;w.codes=buf;
  size_t wsz=squant_rt_qgemm_workspace_size(1,&w);void*ws=aligned_alloc(64,(wsz+63)&~63ul);
  squant_rt_pool*pool=0; if(th>1)squant_rt_pool_create(th,&pool);
  squant_rt_options o={isa,pool,flags};
  int st=squant_rt_qgemm(x,1,k,&w,y,n,ws,wsz,&o); if(st){printf("status %d\n",st);return 1;}
  double chk=0;for(long i=0;i<n;i++)chk+=y[i];
  double*t=malloc(reps*8); long c=0;
  for(int i=0;i<reps;i++){ w.codes=buf+(c%copies)*stride; c++; double t0=now(); if(getenv("PROBE")) probe2((const char*)w.codes,sz); else squant_rt_qgemm(x,1,k,&w,y,n,ws,wsz,&o); t[i]=now()-t0;}
  qsort(t,reps,8,cmp);
  printf("th%d %ldx%ld b%d f%u isa%d copies%ld: med %.2f us min %.2f  %.2f GB/s (med)  chk %.6g\n",th,n,k,bits,flags,isa,copies,t[reps/2]*1e6,t[0]*1e6,sz/t[reps/2]/1e9,chk);
  return 0;}
