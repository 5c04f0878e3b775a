#!/usr/bin/env bash
# Long fuzzing campaign (docs/fuzzing.md): runs every libFuzzer target of the
# fuzz tree for SECONDS each, one after the other, with the arguments ctest
# gives it (dictionary, seeds, corpus directory in the build tree, so the
# corpus grows from one campaign to the next) but -max_total_time=SECONDS.
# Prints one line per target: executions, coverage, corpus size, findings.
#
#   toolchain/fuzz-campaign.sh SECONDS [BUILD_DIR] [REGEX]
#
# BUILD_DIR defaults to build/fuzz (cmake --preset fuzz); REGEX selects
# targets by ctest name (default: every fuzz.* test). Logs and crash
# artifacts of targets without their own -artifact_prefix go to
# BUILD_DIR/campaign/. Exits 1 when a target found something.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:?usage: toolchain/fuzz-campaign.sh SECONDS [BUILD_DIR] [REGEX]}
dir=${2:-build/fuzz}
regex=${3:-^fuzz\\.}
[[ $seconds =~ ^[0-9]+$ ]] || { echo "SECONDS must be a number" >&2; exit 2; }
if [ ! -f "$dir/CTestTestfile.cmake" ]; then
  cmake --preset fuzz -B "$dir" >/dev/null
fi
cmake --build "$dir" -j"$(nproc)" >"$dir/campaign-build.log" 2>&1 ||
  echo "warning: build failed (see $dir/campaign-build.log): running the targets that exist" >&2
out=$(realpath "$dir")/campaign
mkdir -p "$out"

# name<TAB>argv (NUL-separated, base64) for each selected test
list=$(ctest --test-dir "$dir" --show-only=json-v1 -R "$regex" | /usr/bin/python3 -c '
import base64, json, sys
for t in json.load(sys.stdin)["tests"]:
    argv = [a if not a.startswith("-max_total_time=") else "-max_total_time=SECONDS"
            for a in t["command"]]
    print(t["name"] + "\t" + base64.b64encode("\0".join(argv).encode()).decode())
')
[ -n "$list" ] || { echo "no fuzz tests matching $regex in $dir" >&2; exit 2; }

printf '%-22s %12s %8s %10s %8s  %s\n' target executions cov exec/s corpus findings
found=0
while IFS=$'\t' read -r name b64; do
  mapfile -d '' argv < <(printf '%s' "$b64" | base64 -d | sed "s/-max_total_time=SECONDS/-max_total_time=$seconds/")
  log=$out/$name.log
  status=0
  if [ ! -x "${argv[0]}" ]; then
    printf '%-22s %s\n' "$name" "not built"
    continue
  fi
  (cd "$out" && "${argv[@]}") >"$log" 2>&1 || status=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
  corp=$(grep -o 'corp: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
  what="none"
  if [ "$status" -ne 0 ]; then
    what="FOUND (exit $status): $(grep -m1 -E 'ERROR:|runtime error|deadly signal' "$log" || true) log $log"
    found=1
  fi
  printf '%-22s %12s %8s %10s %8s  %s\n' "$name" "${execs:-?}" "${cov:-?}" "${rate:-?}" "${corp:-?}" "$what"
done <<<"$list"
exit $found
