#!/usr/bin/env bash
# Runs every fuzz target of the module for the given time each (default 30s).
#
# A run fails on a real finding: a written reproducer ("Failing input written
# to"), a panic, or any other error. A bare "context deadline exceeded" at the
# -fuzztime boundary with no reproducer is Go's coordinator race
# (go.dev/issue/75804, fixed in Go 1.27): that target is run once more.
set -uo pipefail
t=${1:-30s}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
fail=0
run() { # run PKG TARGET -> 0 ok, 1 finding, 2 deadline flake
  go test -run '^$' -fuzz "^$2\$" -fuzztime "$t" "$1" >"$log" 2>&1 && return 0
  if grep -q "context deadline exceeded" "$log" && ! grep -qE "Failing input written|panic:" "$log"; then
    return 2
  fi
  return 1
}
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
    echo "== $pkg $target ($t)"
    run "$pkg" "$target"; rc=$?
    if [ $rc -eq 2 ]; then
      echo "   deadline flake at the -fuzztime boundary (go.dev/issue/75804); running again"
      run "$pkg" "$target"; rc=$?
    fi
    tail -n 3 "$log"
    if [ $rc -ne 0 ]; then echo "   FAILED"; cat "$log"; fail=1; fi
  done
done
exit $fail
