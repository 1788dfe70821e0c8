package io.cohort.harness.bench;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.Parameters;
import com.beust.jcommander.ParametersDelegate;
import io.cohort.client.CohortClient;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.CommitCheckpoints;
import io.cohort.tools.CliCommand;
import io.cohort.tools.CliContext;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongFunction;

/**
 * {@code cohort bench commit}: single-partition checkpoint commits (one {@code CommitCheckpoints}
 * with one entry each) at 1, 16 and 128 in flight against three Cohort server processes, then the
 * same load, the same command bytes, against three no-op Ratis servers with the same settings; prints
 * ops/s, p50/p99 and CPU per level and the ratio Cohort/no-op.
 */
@Parameters(commandDescription = "Benchmark: single-partition commits at 1/16/128 in flight vs a no-op Ratis baseline")
public final class CommitBench implements CliCommand {
  @ParametersDelegate
  BenchOptions options = new BenchOptions();

  @Parameter(names = "--warmup-s", description = "warm-up at the highest level before measuring (JIT: ~90 s on 2 cores)")
  int warmupS = 90;

  @Parameter(names = "--measure-s", description = "measured seconds per level")
  int measureS = 20;

  @Parameter(names = "--in-flight", description = "comma-separated in-flight levels")
  String levels = "1,16,128";

  @Parameter(names = "--partitions", description = "partitions the commits cycle over (one consumer holds them all)")
  int partitions = 128;

  @Parameter(names = "--no-baseline", description = "skip the no-op Ratis baseline")
  boolean noBaseline;

  @Parameter(names = "--compare-tls", description = "instead of the no-op baseline: Cohort with mutual TLS beside "
      + "plaintext, alternating A (plaintext) B (TLS) for --rounds rounds, each on fresh servers; prints every run "
      + "and TLS/plaintext per level (target >= 0.7)")
  boolean compareTls;

  @Parameter(names = "--rounds", description = "with --compare-tls: how many A B rounds")
  int rounds = 2;

  /** One measured level. */
  record Level(int inFlight, double opsPerS, double p50Ms, double p99Ms, long errors, double serverCores,
      double loadCores) {}

  private PrintStream out;

