#!/usr/bin/env bash
# Runs squant's GPU checks on a machine with a CUDA driver and no LLVM:
# squant-gpu-check (generated kernels of tools/squant-gpu-check/kernels.mlir
# and the hand-written kernels of libsquant_gpu against a CPU reference,
# two seeds). Build here first (bash scripts/build.sh), then carry
# build/bin/squant-gpu-check and build/lib/libsquant_gpu.so to the GPU
# machine and run this script from the repository root there.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${SQUANT_BUILD_DIR:-$root/build}"
export LD_LIBRARY_PATH="$build/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader || true
status=0
for seed in 1 2 3; do
  "$build/bin/squant-gpu-check" "$seed" || status=$?
done
exit "$status"
