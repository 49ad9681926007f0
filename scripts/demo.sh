#!/usr/bin/env bash
# squant's main job on an embedded example: set up, build, then quantize a
# constant fp32 weight at compile time (stretched 2-bit and tinygemm int4),
# pack the codes, and print the folded IR.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${SQUANT_BUILD_DIR:-$root/build}"
example="${1:-$root/examples/quantize-weight.mlir}"

bash "$root/scripts/build.sh" --target squant-opt

echo "== input: $example"
grep -v '^//' "$example" | sed -n '1,12p'
echo "   ..."
echo
echo "== squant-opt --canonicalize (compile-time quantization by the reference numerics)"
"$build/bin/squant-opt" --canonicalize "$example"
