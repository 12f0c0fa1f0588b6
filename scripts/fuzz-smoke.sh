#!/usr/bin/env bash
# Runs every Fuzz target of the module for a short time each. A target that
# finds a failure fails the run; the input is saved under testdata/fuzz.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime="${1:-100000x}"
count=0
while IFS= read -r pkg; do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //'); do
    echo "fuzz: $pkg $target ($fuzztime)"
    go test "$pkg" -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" -fuzzminimizetime 200x
    count=$((count + 1))
  done
done < <(go list ./...)
echo "fuzz: $count target(s) ran"
if [ "$count" -eq 0 ]; then
  echo "fuzz: no fuzz targets found" >&2
  exit 1
fi
