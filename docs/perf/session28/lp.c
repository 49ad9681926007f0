// one pass over 1000 MiB against passes over its pieces: ./lp piece_bytes rounds
#include "../harness.h"
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
