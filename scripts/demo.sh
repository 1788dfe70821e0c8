#!/usr/bin/env bash
# The demo: builds Cohort if needed, starts a local 3-node cluster in a temporary directory, runs
# the seed's scenarios (E2, E1, E3) with real consumer processes, kills the leader mid-consumption,
# prints what happened and a verdict, and stops everything it started. Exit code 0 = all checks passed.
#
#   scripts/demo.sh [--dir DIR] [--base-port N]      (scripts/cohort demo --help)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

stale() {
  local jar
  for jar in "$root/tools/target/cohort.jar" "$root/harness/target/cohort-harness.jar"; do
    [[ ! -f "$jar" ]] && return 0
    [[ -n "$(find "$root" -path "$root/data" -prune -o \( -name '*.java' -o -name '*.proto' -o -name pom.xml \) \
      -newer "$jar" -print -quit)" ]] && return 0
  done
  return 1
}

if stale; then
  echo "demo: building Cohort (mvn -B -q package -DskipTests; the first build downloads dependencies)..."
  (cd "$root" && mvn -B -q package -DskipTests)
fi
exec "$root/scripts/cohort" demo --root "$root" "$@"
