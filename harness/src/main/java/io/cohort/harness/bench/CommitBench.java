package io.cohort.harness.bench;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.Parameters;
import com.beust.jcommander.ParametersDelegate;
import io.cohort.client.CohortClient;
import io.cohort.tools.CliCommand;
import io.cohort.tools.CliContext;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * {@code cohort bench commit}: single-partition checkpoint commits (one {@code CommitCheckpoints}
 * with one entry each) at 1, 16 and 128 in flight. Pairs of phases, A B A B: three fresh Cohort
 * server processes, then three fresh no-op Ratis servers with the same settings and the same
 * command bytes; only one cluster runs at a time. Each phase warms up at the highest level until
 * its throughput is stable, recording ops/s per window of server age (the warm-up curve), then
 * measures each level. The load JVM is warmed first against a throwaway no-op cluster, so no
 * phase pays for the load's own JIT. Prints the levels and ratio per pair, both curves, and the
 * throughput at 60 s and 120 s of server age.
 */
@Parameters(commandDescription = "Benchmark: single-partition commits at 1/16/128 in flight vs a no-op Ratis baseline (A B A B)")
public final class CommitBench implements CliCommand {
  @ParametersDelegate
  BenchOptions options = new BenchOptions();

  @Parameter(names = "--pairs", description = "Cohort/no-op phase pairs, run A B A B (each phase: fresh servers)")
  int pairs = 2;

  @Parameter(names = "--warmup-s", description = "warm up for exactly this long (s of load) instead of until stable")
  Integer warmupS;

  @Parameter(names = "--warmup-min-s", description = "warm up at least to this server age (s); at least the largest --ages")
  double warmupMinS = 120;

  @Parameter(names = "--warmup-max-s", description = "stop warming up at this server age (s) even if not stable")
  double warmupMaxS = 300;

  @Parameter(names = "--stable-windows", description = "stable: the last this many windows ...")
  int stableWindows = 6;

  @Parameter(names = "--stable-pct", description = "... each within this many percent of their mean")
  double stablePct = 10;

  @Parameter(names = "--window-s", description = "warm-up curve window (s)")
  double windowS = 5;

  @Parameter(names = "--ages", description = "comma-separated server ages (s) whose warm-up throughput is compared")
  String ages = "60,120";

  @Parameter(names = "--load-warmup-s", description = "warm the load JVM first against a throwaway no-op cluster (0: no)")
  int loadWarmupS = 60;

  @Parameter(names = "--jit-log", description = "log the servers' JIT compilations and print counts per server by age")
  boolean jitLog;

  @Parameter(names = "--measure-s", description = "measured seconds per level")
  int measureS = 20;

  @Parameter(names = "--in-flight", description = "comma-separated in-flight levels")
  String levels = "1,16,128";

  @Parameter(names = "--partitions", description = "partitions the commits cycle over (one consumer holds them all)")
  int partitions = 128;

  @Parameter(names = "--no-baseline", description = "skip the no-op Ratis baseline (only Cohort phases)")
  boolean noBaseline;

  private PrintStream out;
  private double[] ageList;
  private CommitPhase phase;
  private CommitWorkload lastCohortWorkload;

  @Override
  public int run(CliContext ctx) throws Exception {
    out = ctx.out;
    int[] inFlight = positives("--in-flight", levels);
    ageList = Arrays.stream(positives("--ages", ages)).asDoubleStream().toArray();
    if (pairs < 1 || windowS <= 0 || measureS < 1 || partitions < 1 || loadWarmupS < 0
        || (warmupS != null && warmupS < 0)) {
      throw new IllegalArgumentException("need --pairs >= 1, --window-s > 0, --measure-s >= 1, --partitions >= 1, "
          + "--load-warmup-s >= 0, --warmup-s >= 0");
    }
    double minAge = Math.max(warmupMinS, Arrays.stream(ageList).max().orElse(0));
    WarmUpCurve.Rule rule = new WarmUpCurve.Rule(minAge, Math.max(minAge, warmupMaxS), stableWindows, stablePct);
    CommitPhase.WarmUp warmUp = new CommitPhase.WarmUp(windowS, warmupS, rule);
    phase = new CommitPhase(out, warmUp, measureS);
    boolean given = options.peers != null;
    int pairCount = given ? 1 : Math.max(1, pairs);
    boolean baseline = !noBaseline && !given;
    out.printf("bench commit: %s; levels %s in flight, %d s measured per level; %d %s; %d cores%n",
        given ? "the cluster at " + options.peers : baseline ? "A B A B, fresh servers per phase" : "Cohort only",
        levels, measureS, pairCount, baseline ? "pair(s)" : "phase(s)", Runtime.getRuntime().availableProcessors());
    out.printf("warm-up: %s; curve in %.0f s windows of server age%n", warmUp.describe(), windowS);
    Path work = options.workDir("cohort-bench-commit-", out);
    try {
      int payload;
      List<CommitReport.Pair> results = new ArrayList<>();
      if (given) {
        try (CohortClient client = options.client(options.peers);
            Scratch scratch = new Scratch(client, true, out)) {
          CommitWorkload w = CommitWorkload.setUp(scratch, partitions);
          payload = w.commands().apply(1_000_000).toByteArray().length;
          try {
            results.add(new CommitReport.Pair(1, phase.run("cohort", client, w.commands(), true, inFlight, null), null));
          } finally {
            w.stop();
          }
        }
      } else {
        payload = CommitWorkload.synthetic(partitions).commands().apply(1_000_000).toByteArray().length;
        if (baseline && loadWarmupS > 0) {
          warmLoad(work, inFlight);
        }
        for (int p = 1; p <= pairCount; p++) {
          CommitPhase.Result cohort = runPhase(ServerProcesses.Kind.COHORT, p, work, inFlight);
          CommitPhase.Result noop = baseline ? runPhase(ServerProcesses.Kind.NOOP, p, work, inFlight) : null;
          results.add(new CommitReport.Pair(p, cohort, noop));
        }
      }
      CommitReport report = new CommitReport(out, inFlight, ageList, windowS);
      report.print(results);
      out.println();
      out.println(report.summary(results, "payload_bytes=" + payload + " warmup_s="
          + (warmupS != null ? warmupS.toString() : "stable") + " measure_s=" + measureS));
      return 0;
    } finally {
      options.cleanUp(work, out);
    }
  }

