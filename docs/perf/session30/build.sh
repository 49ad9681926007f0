# Builds $W/h4 (../session28/h3.c) with two variants of the tree's
# gemv_amx_int8.c: a0 compiled with $FLAGS0, a1 with $FLAGS1 (the macros of
# variants.patch, applied to the tree first). From the repository root,
# after `bash scripts/build.sh`:
#   git apply docs/perf/session30/variants.patch
#   W=/tmp/s30/nostore FLAGS1=-DNOSTORE=1 bash docs/perf/session30/build.sh
set -e
S=$PWD/docs/perf/session30 R=$PWD/runtime
mkdir -p "$W/t/src/arch/x86_64" && cd "$W"
cp "$R/src/kernels.h" t/src/
for f in tile16_v2_rows.h amx_int8_split.h amx_tiles.h gemv_amx_int8.c; do
  cp "$R/src/arch/x86_64/$f" t/src/arch/x86_64/; done
F="-O3 -ffp-contract=off -std=gnu11 -mavx2 -mfma -mavx512f -mavx512bw -mavx512vl -mavx512vbmi -mavx512vnni -mgfni -mamx-tile -mamx-int8 -I$R/include"
for i in 0 1; do
  eval "V=\$FLAGS$i"
  clang-22 $F $V -Dsquant_rt_gemv_int8_amx=ak$i -Dsquant_rt_gemv_amx_int8_split=sp$i \
    -Dsquant_rt_gemv_amx_int8_quantize=qu$i -c t/src/arch/x86_64/gemv_amx_int8.c -o ak$i.o; done
for i in 0 1 2 3 4 5 6 7; do echo "void vk$i(const void*p){(void)p;}" > s$i.c; gcc -c s$i.c -o vk$i.o; done
# The library's own AMX GEMV gives way to the harness's dispatcher.
cp "$R/../build/lib/libsquant_rt.a" lib.a && objcopy --weaken-symbol=squant_rt_gemv_int8_amx lib.a
gcc -O2 -march=native -DAMX_VARIANTS -I"$R/include" "$S/../session28/h3.c" vk*.o ak0.o ak1.o lib.a -lpthread -lm -o h4
