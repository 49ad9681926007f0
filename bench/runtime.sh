#!/usr/bin/env bash
# The runtime benchmark: squant_rt qgemm for every shape, M and thread count
# of the issue's table, next to the read-bandwidth probe, the generated code,
# OpenBLAS (its default core for this CPU) and oneDNN; group 32 on the first
# shape; then the OpenBLAS baselines again with OPENBLAS_CORETYPE=SkylakeX.
# Usage: bench/runtime.sh [--quick] (further arguments go to every pass).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${SQUANT_BUILD_DIR:-$root/build}/bin/squant-bench-runtime"
"$bin" "$@"
echo
echo "Group 32:"
"$bin" --shapes 4096x4096 --group 32 --no-baselines --no-generated "$@" |
  grep -E "^\| [0-9]|^\| N x K|^\|---"
echo
echo "OpenBLAS with OPENBLAS_CORETYPE=SkylakeX (baseline rows):"
OPENBLAS_CORETYPE=SkylakeX "$bin" --baselines-only "$@" |
  grep -E "^squant|OpenBLAS fp32|^\| N x K|^\|---"
