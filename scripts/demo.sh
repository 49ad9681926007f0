#!/usr/bin/env bash
# squant's main job on an embedded example: set up, build, then compile a
# transformer feed-forward block (examples/ffn.mlir, 2048 -> 5632 -> 2048,
# SwiGLU) whose fp32 weights are quantized at compile time, run it and
# print one row per variant: weight bytes, accuracy against the fp32 block,
# speed against the read bandwidth measured in the same run.
#
#   bash scripts/demo.sh                       # the embedded example
#   bash scripts/demo.sh --dims 4096x11008     # the same block at another size
#   bash scripts/demo.sh my.mlir [squant-run options...]   # another IR file
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${SQUANT_BUILD_DIR:-$root/build}"

bash "$root/scripts/build.sh" --target squant-run

example="$root/examples/ffn.mlir"
user_ir=0
if [ "${1:-}" = "--dims" ]; then
  hidden="${2%x*}" inter="${2#*x}"
  shift 2
  example="$(mktemp --suffix=.mlir)"
  trap 'rm -f "$example"' EXIT
  sed "s/2048/$hidden/g; s/5632/$inter/g" "$root/examples/ffn.mlir" > "$example"
elif [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
  example="$1" user_ir=1
  shift
fi
extra=("$@")

if [ "$user_ir" = 1 ]; then
  # A user's IR file: squant-run with their options.
  exec "$build/bin/squant-run" "$example" "${extra[@]}"
fi

echo "== squant main job: $example"
echo "   fp32 weights bound at compile time (random, seed 0), quantized by squant-optimize,"
echo "   lowered by squant-lower-to-llvm-cpu, JIT-compiled and run"
echo
"$build/bin/squant-run" "$example" --const-args=1,2,3 --check \
  --variant="fp32 (linalg loops, untuned)=none" \
  --variant="int4 tinygemm g128, one-FMA=squant-optimize{scheme=float_zero_point bits=4 group-size=128 pack=lsb_first}" \
  --variant="2-bit stretched g32, LUT=squant-optimize{scheme=stretched bits=2 group-size=32 pack=lsb_first}" \
  "${extra[@]}"