  /** A comma-separated list of positive whole numbers, or a clear refusal. */
  private static int[] positives(String option, String list) {
    try {
      int[] v = Arrays.stream(list.split(",")).map(String::trim).mapToInt(Integer::parseInt).toArray();
      if (v.length > 0 && Arrays.stream(v).allMatch(x -> x > 0)) {
        return v;
      }
    } catch (NumberFormatException e) {
      // refused below
    }
    throw new IllegalArgumentException(option + " takes comma-separated positive whole numbers, got '" + list + "'");
  }

  /** Fresh servers of one kind under {@code work/<kind>-<pair>}, warmed and measured, then stopped. */
  private CommitPhase.Result runPhase(ServerProcesses.Kind kind, int pair, Path work, int[] inFlight) throws Exception {
    String name = (kind == ServerProcesses.Kind.COHORT ? "cohort" : "no-op") + " " + pair;
    Path dir = work.resolve(kind.name().toLowerCase() + "-" + pair);
    List<String> extra = jitLog ? JitLog.javaOpts(dir) : List.of();
    Files.createDirectories(dir);
    CommitPhase.Result result;
    String leader;
    long[] pids = new long[ServerProcesses.IDS.size()];
    try (ServerProcesses servers = options.startServers(kind, dir, extra, out);
        CohortClient client = options.client(servers.peers())) {
      for (int i = 0; i < pids.length; i++) {
        pids[i] = servers.pid(ServerProcesses.IDS.get(i));
      }
      if (kind == ServerProcesses.Kind.COHORT) {
        try (Scratch scratch = new Scratch(client, false, out)) {
          CommitWorkload w = CommitWorkload.setUp(scratch, partitions);
          out.printf("%s: group %s holds %d partitions; command %d bytes%n", name, w.group(), partitions,
              w.commands().apply(1_000_000).toByteArray().length);
          lastCohortWorkload = w;
          try {
            result = phase.run(name, client, w.commands(), true, inFlight, servers);
          } finally {
            w.stop();
          }
        }
      } else {
        CommitWorkload w = lastCohortWorkload != null ? lastCohortWorkload : CommitWorkload.synthetic(partitions);
        result = phase.run(name, client, w.commands(), false, inFlight, servers);
      }
      leader = servers.leaderOrNull();
    }
    if (jitLog) {
      out.printf("%s: JIT per server (compilations by server age; C2 code made not entrant = thrown away):%n", name);
      for (int i = 0; i < pids.length; i++) {
        String id = ServerProcesses.IDS.get(i);
        out.println("  " + JitLog.summary(id + (id.equals(leader) ? " (leader)" : ""), JitLog.file(dir, pids[i]),
            dir.resolve(id + ".log"), ageList));
      }
    }
    return result;
  }

  /** The load JVM's own JIT warm-up, against a throwaway no-op cluster, so that no phase pays for it. */
  private void warmLoad(Path work, int[] inFlight) throws Exception {
    int max = Arrays.stream(inFlight).max().orElse(1);
    out.printf("load warm-up: %d s at %d in flight against a throwaway no-op cluster (not reported)%n", loadWarmupS, max);
    try (ServerProcesses servers = options.startServers(ServerProcesses.Kind.NOOP, work.resolve("load-warmup"), List.of(),
        out); CohortClient client = options.client(servers.peers())) {
      ClosedLoop loop = new ClosedLoop(client, CommitWorkload.synthetic(partitions).commands(), false);
      loop.add(max);
      try {
        ServerProcesses.sleepMs(loadWarmupS * 1000L);
      } finally {
        loop.stop();
      }
      out.printf("load warm-up: %,d commands%n", loop.ok());
    }
  }
}
