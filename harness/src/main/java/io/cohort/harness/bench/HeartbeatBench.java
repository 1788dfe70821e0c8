package io.cohort.harness.bench;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.Parameters;
import com.beust.jcommander.ParametersDelegate;
import io.cohort.client.CohortClient;
import io.cohort.client.CohortClientConfig;
import io.cohort.statemachine.proto.CreateGroup;
import io.cohort.statemachine.proto.StartFrom;
import io.cohort.tools.CliCommand;
import io.cohort.tools.CliContext;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * {@code cohort bench heartbeat}: simulated consumers (groups of {@code --group-size} members, each
 * group on its own topic of as many partitions) heartbeating at the suggested interval: sustained
 * heartbeats/s and latency at 1,000 and 10,000 consumers; then the largest count held at a 3 s
 * interval with p99 under 1 s (counts grow by {@code --capacity-factor} until one fails).
 */
@Parameters(commandDescription = "Benchmark: heartbeats/s and p99 of 1,000 and 10,000 simulated consumers; most consumers at a 3 s interval")
public final class HeartbeatBench implements CliCommand {
  @ParametersDelegate
  BenchOptions options = new BenchOptions();

  @Parameter(names = "--consumers", description = "comma-separated consumer counts, at --interval-ms")
  String counts = "1000,10000";

  @Parameter(names = "--interval-ms", description = "the groups' heartbeat interval for --consumers")
  long intervalMs = 1000;

  @Parameter(names = "--group-size", description = "consumers per group (each group reads a topic of as many partitions)")
  int groupSize = 100;

  @Parameter(names = "--warmup-s", description = "seconds after the joins before measuring (the first step also warms the JIT)")
  int warmupS = 30;

  @Parameter(names = "--first-warmup-s", description = "extra warm-up before the first step (JIT)")
  int firstWarmupS = 60;

  @Parameter(names = "--measure-s", description = "measured seconds per step")
  int measureS = 20;

  @Parameter(names = "--capacity-interval-ms", description = "interval of the capacity search")
  long capacityIntervalMs = 3000;

  @Parameter(names = "--capacity-start", description = "first consumer count of the capacity search (0 = skip it)")
  int capacityStart = 4000;

  @Parameter(names = "--capacity-factor", description = "growth per capacity step")
  double capacityFactor = 1.5;

  @Parameter(names = "--capacity-max", description = "largest count tried")
  int capacityMax = 40000;

  @Parameter(names = "--clients", description = "CohortClients (Ratis clients) the simulated consumers share")
  int clientCount = 4;

  record Step(int consumers, long intervalMs, double perS, double expectedPerS, double p50Ms, double p99Ms,
      long errors, long rejoins, long shed, double serverCores, double loadCores) {
    boolean held() {
      return p99Ms < 1000 && rejoins == 0 && perS >= 0.9 * expectedPerS;
    }
  }

  private PrintStream out;
  private int step;
  private Scratch scratch;

