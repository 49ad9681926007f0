# Builds $W/h5: session 28's h3 (../session28/h3.c) with the AMX GEMV file
# gemv_amx_int8.c of $OLD (default 12726a3, before session 31's split) as
# a0 and of the tree as a1, the library's own AMX GEMV and x split weakened
# so that each configuration runs its own split too. From the repository
# root, after `bash scripts/build.sh`:
#   W=/tmp/s31 bash docs/perf/session31/build-h5.sh
#   HOT=1 REPS=3000 taskset -c 0 /tmp/s31/h5 1 16 4096 2 a0 a1 a0 a1
#   REPS=100 /tmp/s31/h5 2 4096 4096 2 P2 a0 a1 a0 a1
set -e
R=$PWD/runtime OLD=${OLD:-12726a3} W=${W:-/tmp/s31}
mkdir -p "$W" && cd "$W" && rm -rf t0 t1
for f in src/kernels.h src/arch/x86_64/tile16_v2_rows.h src/arch/x86_64/amx_int8_split.h \
         src/arch/x86_64/amx_tiles.h src/arch/x86_64/gemv_amx_int8.c; do
  mkdir -p "t0/$(dirname $f)" "t1/$(dirname $f)"
  git -C "$R" show "$OLD:runtime/$f" > "t0/$f"; cp "$R/$f" "t1/$f"; done
F="-O3 -ffp-contract=off -std=gnu11 -mavx2 -mfma -mavx512f -mavx512bw -mavx512vl -mavx512vbmi -mavx512vnni -mgfni -mamx-tile -mamx-int8 -I$R/include"
for i in 0 1; do
  clang-22 $F -Dsquant_rt_gemv_int8_amx=ak$i -Dsquant_rt_gemv_amx_int8_split=sp$i \
    -Dsquant_rt_gemv_amx_int8_quantize=qu$i -c t$i/src/arch/x86_64/gemv_amx_int8.c -o ak$i.o; done
for i in 0 1 2 3 4 5 6 7; do echo "void vk$i(const void*p){(void)p;}" > s$i.c; gcc -c s$i.c -o vk$i.o; done
cp "$R/../build/lib/libsquant_rt.a" lib.a
objcopy --weaken-symbol=squant_rt_gemv_int8_amx --weaken-symbol=squant_rt_gemv_amx_int8_split lib.a
sed "s|#include \"../harness.h\"|#include \"$R/../docs/perf/harness.h\"|" "$R/../docs/perf/session28/h3.c" > h5.c
cat >> h5.c <<'EOT'
int32_t sp0(const float*,const void*,float,float*,const void*,float*);
int32_t sp1(const float*,const void*,float,float*,const void*,float*);
int32_t squant_rt_gemv_amx_int8_split(const float*x,const void*w,float s,float*r,const void*o,float*xs){return curA?sp1(x,w,s,r,o,xs):sp0(x,w,s,r,o,xs);}
EOT
gcc -O2 -march=native -DAMX_VARIANTS -I"$R/include" h5.c vk*.o ak0.o ak1.o lib.a -lpthread -lm -o h5
