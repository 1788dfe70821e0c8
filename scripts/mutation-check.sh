#!/usr/bin/env bash
# Mutation check of the statemachine's simulation (CoordinatorPropertyTest): each patch in
# statemachine/src/test/mutants/ breaks one guarantee on purpose, and the property test's default run
# must fail on it. Each mutant is applied to a throwaway copy of HEAD (git archive), never to your
# working tree. Usage: scripts/mutation-check.sh [mutant-name ...]   (default: all of them)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir_of_patches="$root/statemachine/src/test/mutants"
if [ $# -gt 0 ]; then names=("$@"); else
  names=(); for p in "$dir_of_patches"/*.patch; do names+=("$(basename "$p" .patch)"); done
fi
status=0
for m in "${names[@]}"; do
  work=$(mktemp -d /tmp/cohort-mutant.XXXXXX)
  git -C "$root" archive HEAD | tar -x -C "$work"
  (cd "$work" && git apply "$dir_of_patches/$m.patch")
  start=$(date +%s)
  out=$(cd "$work" && mvn -B -o -q -pl statemachine test -Dtest='CoordinatorPropertyTest#invariantsHoldOverRandomRuns' \
    -Dsurefire.failIfNoSpecifiedTests=false 2>&1 || true)
  secs=$(( $(date +%s) - start ))
  msg=$(grep -m1 -o 'seed -\?[0-9]* step [0-9]* .*' <<<"$out" || true)
  if [ -n "$msg" ]; then echo "$m: caught in ${secs}s: $msg"; else echo "$m: NOT CAUGHT (${secs}s)"; status=1; fi
  rm -rf "$work"
done
exit $status