  @Override
  public int run(CliContext ctx) throws Exception {
    out = ctx.out;
    Path work = options.workDir("cohort-bench-heartbeat-", out);
    List<Step> fixed = new ArrayList<>();
    Step best = null;
    Step failed = null;
    ServerProcesses servers = options.peers == null ? options.startServers(ServerProcesses.Kind.COHORT, work, out) : null;
    List<CohortClient> clients = new ArrayList<>();
    try {
      String peers = servers != null ? servers.peers() : options.peers;
      for (int i = 0; i < clientCount; i++) {
        clients.add(CohortClient.connect(options.clientConfig(servers).maxOutstanding(Math.max(options.maxOutstanding,
            16384)).callTimeout(Duration.ofSeconds(30)).build()));
      }
      scratch = new Scratch(clients.get(0), servers == null, out);
      boolean first = true;
      for (int n : Arrays.stream(counts.split(",")).map(String::trim).mapToInt(Integer::parseInt).toArray()) {
        fixed.add(runStep(clients, servers, n, intervalMs, first ? firstWarmupS + warmupS : warmupS));
        first = false;
      }
      if (capacityStart > 0) {
        out.printf("capacity at a %d ms interval: the largest count with p99 < 1 s, no expiry, >= 90%% of the heartbeats due%n",
            capacityIntervalMs);
        for (double n = capacityStart; n <= capacityMax; n *= capacityFactor) {
          int count = (int) (Math.round(n / groupSize) * groupSize);
          Step s = runStep(clients, servers, count, capacityIntervalMs, first ? firstWarmupS + warmupS : warmupS);
          first = false;
          if (!s.held()) {
            failed = s;
            break;
          }
          best = s;
        }
      }
    } finally {
      if (scratch != null) {
        scratch.close();
      }
      for (CohortClient c : clients) {
        c.close();
      }
      if (servers != null) {
        servers.close();
      }
      options.cleanUp(work, out);
    }
    out.println();
    out.println("| consumers | interval ms | heartbeats/s | due/s | p50 ms | p99 ms | errors | rejoins | shed | CPU servers+load |");
    out.println("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    List<Step> all = new ArrayList<>(fixed);
    if (best != null) {
      all.add(best);
    }
    if (failed != null) {
      all.add(failed);
    }
    for (Step s : all) {
      out.printf("| %,d | %d | %,.0f | %,.0f | %.1f | %.1f | %d | %d | %d | %.2f+%.2f |%n", s.consumers, s.intervalMs,
          s.perS, s.expectedPerS, s.p50Ms, s.p99Ms, s.errors, s.rejoins, s.shed, s.serverCores, s.loadCores);
    }
    StringBuilder last = new StringBuilder("bench heartbeat");
    for (Step s : fixed) {
      last.append(String.format(" c%d_per_s=%.0f c%d_p50_ms=%.1f c%d_p99_ms=%.1f", s.consumers, s.perS, s.consumers,
          s.p50Ms, s.consumers, s.p99Ms));
    }
    if (capacityStart > 0) {
      last.append(" max_consumers_at_").append(capacityIntervalMs).append("ms=").append(best == null ? 0 : best.consumers);
      if (best != null) {
        last.append(String.format(" at_max_p99_ms=%.1f", best.p99Ms));
      }
      if (failed != null) {
        last.append(" failed_at=").append(failed.consumers).append(String.format(" failed_p99_ms=%.1f", failed.p99Ms));
      }
    }
    out.println(last);
    return 0;
  }

  private Step runStep(List<CohortClient> clients, ServerProcesses servers, int consumers, long interval, int warmS)
      throws InterruptedException {
    step++;
    int groups = Math.max(1, (consumers + groupSize - 1) / groupSize);
    long session = Math.max(10_000, 3 * interval + 1000);
    List<String> names = new ArrayList<>();
    for (int g = 0; g < groups; g++) {
      names.add(scratch.topicAndGroup("hb" + step + "-" + g, groupSize, CreateGroup.newBuilder().setSessionTimeoutMs(session)
          .setHeartbeatIntervalMs(interval).setStartFrom(StartFrom.BEGIN)));
    }
    HeartbeatSim sim = new HeartbeatSim(clients, 2);
    for (int g = 0; g < groups; g++) {
      String name = names.get(g);
      sim.add(name, "c", Math.min(groupSize, consumers - g * groupSize), interval);
    }
    out.printf("step %d: %,d consumers in %d groups at %d ms (session %d ms): warm-up %d s ...%n", step, consumers, groups,
        interval, session, warmS);
    out.flush();
    ServerProcesses.sleepMs(warmS * 1000L);
    long c0 = sim.completed.get();
    long e0 = sim.errors.get();
    long r0 = sim.rejoins.get();
    long s0 = sim.shed.get();
    Latencies lat = new Latencies();
    Cpu cpu = Cpu.start(servers);
    long t0 = System.nanoTime();
    sim.record(lat);
    ServerProcesses.sleepMs(measureS * 1000L);
    sim.record(null);
    double secs = (System.nanoTime() - t0) / 1e9;
    double sc = cpu.serverCores();
    double lc = cpu.loadCores();
    long done = sim.completed.get() - c0;
    long[] sorted = lat.sorted();
    Step s = new Step(consumers, interval, done / secs, consumers * 1000.0 / interval, Latencies.quantileMs(sorted, 0.5),
        Latencies.quantileMs(sorted, 0.99), sim.errors.get() - e0, sim.rejoins.get() - r0, sim.shed.get() - s0, sc, lc);
    sim.stop();
    out.printf("  %,d consumers at %d ms: %,.0f heartbeats/s (due %,.0f/s)  p50 %.1f ms  p99 %.1f ms  errors %d  rejoins %d  shed %d  CPU servers %.2f + load %.2f%s%n",
        consumers, interval, s.perS, s.expectedPerS, s.p50Ms, s.p99Ms, s.errors, s.rejoins, s.shed, sc, lc,
        interval == capacityIntervalMs ? (s.held() ? "  [held]" : "  [NOT held]") : "");
    out.flush();
    ServerProcesses.sleepMs(3000);
    return s;
  }
}
