#!/usr/bin/env bash
# Mutation check: each patch breaks one guarantee on purpose, and the tests that guard it must fail.
# - statemachine/src/test/mutants/*.patch: the simulation (CoordinatorPropertyTest), default run
# - raft-server/src/test/mutants/*.patch: the leader's quiet-heartbeat wait, shedding and renewals
#   (PendingWritesTest, QuietHeartbeatWaitTest, RenewalsTest)
# Each mutant is applied to a throwaway copy of HEAD (git archive), never to your working tree.
# Usage: scripts/mutation-check.sh [mutant-name ...]   (default: all of them)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
patch_of() {
  for d in statemachine raft-server; do
    if [ -f "$root/$d/src/test/mutants/$1.patch" ]; then echo "$d"; return; fi
  done
  echo "no mutant named $1" >&2; exit 2
}
if [ $# -gt 0 ]; then names=("$@"); else
  names=(); for p in "$root"/statemachine/src/test/mutants/*.patch "$root"/raft-server/src/test/mutants/*.patch; do
    names+=("$(basename "$p" .patch)"); done
fi
status=0
for m in "${names[@]}"; do
  module=$(patch_of "$m")
  work=$(mktemp -d /tmp/cohort-mutant.XXXXXX)
  git -C "$root" archive HEAD | tar -x -C "$work"
  (cd "$work" && git apply "$root/$module/src/test/mutants/$m.patch")
  start=$(date +%s)
  if [ "$module" = statemachine ]; then
    out=$(cd "$work" && mvn -B -o -q -pl statemachine test -Dtest='CoordinatorPropertyTest#invariantsHoldOverRandomRuns' \
      -Dsurefire.failIfNoSpecifiedTests=false 2>&1 || true)
    msg=$(grep -m1 -o 'seed -\?[0-9]* step [0-9]* .*' <<<"$out" || true)
  else
    out=$(cd "$work" && mvn -B -o -q -pl statemachine,client,raft-server test \
      -Dtest='PendingWritesTest,QuietHeartbeatWaitTest,RenewalsTest' -Dsurefire.failIfNoSpecifiedTests=false 2>&1 || true)
    msg=$(grep -m1 -E '^\[ERROR\]   [A-Za-z]+Test\.' <<<"$out" | cut -c11-200 || true)
  fi
  secs=$(( $(date +%s) - start ))
  if [ -n "$msg" ]; then echo "$m: caught in ${secs}s: $msg"; else echo "$m: NOT CAUGHT (${secs}s)"; status=1; fi
  rm -rf "$work"
done
exit $status
