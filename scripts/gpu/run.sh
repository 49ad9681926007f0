#!/usr/bin/env bash
# Runs squant's GPU checks and benchmark on a machine with a CUDA driver and
# PyTorch but no LLVM:
#   1. squant-gpu-check (the generated kernels of
#      tools/squant-gpu-check/kernels.mlir and the hand-written kernels of
#      libsquant_gpu against a CPU reference), seeds 1-3;
#   2. with --sanitize, compute-sanitizer memcheck and racecheck over
#      squant-gpu-check (one seed each);
#   3. with --profile, ncu's stall reasons, issue and DRAM throughput of the
#      hand-written int4 and int2 kernels at M = 1 and 16 on 14336x4096
#      (bench/gpu/profile_one.py);
#   4. bench/gpu/bench.py (hand-written and generated kernels against cuBLAS
#      fp16/bf16 and tinygemm, cold weights, copy-bandwidth probe), unless
#      --check-only; other arguments go to bench.py (e.g. --quick).
# Everything in one call, as a lent GPU's minutes are few: e.g.
#   bash scripts/gpu/run.sh --sanitize --profile
# Build here first (bash scripts/build.sh), then carry build/bin/squant-gpu-check,
# build/lib/libsquant_gpu.so and build/lib/libsquant_gpu_bench_kernels.so to
# the GPU machine and run this script from the repository root there
# (SQUANT_BUILD_DIR: where they are, if not build/). With $OUT set, the
# outputs are also written to $OUT/gpu-check.txt, $OUT/gpu-sanitize.txt,
# $OUT/gpu-profile.txt and $OUT/gpu-bench.md.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${SQUANT_BUILD_DIR:-$root/build}"
out="${OUT:-$(mktemp -d)}"
export LD_LIBRARY_PATH="$build/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
bench=1 sanitize=0 profile=0
while [[ $# -gt 0 ]]; do
  case "$1" in
  --check-only) bench=0 ;;
  --sanitize) sanitize=1 ;;
  --profile) profile=1 ;;
  *) break ;;
  esac
  shift
done
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
if [[ $sanitize == 1 ]]; then
  (
    failed=0
    for tool in memcheck racecheck; do
      echo "== compute-sanitizer --tool $tool"
      timeout 300 compute-sanitizer --error-exitcode 1 --tool "$tool" \
        "$build/bin/squant-gpu-check" 11 2>&1 | tail -3 || failed=1
    done
    exit "$failed"
  ) | tee "$out/gpu-sanitize.txt"
  [[ ${PIPESTATUS[0]} == 0 ]] || status=1
fi
if [[ $profile == 1 ]]; then
  metrics='regex:smsp__average_warps_issue_stalled_.*_per_issue_active\.ratio'
  metrics+=',smsp__issue_active.avg.pct_of_peak_sustained_active'
  metrics+=',dram__throughput.avg.pct_of_peak_sustained_elapsed,gpu__time_duration.sum'
  metrics+=',sm__warps_active.avg.pct_of_peak_sustained_active,smsp__inst_executed.sum'
  metrics+=',sm__pipe_tensor_op_hmma_cycles_active.avg.pct_of_peak_sustained_active'
  metrics+=',l1tex__t_sector_hit_rate.pct,lts__t_sector_hit_rate.pct'
  for problem in "4 1" "2 1" "4 16"; do
    echo "== bits M: $problem, 14336x4096"
    timeout 120 ncu --launch-skip 1 --launch-count 1 -k regex:squant_qmatmul \
      --metrics "$metrics" python3 "$root/bench/gpu/profile_one.py" $problem 14336 4096 \
      --libdir "$build/lib" 2>&1 | grep -E "ratio|pct|duration|inst_executed" || true
  done | tee "$out/gpu-profile.txt"
fi
set -e
if [[ $bench == 1 ]]; then
  python3 "$root/bench/gpu/bench.py" --libdir "$build/lib" "$@" | tee "$out/gpu-bench.md"
fi
exit "$status"
