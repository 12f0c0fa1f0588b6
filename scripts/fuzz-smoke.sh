#!/usr/bin/env bash
# Runs every Fuzz target of the module for a while each: a count of inputs
# (100000x, make fuzz-smoke) or a duration (10m, make fuzz-long). A target
# that finds a failure fails the run; the input is saved under
# testdata/fuzz. The last line counts the inputs tried, the checked-in
# corpus and generated ones.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime="${1:-100000x}"
count=0
inputs=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
while IFS= read -r pkg; do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //'); do
    echo "fuzz: $pkg $target ($fuzztime)"
    go test "$pkg" -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" -fuzzminimizetime 200x 2>&1 | tee "$log"
    # The last progress line has the inputs tried; the baseline line has
    # the corpus run before them.
    n=$(grep -o 'execs: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || true)
    inputs=$((inputs + ${n:-0}))
    count=$((count + 1))
  done
done < <(go list ./...)
echo "fuzz: $count target(s) ran, $inputs inputs tried"
if [ "$count" -eq 0 ]; then
  echo "fuzz: no fuzz targets found" >&2
  exit 1
fi
