#!/usr/bin/env bash
# The project's test command (README): installs what is missing, builds the
# host tree (unit, interop, scenario and QEMU boot tests, which build the
# Cortex-M3 image themselves) and the fuzz tree (libFuzzer + ASan/UBSan),
# runs both ctest suites, prints the summary table (fuzz targets x
# executions x findings, faults x outcomes, attacks x verdicts, analysis
# gates: toolchain/test_summary.py over ctest's full logs) and one closing
# line "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n=== %s\n' "$*"; }

step "setup (Debian packages, pinned dependency sources)"
toolchain/setup.sh || { echo "test: setup failed"; exit 1; }

step "build: host"
cmake --preset host >/dev/null && cmake --build --preset host -j2 || { echo "test: host build failed"; exit 1; }
step "build: fuzz (clang, ASan + UBSan)"
cmake --preset fuzz >/dev/null && cmake --build --preset fuzz -j2 || { echo "test: fuzz build failed"; exit 1; }

passed=0 failed=0
run_suite() {
  local dir=$1 log
  log=$(mktemp)
  step "ctest: $dir"
  ctest --test-dir "$dir" --output-on-failure -j2 --timeout 900 2>&1 | tee "$log"
  local total fails
  total=$(sed -n 's/.*tests passed, \([0-9]*\) tests failed out of \([0-9]*\).*/\2/p' "$log" | tail -n 1)
  fails=$(sed -n 's/.*tests passed, \([0-9]*\) tests failed out of \([0-9]*\).*/\1/p' "$log" | tail -n 1)
  if [ -z "$total" ]; then
    echo "test: no ctest summary for $dir"
    failed=$((failed + 1))
  else
    passed=$((passed + total - fails))
    failed=$((failed + fails))
  fi
  rm -f "$log"
}
run_suite build/host
run_suite build/fuzz

# Every test's output, passed or failed, is in ctest's LastTest.log; the
# tests print machine-readable SUMMARY lines (docs/security.md).
/usr/bin/python3 toolchain/test_summary.py build/host/Testing/Temporary/LastTest.log \
  build/fuzz/Testing/Temporary/LastTest.log || echo "test: no summary table"

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
