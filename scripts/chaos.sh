#!/usr/bin/env bash
# The chaos suite (DESIGN section 6): three Cohort server processes on loopback, consumers of an
# order=false and an order=true group committing increasing cursors, splits during the run, in a
# loop kill -9 of the leader (80%) or a follower and its restart, and every --replace-every-s
# (default 90, the first after half of it) a member replaced by a fresh node on a new port
# (--join, cluster replace; the old one must stop by itself); once, a third into the run, the leader
# stopped (SIGSTOP) for --leader-pause-ms (default 9000, longer than the groups' 6 s session: no
# consumer may lose its session). At the end it checks and prints: no
# acknowledged commit lost, never two holders at once (epochs increase), order kept across splits,
# the final members' state digests identical. Exit 0 = passed, 1 = a violation.
#
#   scripts/chaos.sh [--minutes N] [--seed S] [--dir DIR] [--keep-dir] [--replace-every-s N] [--leader-pause-ms MS]
#   (scripts/cohort chaos --help)
#
# The Java driver (scripts/cohort chaos) starts and stops its own server processes (their pids in
# DIR/cluster/nK.pid); if the driver itself dies, this script stops exactly those pids.
#   COHORT_SERVER_JAVA_OPTS  the servers' JVM options (default: -XX:+UseZGC -Xms256m -Xmx2g, as cluster.sh)
#   COHORT_JAVA_OPTS         the driver's JVM options
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [[ ! -f "$root/tools/target/cohort.jar" || ! -f "$root/harness/target/cohort-harness.jar" ]]; then
  echo "chaos.sh: building the jars (mvn package -DskipTests)..." >&2
  (cd "$root" && mvn -B -q package -DskipTests) >&2
fi

args=("$@")
dir=""
for ((i = 0; i < ${#args[@]}; i++)); do
  if [[ "${args[$i]}" == "--dir" && $((i + 1)) -lt ${#args[@]} ]]; then
    dir="${args[$((i + 1))]}"
  fi
done
if [[ -z "$dir" ]]; then
  dir="$(mktemp -d -t cohort-chaos-XXXXXX)"
  args+=(--dir "$dir")
  own_dir=1
else
  own_dir=0
fi
keep=0
for a in "${args[@]}"; do [[ "$a" == "--keep-dir" ]] && keep=1; done

cleanup() {
  local pidfile pid
  for pidfile in "$dir"/cluster/n*.pid; do
    [[ -f "$pidfile" ]] || continue
    pid="$(cat "$pidfile")"
    if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null \
        && tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q -- "--storage $dir/cluster/"; then
      echo "chaos.sh: stopping leftover server pid $pid" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  if [[ -f "$dir/KEPT" ]]; then               # the driver found something worth reading in the logs
    echo "chaos.sh: kept $dir: $(cat "$dir/KEPT")" >&2
  elif [[ $own_dir -eq 1 && $keep -eq 0 ]]; then
    rm -rf "$dir"
  fi
}
trap cleanup EXIT

COHORT_JAVA_OPTS="${COHORT_JAVA_OPTS:--XX:+UseG1GC -Xmx1g}" "$root/scripts/cohort" chaos "${args[@]}"
