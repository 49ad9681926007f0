#include <stdio.h>
#include <time.h>
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+1e-9*t.tv_nsec;}
int main(){
  long iters=100000000;
  for(int rep=0;rep<5;rep++){
  double t0=now();
  __asm__ volatile(
    "vxorps %%ymm0,%%ymm0,%%ymm0\n"
    "mov %0, %%rcx\n"
    "1:\n"
    ".irp r,1,2,3,4,5,6,7,8,9,10,11,12\n"
    "vfmadd231ps %%ymm0,%%ymm0,%%ymm\\r\n"
    ".endr\n"
    "dec %%rcx\n jnz 1b\n" :: "r"(iters) : "rcx","memory");
  double t=now()-t0;
  printf("%.1f GFLOP/s\n", iters*12.0*16/t/1e9);
  }
}
