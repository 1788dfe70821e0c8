#!/usr/bin/env bash
# Runs a local three-node Cohort cluster (DESIGN section 5), secure by default (R11).
#
#   scripts/cluster.sh start|stop|status [--dir DIR] [--base-port N] [--insecure] [--json]
#
# start   starts n1..n3 in the background on 127.0.0.1:N..N+2 (default 9861), storage in DIR/nK,
#         logs in DIR/nK.log, pids in DIR/nK.pid (DIR defaults to ./data/cluster); waits for a leader.
#         Mutual TLS: on first start `cohort certs create` makes a CA and certificates in DIR/tls
#         (n1..n3 for 127.0.0.1/localhost, the bootstrap admin `admin`, and `consumer`, which is
#         then granted every group); later starts reuse them. --insecure: plaintext, every caller is
#         the admin 'anonymous' (the servers warn).
#         The first start (no node has storage yet) passes --bootstrap; later starts recover each
#         node from its storage, and a node whose storage is missing refuses to start (its log says why)
# stop    sends SIGTERM to exactly those pids, waits for them to exit (SIGKILL after 30 s)
# status  each peer's role, term, commit and applied index (cohort cluster status)
#
# start writes DIR/cohort.env: `source DIR/cohort.env` sets COHORT_PEERS and the admin's
# COHORT_TLS_CERT/KEY/CA (or COHORT_INSECURE=1), so scripts/cohort reaches this cluster without
# flags; with the default DIR the launcher reads it by itself when no TLS flag or variable is set.
# The base port given to start is remembered in DIR/cluster.env for stop and status.
# COHORT_SERVER_JAVA_OPTS sets the servers' JVM options (default: -XX:+UseZGC -Xms256m -Xmx2g; README "Configuration").
# COHORT_START_WAIT_S: how long start waits for a leader (default 180 s; a loaded machine is slow).
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
insecure=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --dir) [[ $# -ge 2 ]] || usage; dir="$2"; shift 2 ;;
    --base-port) [[ $# -ge 2 ]] || usage; base_port="$2"; shift 2 ;;
    --json) json="--json"; shift ;;
    --insecure) insecure=1; shift ;;
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

tls_dir="$dir/tls"
cohort_env="$dir/cohort.env"

# The CLI's transport for this cluster (in cli_tls): the admin's certificate, or --insecure as
# given or as DIR/cohort.env says.
set_cli_tls() {
  if [[ $insecure -eq 1 ]] || { [[ -f "$cohort_env" ]] && grep -q '^export COHORT_INSECURE=1' "$cohort_env"; }; then
    cli_tls=(--insecure)
  else
    cli_tls=(--tls-cert "$tls_dir/admin.crt" --tls-key "$tls_dir/admin.key" --tls-ca "$tls_dir/ca.crt")
  fi
}

# First secure start: a CA, the nodes' certificates, the admin's and a consumer's.
make_certs() {
  local args=() n i=0
  for n in "${nodes[@]}"; do
    [[ -f "$tls_dir/$n.crt" ]] || args+=(--node "$n=127.0.0.1")
    i=$((i + 1))
  done
  [[ -f "$tls_dir/admin.crt" ]] || args+=(--user admin)
  [[ -f "$tls_dir/consumer.crt" ]] || args+=(--user consumer)
  if [[ ${#args[@]} -gt 0 ]]; then
    "$cohort" certs create --dir "$tls_dir" "${args[@]}" > "$dir/certs.out"
    echo "certificates in $tls_dir (CA, ${args[*]})"
    return 0
  fi
  return 1
}

write_env() {
  local p="$1"
  if [[ $insecure -eq 1 ]]; then
    cat > "$cohort_env" <<EOF
# scripts/cluster.sh: \`source $cohort_env\` to reach this cluster with scripts/cohort (plaintext).
export COHORT_PEERS=$p
export COHORT_INSECURE=1
unset COHORT_TLS_CERT COHORT_TLS_KEY COHORT_TLS_CA
EOF
  else
    cat > "$cohort_env" <<EOF
# scripts/cluster.sh: \`source $cohort_env\` to reach this cluster with scripts/cohort, as its admin.
export COHORT_PEERS=$p
export COHORT_TLS_CERT=$tls_dir/admin.crt
export COHORT_TLS_KEY=$tls_dir/admin.key
export COHORT_TLS_CA=$tls_dir/ca.crt
unset COHORT_INSECURE
EOF
  fi
}

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
  local p first=0 security bootstrap=""
  p="$(peers)"
  # --bootstrap only on the very first start: a node that lost its storage later must not be
  # formatted again under its id (it forgot its votes); it refuses to start and says what to do.
  if first_start; then
    bootstrap="--bootstrap"
  fi
  if [[ $insecure -eq 0 ]] && make_certs; then
    first=1
  fi
  write_env "$p"
  set_cli_tls
  for n in "${nodes[@]}"; do
    if pid="$(live_pid "$n")"; then
      echo "$n already running (pid $pid)"
      continue
    fi
    if [[ $insecure -eq 1 ]]; then
      security=(--insecure)
    else
      security=(--tls-cert "$tls_dir/$n.crt" --tls-key "$tls_dir/$n.key" --tls-ca "$tls_dir/ca.crt" --admin admin)
    fi
    COHORT_JAVA_OPTS="${COHORT_SERVER_JAVA_OPTS:--XX:+UseZGC -Xms256m -Xmx2g}" \
      nohup "$cohort" server $bootstrap --id "$n" --storage "$dir/$n" --peers "$p" "${security[@]}" >> "$dir/$n.log" 2>&1 < /dev/null &
    echo $! > "$dir/$n.pid"
    echo "$n started (pid $!, 127.0.0.1:$((base_port + ${n#n} - 1)), log $dir/$n.log)"
  done
  local deadline=$((SECONDS + ${COHORT_START_WAIT_S:-180}))
  until ready "$p"; do
    for n in "${nodes[@]}"; do
      if ! live_pid "$n" > /dev/null; then
        echo "cluster.sh: $n exited; last lines of $dir/$n.log:" >&2
        tail -n 5 "$dir/$n.log" >&2
        exit 1
      fi
    done
    if (( SECONDS > deadline )); then
      echo "cluster.sh: no leader after ${COHORT_START_WAIT_S:-180} s; see $dir/n*.log" >&2
      exit 1
    fi
    sleep 1
  done
  if [[ $first -eq 1 ]]; then
    "$cohort" acl grant consumer --role consumer --group '*' --peers "$p" "${cli_tls[@]}" > /dev/null
    echo "principal 'consumer' may consume every group (cohort acl list)"
  fi
  echo "to use this cluster: source $cohort_env"
  "$cohort" cluster status --peers "$p" "${cli_tls[@]}" $json
}

# True when every node answers and one leads (`cluster status --json`).
ready() {
  local json
  json="$("$cohort" cluster status --peers "$1" --json --timeout 3 "${cli_tls[@]}" 2>/dev/null)" || true
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
  set_cli_tls
  "$cohort" cluster status --peers "$(peers)" "${cli_tls[@]}" $json
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) usage ;;
esac
