# Builds W/h3 (h3.c) with up to 8 variants of gemv_vnni_tile16.c, one set of
# -D flags per argument ("-DX" for none), from the sources at af1b93b with
# vnni-variants.patch applied (macros NONEAR, NOFAR, NOPARAM, NODOT,
# SQUANT_TILE16_AHEAD, SQUANT_TILE16_FAR). Run from the repository root after
# `bash scripts/build.sh`: W=/tmp/s28v bash docs/perf/session28/variants.sh "-DX" "-DNOPARAM"
set -e
S=$PWD/docs/perf/session28 R=$PWD/runtime
mkdir -p "$W" && cd "$W"
for f in tile16_v2_rows.h gemv_vnni_tile16.c; do
  git -C "$R" show af1b93b:runtime/src/arch/x86_64/$f > $f; done
cp "$R/src/kernels.h" . && patch -s -p1 < "$S/vnni-variants.patch"
F="-O3 -ffp-contract=off -std=gnu11 -mavx2 -mfma -mavx512f -mavx512bw -mavx512vl -mavx512vbmi -mavx512vnni -mgfni -I. -I$R/include"
i=0; objs=""
while [ $# -gt 0 ]; do clang-22 $F $1 -Dsquant_rt_gemv_int8_vnni_tile16=vk$i -c gemv_vnni_tile16.c -o vk$i.o; objs="$objs vk$i.o"; i=$((i+1)); shift; done
while [ $i -lt 8 ]; do echo "void vk$i(const void*p){(void)p;}" > s$i.c; gcc -c s$i.c -o vk$i.o; objs="$objs vk$i.o"; i=$((i+1)); done
gcc -O2 -march=native -I$R/include "$S/h3.c" $objs "$R/../build/lib/libsquant_rt.a" -lpthread -lm -o h3
