#!/usr/bin/env bash
# The whole test suite: set up, build, then run `check-squant` (every lit
# test and every unit-test binary). Exits non-zero on any failure and ends
# with one summary line "squant: N passed, N failed, N skipped".
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${SQUANT_BUILD_DIR:-$root/build}"

bash "$root/scripts/build.sh"

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
LIT_OPTS="${LIT_OPTS:--v}" cmake --build "$build" --target check-squant 2>&1 | tee "$log" || status=$?

count() { grep -E "^\s+$1\s*: " "$log" | sed -E 's/.*:\s*([0-9]+).*/\1/' | head -n1 || true; }
passed=$(count Passed); passed=${passed:-0}
failed=0
for kind in Failed "Unexpectedly Passed" "Unresolved" "Timed Out"; do
  n=$(count "$kind"); failed=$((failed + ${n:-0}))
done
skipped=$(count Unsupported); skipped=${skipped:-0}
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
if [ "$passed" -eq 0 ]; then
  echo "squant: no test ran" >&2
  status=1
fi
echo "squant: $passed passed, $failed failed, $skipped skipped"
exit "$status"
