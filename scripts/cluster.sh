#!/usr/bin/env bash
# Runs a local three-node Cohort cluster (DESIGN section 5).
#
#   scripts/cluster.sh start|stop|status [--dir DIR] [--base-port N] [--json]
#
# start   starts n1..n3 in the background on 127.0.0.1:N..N+2 (default 9861), storage in DIR/nK,
#         logs in DIR/nK.log, pids in DIR/nK.pid (DIR defaults to ./data/cluster); waits for a leader.
#         The first start (no node has storage yet) passes --bootstrap; later starts recover each
#         node from its storage, and a node whose storage is missing refuses to start (its log says why)
# stop    sends SIGTERM to exactly those pids, waits for them to exit (SIGKILL after 30 s)
# status  each peer's role, term, commit and applied index (cohort cluster status)
#
# The base port given to start is remembered in DIR/cluster.env for stop and status.
# COHORT_SERVER_JAVA_OPTS sets the servers' JVM options (default: G1, 1 GB heap).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cohort="$root/scripts/cohort"
nodes=(n1 n2 n3)

usage() {
  echo "usage: scripts/cluster.sh start|stop|status [--dir DIR] [--base-port N] [--json]" >&2
  exit 2
}

[[ $# -ge 1 ]] || usage
cmd="$1"
shift
dir="./data/cluster"
base_port=""
json=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --dir) [[ $# -ge 2 ]] || usage; dir="$2"; shift 2 ;;
    --base-port) [[ $# -ge 2 ]] || usage; base_port="$2"; shift 2 ;;
    --json) json="--json"; shift ;;
    -h|--help) usage ;;
    *) echo "cluster.sh: unknown argument '$1'" >&2; usage ;;
  esac
done
if [[ -n "$base_port" && ! "$base_port" =~ ^[0-9]+$ ]]; then
  echo "cluster.sh: --base-port must be a number, got '$base_port'" >&2
  exit 2
fi

mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
envfile="$dir/cluster.env"
if [[ -z "$base_port" && -f "$envfile" ]]; then
  base_port="$(sed -n 's/^BASE_PORT=//p' "$envfile")"
fi
base_port="${base_port:-9861}"

peers() {
  local out="" i=0
  for n in "${nodes[@]}"; do
    out+="${out:+,}$n=127.0.0.1:$((base_port + i))"
    i=$((i + 1))
  done
  echo "$out"
}

# The pid in DIR/n.pid if that process is alive and is this node's Cohort server.
live_pid() {
  local n="$1" pidfile="$dir/$1.pid" pid
  [[ -f "$pidfile" ]] || return 1
  pid="$(cat "$pidfile")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q -- "--id $n --storage $dir/$n" || return 1
  echo "$pid"
}

ensure_jar() {
  if [[ -z "${COHORT_JAR:-}" && ! -f "$root/tools/target/cohort.jar" ]]; then
    echo "cluster.sh: building the jar (mvn package -DskipTests)..." >&2
    (cd "$root" && mvn -B -q package -DskipTests) >&2
  fi
}

# True when no node has Raft storage yet: the cluster's very first start.
first_start() {
  local n
  for n in "${nodes[@]}"; do
    compgen -G "$dir/$n/*/current/raft-meta" > /dev/null && return 1
  done
  return 0
}

start() {
  ensure_jar
  echo "BASE_PORT=$base_port" > "$envfile"
  local p bootstrap=""
  p="$(peers)"
  # --bootstrap only on the very first start: a node that lost its storage later must not be
  # formatted again under its id (it forgot its votes); it refuses to start and says what to do.
  if first_start; then
    bootstrap="--bootstrap"
  fi
  for n in "${nodes[@]}"; do
    if pid="$(live_pid "$n")"; then
      echo "$n already running (pid $pid)"
      continue
    fi
    COHORT_JAVA_OPTS="${COHORT_SERVER_JAVA_OPTS:--XX:+UseG1GC -Xms256m -Xmx1g}" \
      nohup "$cohort" server $bootstrap --id "$n" --storage "$dir/$n" --peers "$p" >> "$dir/$n.log" 2>&1 < /dev/null &
    echo $! > "$dir/$n.pid"
    echo "$n started (pid $!, 127.0.0.1:$((base_port + ${n#n} - 1)), log $dir/$n.log)"
  done
  local deadline=$((SECONDS + 90))
  until ready "$p"; do
    for n in "${nodes[@]}"; do
      if ! live_pid "$n" > /dev/null; then
        echo "cluster.sh: $n exited; last lines of $dir/$n.log:" >&2
        tail -n 5 "$dir/$n.log" >&2
        exit 1
      fi
    done
    if (( SECONDS > deadline )); then
      echo "cluster.sh: no leader after 90 s; see $dir/n*.log" >&2
      exit 1
    fi
    sleep 1
  done
  "$cohort" cluster status --peers "$p" $json
}

# True when every node answers and one leads (`cluster status --json`).
ready() {
  local json
  json="$("$cohort" cluster status --peers "$1" --json --timeout 3 2>/dev/null)" || true
  [[ "$(grep -o '"reachable" *: *true' <<< "$json" | wc -l)" -eq "${#nodes[@]}" ]] &&
    grep -Eq '"role" *: *"LEADER"' <<< "$json"
}

stop() {
  local pids=() n pid
  for n in "${nodes[@]}"; do
    if pid="$(live_pid "$n")"; then
      kill -TERM "$pid"
      pids+=("$pid")
      echo "$n stopping (pid $pid)"
    fi
  done
  local deadline=$((SECONDS + 30))
  for pid in "${pids[@]}"; do
    while kill -0 "$pid" 2>/dev/null; do
      if (( SECONDS > deadline )); then
        echo "cluster.sh: pid $pid still running after 30 s: SIGKILL" >&2
        kill -KILL "$pid" 2>/dev/null || true
      fi
      sleep 0.2
    done
  done
  for n in "${nodes[@]}"; do
    rm -f "$dir/$n.pid"
  done
  echo "stopped"
}

status() {
  "$cohort" cluster status --peers "$(peers)" $json
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) usage ;;
esac
