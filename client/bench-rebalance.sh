#!/usr/bin/env bash
# E2 rebalance time with real consumers against three in-JVM servers (docs/BENCHMARKS.md,
# "Rebalance (client)"). Arguments go to io.cohort.client.RebalanceBench:
#   [runs=7] [intervalsMs=1000,5000] [warmupRuns=2] [random|aligned] [seed=1]
set -euo pipefail
cd "$(dirname "$0")/.."
cp_file="$PWD/client/target/bench-classpath.txt"
mvn -B -q -pl client -am -DskipTests package dependency:build-classpath \
  -Dmdep.outputFile="$cp_file" -Dmdep.includeScope=test
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
java -Xmx1g -XX:+UseG1GC -cp "client/target/test-classes:client/target/classes:$(cat "$cp_file")" \
  io.cohort.client.RebalanceBench "$@" 2> client/target/bench-rebalance.log
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
