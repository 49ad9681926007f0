#!/usr/bin/env bash
# Runs squant's GPU checks and benchmark on a machine with a CUDA driver and
# PyTorch but no LLVM:
#   1. squant-gpu-check (the generated kernels of
#      tools/squant-gpu-check/kernels.mlir and the hand-written kernels of
#      libsquant_gpu against a CPU reference), seeds 1-3;
#   2. bench/gpu/bench.py (hand-written and generated kernels against cuBLAS
#      fp16/bf16 and tinygemm, cold weights, copy-bandwidth probe), unless
#      --check-only; other arguments go to bench.py (e.g. --quick).
# Build here first (bash scripts/build.sh), then carry build/bin/squant-gpu-check,
# build/lib/libsquant_gpu.so and build/lib/libsquant_gpu_bench_kernels.so to
# the GPU machine and run this script from the repository root there. With
# $OUT set, the outputs are also written to $OUT/gpu-check.txt and
# $OUT/gpu-bench.md.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${SQUANT_BUILD_DIR:-$root/build}"
out="${OUT:-$(mktemp -d)}"
export LD_LIBRARY_PATH="$build/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
bench=1
if [[ "${1:-}" == "--check-only" ]]; then bench=0; shift; fi
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm,clocks.max.mem --format=csv,noheader || true
set +e
(
  status=0
  for seed in 1 2 3; do
    "$build/bin/squant-gpu-check" "$seed" || status=$?
  done
  exit "$status"
) 2>&1 | tee "$out/gpu-check.txt"
status=${PIPESTATUS[0]}
set -e
if [[ $bench == 1 ]]; then
  python3 "$root/bench/gpu/bench.py" --libdir "$build/lib" "$@" | tee "$out/gpu-bench.md"
fi
exit "$status"
