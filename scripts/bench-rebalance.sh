#!/usr/bin/env bash
# E2 rebalance time with real consumers against three in-JVM servers (docs/BENCHMARKS.md,
# "Rebalance (client)"). The bench is a harness test source (io.cohort.client.RebalanceBench).
# Arguments go to it:
#   [runs=7] [intervalsMs=1000,5000] [warmupRuns=2] [random|aligned] [seed=1]
set -euo pipefail
cd "$(dirname "$0")/.."
cp_file="$PWD/harness/target/bench-classpath.txt"
mvn -B -q -pl harness -am -DskipTests package dependency:build-classpath \
  -Dmdep.outputFile="$cp_file" -Dmdep.includeScope=test
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
java -Xmx1g -XX:+UseG1GC -cp "harness/target/test-classes:harness/target/classes:$(cat "$cp_file")" \
  io.cohort.client.RebalanceBench "$@" 2> harness/target/bench-rebalance.log
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
