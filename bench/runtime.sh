#!/usr/bin/env bash
# The runtime benchmark: squant_rt qgemm for every shape, M, thread count and
# variant of the issue's table, next to the read-bandwidth probe, OpenBLAS
# (its default core for this CPU) and oneDNN; then the OpenBLAS baselines
# again with OPENBLAS_CORETYPE=SkylakeX. Usage: bench/runtime.sh [--quick]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${SQUANT_BUILD_DIR:-$root/build}/bin/squant-bench-runtime"
"$bin" "$@"
echo
echo "OpenBLAS with OPENBLAS_CORETYPE=SkylakeX (baseline rows):"
OPENBLAS_CORETYPE=SkylakeX "$bin" "$@" | grep -E "^squant|OpenBLAS fp32|^\| N x K|^\|---"
