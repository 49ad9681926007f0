// The cost of AMX ops back to back (session 30): ./amx-ops MODE [ROWS]
// times 4 x 10^7 of one op on four tiles (A and C tiles ROWS rows, B 16):
// mode 0 TILEZERO, 1 TILELOADD (L1), 2 TDPBSUD, 3 TILESTORED (L1).
// Build: clang-22 -O2 -mavx512f -mamx-tile -mamx-int8 amx-ops.c -o amx-ops
#include <immintrin.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/syscall.h>
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
_Alignas(64) static uint8_t ring[16*1024];
typedef struct { uint8_t palette, start; uint8_t r[14]; uint16_t colsb[16]; uint8_t rows[16]; } Cfg;
int main(int argc,char**argv){
  int mode=atoi(argv[1]); long iters=10000000; int rows=argc>2?atoi(argv[2]):16;
  syscall(SYS_arch_prctl, 0x1023, 18);
  Cfg c; memset(&c,0,sizeof c); c.palette=1; for(int t=0;t<8;t++){c.colsb[t]=64;c.rows[t]=(t==1||t==2)?16:rows;} _tile_loadconfig(&c);
  double t0=now();
  if(mode==0) for(long i=0;i<iters;i++){ _tile_zero(1); _tile_zero(2);_tile_zero(3);_tile_zero(6);}
  if(mode==1) for(long i=0;i<iters;i++){ _tile_loadd(1,ring,64); _tile_loadd(2,ring+1024,64);_tile_loadd(3,ring+2048,64);_tile_loadd(6,ring+3072,64);}
  if(mode==2) for(long i=0;i<iters;i++){ _tile_dpbsud(4,0,1); _tile_dpbsud(5,3,2);_tile_dpbsud(6,0,1);_tile_dpbsud(7,3,2);}
  if(mode==3) for(long i=0;i<iters;i++){ _tile_stored(4,ring+8192,64); _tile_stored(5,ring+9216,64);_tile_stored(6,ring+10240,64);_tile_stored(7,ring+11264,64);}
  double t=now()-t0; printf("mode %d rows %d: %.2f ns per instr\n",mode,rows,t/iters/4*1e9);
  return 0;
}
