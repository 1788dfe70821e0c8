#!/usr/bin/env bash
# JMH benchmark of Coordinator.apply (statemachine) at 1,000 groups / 100,000 partitions / 10,000
# members, with allocation per operation (-prof gc). Extra arguments go to JMH, e.g. -f 1 -wi 1.
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -B -q -pl statemachine test-compile dependency:build-classpath \
  -Dmdep.outputFile=target/bench-classpath.txt -Dmdep.includeScope=test
cp="statemachine/target/test-classes:statemachine/target/classes:$(cat statemachine/target/bench-classpath.txt)"
exec java -cp "$cp" org.openjdk.jmh.Main 'io.cohort.statemachine.bench.ApplyBenchmark' -prof gc "$@"
