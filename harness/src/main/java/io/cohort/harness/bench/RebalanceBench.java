package io.cohort.harness.bench;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.Parameters;
import com.beust.jcommander.ParametersDelegate;
import io.cohort.client.CohortClient;
import io.cohort.client.GroupConsumer;
import io.cohort.statemachine.proto.CreateGroup;
import io.cohort.statemachine.proto.GroupView;
import io.cohort.statemachine.proto.StartFrom;
import io.cohort.tools.CliCommand;
import io.cohort.tools.CliContext;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * {@code cohort bench rebalance}: E2 with real {@code GroupConsumer}s in this JVM against three
 * server processes. A and B hold the 6 partitions 3/3; after a random delay within one interval
 * (the phase a consumer joins at, relative to A's and B's heartbeats), C starts; the time runs from
 * C's first heartbeat (sent at start) until the last of C's two partitions is granted to it, then
 * the group is checked balanced 2/2/2 with all six held. Members watch the leader (R12) unless
 * {@code --watch-timeout-ms 0}: then only heartbeats at the interval tell them (the step 10 figures).
 */
@Parameters(commandDescription = "Benchmark: E2 rebalance time (C joins A,B holding 6 partitions) at 1 s and 5 s heartbeat intervals")
public final class RebalanceBench implements CliCommand {
  @ParametersDelegate
  BenchOptions options = new BenchOptions();

  @Parameter(names = "--intervals-ms", description = "comma-separated heartbeat intervals")
  String intervals = "1000,5000";

  @Parameter(names = "--runs", description = "runs per interval")
  int runs = 7;

  @Parameter(names = "--warmup-runs", description = "runs at 1 s not counted (JIT)")
  int warmupRuns = 3;

  @Parameter(names = "--phase", description = "when C joins: random (in [0, interval) after A and B balanced),"
      + " aligned (at once: right after A's and B's heartbeats, the worst case without watches), or both")
  String phase = "random";

  @Parameter(names = "--watch-timeout-ms", description = "each member's watch timeout (R12); 0 = no watch")
  long watchTimeoutMs = io.cohort.client.ConsumerConfig.DEFAULT_WATCH_TIMEOUT_MS;

  @Parameter(names = "--seed", description = "seed of the join phases")
  long seed = 1;

  private int seq;
  private Scratch scratch;

  @Override
  public int run(CliContext ctx) throws Exception {
    PrintStream out = ctx.out;
    List<String> phases = switch (phase) {
      case "random", "aligned" -> List.of(phase);
      case "both" -> List.of("aligned", "random");
      default -> {
        ctx.err.println("bench rebalance: --phase must be random, aligned or both, not '" + phase + "'");
        yield null;
      }
    };
    if (phases == null) {
      return 2;
    }
    Path work = options.workDir("cohort-bench-rebalance-", out);
    Random random = new Random(seed);
    StringBuilder last = new StringBuilder("bench rebalance watch_timeout_ms=" + watchTimeoutMs);
    List<String> rows = new ArrayList<>();
    ServerProcesses servers = options.peers == null ? options.startServers(ServerProcesses.Kind.COHORT, work, out) : null;
    try (CohortClient client = options.client(servers);
        Scratch made = new Scratch(client, servers == null, out)) {
      scratch = made;
      for (int i = 0; i < warmupRuns; i++) {
        double ms = run(client, 1000, random.nextInt(1000));
        out.printf("warm-up run %d at 1000 ms: %.0f ms%n", i + 1, ms);
      }
      for (long interval : Arrays.stream(intervals.split(",")).map(String::trim).mapToLong(Long::parseLong).toArray()) {
        for (String p : phases) {
          List<Double> times = new ArrayList<>();
          for (int i = 0; i < runs; i++) {
            long phaseMs = p.equals("aligned") ? 0 : random.nextInt((int) interval);
            double ms = run(client, interval, phaseMs);
            times.add(ms);
            out.printf("interval %d ms, %s, run %d (C joins %d ms after B's balance): %.0f ms = %.2f intervals%n",
                interval, p, i + 1, phaseMs, ms, ms / interval);
            out.flush();
          }
          Latencies.Spread s = Latencies.Spread.of(times);
          rows.add(String.format("| %d | %s | %d | %.0f | %.0f | %.0f | %.2f | %s |", interval, p, runs, s.min(),
              s.median(), s.max(), s.median() / interval, times.stream().map(t -> String.format("%.0f", t)).toList()));
          String k = "i" + interval + (phases.size() > 1 ? "_" + p : "");
          last.append(String.format(" %s_runs=%d %s_min_ms=%.0f %s_median_ms=%.0f %s_max_ms=%.0f %s_median_x=%.2f",
              k, runs, k, s.min(), k, s.median(), k, s.max(), k, s.median() / interval));
        }
      }
    } finally {
      if (servers != null) {
        servers.close();
      }
      options.cleanUp(work, out);
    }
    out.println();
    out.println("| interval ms | phase | runs | min ms | median ms | max ms | median / interval | all |");
    out.println("|---:|---|---:|---:|---:|---:|---:|---|");
    rows.forEach(out::println);
    out.println(last);
    return 0;
  }

  /** One E2 run on a fresh topic and group; returns ms from C's start to its second grant. */
  private double run(CohortClient client, long interval, long phaseMs) throws Exception {
    seq++;
    String name = scratch.topicAndGroup("e2-" + interval + "-" + seq, 6, CreateGroup.newBuilder()
        .setSessionTimeoutMs(Math.max(10_000, 3 * interval)).setHeartbeatIntervalMs(interval)
        .setStartFrom(StartFrom.BEGIN));
    Members m = new Members(watchTimeoutMs);
    List<GroupConsumer<Object>> cs = new ArrayList<>();
    Duration wait = Duration.ofSeconds(60 + 10 * interval / 1000);
    try {
      cs.add(m.start(client, name, "A"));
      require(Members.await(() -> m.count("A") == 6, wait, 20), "A holds 6");
      cs.add(m.start(client, name, "B"));
      require(Members.await(() -> m.count("A") == 3 && m.count("B") == 3
          && balanced(client.blocking().describeGroup(name), Map.of("A", 3, "B", 3)), wait, 20), "A and B hold 3 each");
      ServerProcesses.sleepMs(phaseMs);
      long t0 = System.nanoTime();
      cs.add(m.start(client, name, "C"));
      require(Members.await(() -> m.count("C") == 2 && m.count("A") == 2 && m.count("B") == 2, wait, 5),
          "C holds 2 (A and B 2 each)");
      double ms = (m.lastAssignedNanos() - t0) / 1e6;
      require(Members.await(() -> balanced(client.blocking().describeGroup(name), Map.of("A", 2, "B", 2, "C", 2)),
          Duration.ofSeconds(10), 20), "the group balanced 2/2/2, all held");
      return ms;
    } finally {
      cs.parallelStream().forEach(GroupConsumer::close);
    }
  }

  private static boolean balanced(GroupView g, Map<String, Integer> expected) {
    return !Members.anyReleasing(g) && Members.held(g).equals(expected);
  }

  private static void require(boolean ok, String what) {
    if (!ok) {
      throw new IllegalStateException("timed out waiting until " + what);
    }
  }
}