  @Override
  public int run(CliContext ctx) throws Exception {
    out = ctx.out;
    int[] inFlight = Arrays.stream(levels.split(",")).map(String::trim).mapToInt(Integer::parseInt).toArray();
    int max = Arrays.stream(inFlight).max().orElse(1);
    out.printf("bench commit: levels %s in flight, warm-up %d s at %d, %d s measured per level, %d cores%n",
        levels, warmupS, max, measureS, Runtime.getRuntime().availableProcessors());
    if (compareTls) {
      return compareTls(inFlight, max);
    }
    Path work = options.workDir("cohort-bench-commit-", out);
    try {
      Map<Integer, Level> cohort;
      int[] payload = new int[1];
      CommitWorkload setup;
      ServerProcesses servers = options.peers == null ? options.startServers(ServerProcesses.Kind.COHORT, work, out) : null;
      try (CohortClient client = options.client(servers);
          Scratch scratch = new Scratch(client, servers == null, out)) {
        setup = CommitWorkload.setUp(scratch, partitions);
        payload[0] = setup.commands().apply(1_000_000).toByteArray().length;
        out.printf("cohort: group %s holds %d partitions; command %d bytes%n", setup.group(), partitions, payload[0]);
        cohort = measure("cohort", client, setup.commands(), true, inFlight, max, servers);
        setup.keepAlive().shutdownNow();
      } finally {
        if (servers != null) {
          servers.close();
        }
      }
      Map<Integer, Level> noop = new LinkedHashMap<>();
      if (!noBaseline && options.peers == null) {
        try (ServerProcesses ns = options.startServers(ServerProcesses.Kind.NOOP, work, out);
            CohortClient client = options.client(ns)) {
          noop = measure("no-op", client, setup.commands(), false, inFlight, max, ns);
        }
      }
      out.println();
      out.println("| in flight | Cohort ops/s | p50 ms | p99 ms | no-op ops/s | p50 ms | p99 ms | Cohort/no-op | CPU Cohort (servers+load) | CPU no-op |");
      out.println("|---:|---:|---:|---:|---:|---:|---:|---:|---|---|");
      StringBuilder last = new StringBuilder("bench commit");
      last.append(" payload_bytes=").append(payload[0]).append(" warmup_s=").append(warmupS)
          .append(" measure_s=").append(measureS);
      for (int n : inFlight) {
        Level c = cohort.get(n);
        Level b = noop.get(n);
        double ratio = b == null ? Double.NaN : c.opsPerS / b.opsPerS;
        out.printf("| %d | %,.0f | %.1f | %.1f | %s | %s | %s | %s | %.2f+%.2f | %s |%n", n, c.opsPerS, c.p50Ms, c.p99Ms,
            b == null ? "-" : String.format("%,.0f", b.opsPerS), b == null ? "-" : String.format("%.1f", b.p50Ms),
            b == null ? "-" : String.format("%.1f", b.p99Ms), b == null ? "-" : String.format("%.0f%%", ratio * 100),
            c.serverCores, c.loadCores, b == null ? "-" : String.format("%.2f+%.2f", b.serverCores, b.loadCores));
        last.append(String.format(" cohort_%d_ops=%.0f cohort_%d_p50_ms=%.1f cohort_%d_p99_ms=%.1f", n, c.opsPerS, n,
            c.p50Ms, n, c.p99Ms));
        if (b != null) {
          last.append(String.format(" noop_%d_ops=%.0f noop_%d_p99_ms=%.1f ratio_%d=%.2f", n, b.opsPerS, n, b.p99Ms, n,
              ratio));
        }
        last.append(" errors_").append(n).append('=').append(c.errors);
      }
      out.println();
      out.println(last);
      return 0;
    } finally {
      options.cleanUp(work, out);
    }
  }

  /** A B A B: plaintext and mutual TLS alternate, each run on fresh servers, so drift hits both alike. */
  private int compareTls(int[] inFlight, int max) throws Exception {
    if (options.peers != null) {
      throw new com.beust.jcommander.ParameterException("--compare-tls starts its own servers: no --peers");
    }
    if (rounds < 1) {
      throw new com.beust.jcommander.ParameterException("--rounds must be at least 1");
    }
    Path work = options.workDir("cohort-bench-commit-tls-", out);
    Map<Boolean, java.util.List<Map<Integer, Level>>> runs = new LinkedHashMap<>();
    runs.put(false, new java.util.ArrayList<>());
    runs.put(true, new java.util.ArrayList<>());
    int payload = 0;
    try {
      for (int round = 1; round <= rounds; round++) {
        for (boolean secure : new boolean[] {false, true}) {
          String name = (secure ? "tls" : "plaintext") + "#" + round;
          try (ServerProcesses servers = options.startServers(ServerProcesses.Kind.COHORT, work, out, secure,
              "round" + round + (secure ? "-tls" : "-plaintext"));
              CohortClient client = options.client(servers);
              Scratch scratch = new Scratch(client, false, out)) {
            CommitWorkload setup = CommitWorkload.setUp(scratch, partitions);
            payload = setup.commands().apply(1_000_000).toByteArray().length;
            runs.get(secure).add(measure(name, client, setup.commands(), true, inFlight, max, servers));
            setup.keepAlive().shutdownNow();
          }
        }
      }
      out.println();
      out.println("| in flight | plaintext ops/s (each run) | TLS ops/s (each run) | TLS/plaintext | p99 ms plaintext | p99 ms TLS |");
      out.println("|---:|---|---|---:|---:|---:|");
      StringBuilder last = new StringBuilder("bench commit-tls rounds=").append(rounds).append(" payload_bytes=")
          .append(payload).append(" warmup_s=").append(warmupS).append(" measure_s=").append(measureS);
      for (int n : inFlight) {
        double[] plain = runs.get(false).stream().mapToDouble(m -> m.get(n).opsPerS).toArray();
        double[] tls = runs.get(true).stream().mapToDouble(m -> m.get(n).opsPerS).toArray();
        double plainMean = java.util.Arrays.stream(plain).average().orElse(Double.NaN);
        double tlsMean = java.util.Arrays.stream(tls).average().orElse(Double.NaN);
        double p99Plain = runs.get(false).stream().mapToDouble(m -> m.get(n).p99Ms).average().orElse(Double.NaN);
        double p99Tls = runs.get(true).stream().mapToDouble(m -> m.get(n).p99Ms).average().orElse(Double.NaN);
        out.printf("| %d | %s | %s | %.2f | %.1f | %.1f |%n", n, each(plain), each(tls), tlsMean / plainMean,
            p99Plain, p99Tls);
        last.append(String.format(" plain_%d_ops=%.0f tls_%d_ops=%.0f ratio_%d=%.2f", n, plainMean, n, tlsMean, n,
            tlsMean / plainMean));
      }
      out.println();
      out.println(last);
      return 0;
    } finally {
      options.cleanUp(work, out);
    }
  }

