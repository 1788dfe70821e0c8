#!/usr/bin/env bash
# Snapshot take/load benchmark (raft-server): apply pause (freeze), MapDB write + MD5, file size and
# load at the given checkpoint counts (default 100000 1000000). Prints a markdown table.
#   scripts/bench-snapshot.sh [COUNT...]
#   scripts/bench-snapshot.sh --install [COUNT]   a follower catching up by snapshot install in a
#                                                 3-node in-JVM cluster (default 100000)
#   BENCH_JAVA_OPTS  JVM options (default: -Xmx6g -XX:+UseG1GC)
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -B -q -pl raft-server -am test-compile dependency:build-classpath \
  -Dmdep.outputFile=target/bench-classpath.txt -Dmdep.includeScope=test
cp="raft-server/target/test-classes:raft-server/target/classes:statemachine/target/classes"
cp="$cp:$(cat raft-server/target/bench-classpath.txt)"
main=io.cohort.server.snapshot.SnapshotBench
if [[ "${1:-}" == "--install" ]]; then
  main=io.cohort.server.bench.SnapshotInstallBench
  shift
fi
# shellcheck disable=SC2086 # BENCH_JAVA_OPTS is a list of options
exec java ${BENCH_JAVA_OPTS:--Xmx6g -XX:+UseG1GC} \
  -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
  -cp "$cp" "$main" "$@"
