#!/usr/bin/env bash
# Benchmarks of the statemachine module (Coordinator.apply on one thread), figures in docs/BENCHMARKS.md.
#   scripts/bench-apply.sh [JMH args]            ApplyBenchmark: commits and steady heartbeats at 1,000 groups /
#                                                100,000 partitions / 10,000 members, with -prof gc
#   scripts/bench-apply.sh assignor [JMH args]   AssignorBenchmark: one join, release, leave, expiry or split at
#                                                1k/10k partitions x 10/100/1,000 members (R4, step 6)
#   scripts/bench-apply.sh --memory N [N ...]    MemoryFootprint: heap bytes per slot (N slots) and per member (R9)
# Extra JMH arguments, e.g. -f 1 -wi 1, or -p partitions=10000 -p members=1000.
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -B -q -pl statemachine test-compile org.apache.maven.plugins:maven-dependency-plugin:3.11.0:build-classpath \
  -Dmdep.outputFile=target/bench-classpath.txt -Dmdep.includeScope=test
# A private copy of the classes, so a build during a long run cannot pull them from under the forks.
classes=$(mktemp -d /tmp/cohort-bench-classes.XXXXXX)
trap 'rm -rf "$classes"' EXIT
cp -r statemachine/target/test-classes "$classes/test-classes"
cp -r statemachine/target/classes "$classes/classes"
cp="$classes/test-classes:$classes/classes:$(cat statemachine/target/bench-classpath.txt)"
case "${1:-}" in
  assignor)
    shift
    java -cp "$cp" org.openjdk.jmh.Main 'io.cohort.statemachine.bench.AssignorBenchmark' "$@" ;;
  --memory)
    shift
    java -Xmx4g -XX:+UseG1GC -cp "$cp" io.cohort.statemachine.bench.MemoryFootprint "${@:-100000 1000000}" ;;
  *)
    java -cp "$cp" org.openjdk.jmh.Main 'io.cohort.statemachine.bench.ApplyBenchmark' -prof gc "$@" ;;
esac