  private static String each(double[] values) {
    StringBuilder b = new StringBuilder();
    for (double v : values) {
      b.append(b.length() == 0 ? "" : ", ").append(String.format("%,.0f", v));
    }
    return b.toString();
  }

  private Map<Integer, Level> measure(String name, CohortClient client, LongFunction<Command> commands,
      boolean checkOk, int[] levels, int max, ServerProcesses servers) throws InterruptedException {
    out.printf("%s: warm-up %d s at %d in flight%n", name, warmupS, max);
    ClosedLoop warm = new ClosedLoop(client, commands, checkOk);
    warm.add(max);
    long start = System.nanoTime();
    long lastOk = 0;
    for (int s = 10; s <= warmupS; s += 10) {
      ServerProcesses.sleepMs(Math.max(0, start / 1_000_000 + s * 1000L - System.nanoTime() / 1_000_000));
      long ok = warm.ok();
      out.printf("  t=%3d s: %,.0f ops/s (errors so far %d)%n", s, (ok - lastOk) / 10.0, warm.errors());
      out.flush();
      lastOk = ok;
    }
    ServerProcesses.sleepMs(Math.max(0, start / 1_000_000 + warmupS * 1000L - System.nanoTime() / 1_000_000));
    warm.stop();
    Map<Integer, Level> result = new LinkedHashMap<>();
    for (int n : levels) {
      ClosedLoop loop = new ClosedLoop(client, commands, checkOk);
      loop.add(n);
      ServerProcesses.sleepMs(2000); // settle at this level
      Latencies lat = new Latencies();
      long errors0 = loop.errors();
      Cpu cpu = Cpu.start(servers);
      long t0 = System.nanoTime();
      loop.record(lat);
      ServerProcesses.sleepMs(measureS * 1000L);
      loop.record(null);
      double secs = (System.nanoTime() - t0) / 1e9;
      double serverCores = cpu.serverCores();
      double loadCores = cpu.loadCores();
      loop.stop();
      long[] sorted = lat.sorted();
      Level l = new Level(n, sorted.length / secs, Latencies.quantileMs(sorted, 0.5),
          Latencies.quantileMs(sorted, 0.99), loop.errors() - errors0, serverCores, loadCores);
      out.printf("%s: %4d in flight: %,8.0f ops/s  p50 %6.1f ms  p99 %6.1f ms  errors %d  CPU servers %.2f + load %.2f cores%n",
          name, n, l.opsPerS, l.p50Ms, l.p99Ms, l.errors, serverCores, loadCores);
      out.flush();
      result.put(n, l);
    }
    return result;
  }
}
