package io.cohort.harness.bench;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.Parameters;
import com.beust.jcommander.ParametersDelegate;
import io.cohort.client.CohortClient;
import io.cohort.tools.CliCommand;
import io.cohort.tools.CliContext;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * {@code cohort bench commit}: single-partition checkpoint commits (one {@code CommitCheckpoints}
 * with one entry each) at 1, 16 and 128 in flight. Pairs of phases, A B A B: three fresh Cohort
 * server processes, then three fresh no-op Ratis servers with the same settings and the same
 * command bytes; only one cluster runs at a time. Each phase warms up at the highest level until
 * its throughput is stable, recording ops/s per window of server age (the warm-up curve), then
 * measures each level. The load JVM is warmed first against throwaway clusters of both kinds,
 * so no phase pays for the load's own JIT; their servers also write each kind's class archive,
 * which the phases' servers map as {@code scripts/cohort} does (class data sharing). Prints the
 * levels and ratio per pair, both curves, and the throughput at 60 s and 120 s of server age (the
 * mean over the 20 s centred on each).
 */
@Parameters(commandDescription = "Benchmark: single-partition commits at 1/16/128 in flight vs a no-op Ratis baseline (A B A B)")
public final class CommitBench implements CliCommand {
  @ParametersDelegate
  BenchOptions options = new BenchOptions();

  @Parameter(names = "--pairs", description = "Cohort/no-op phase pairs, run A B A B (each phase: fresh servers)")
  int pairs = 2;

  @Parameter(names = "--warmup-s", description = "warm up for exactly this long (s of load) instead of until stable")
  Integer warmupS;

  @Parameter(names = "--warmup-min-s", description = "warm up at least to this server age (s); at least the largest --ages "
      + "+ half --age-span-s")
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

  @Parameter(names = "--age-span-s", description = "each age's throughput is the mean over this span of server age "
      + "centred on it (one --window-s window: just that window)")
  double ageSpanS = 20;

  @Parameter(names = "--load-warmup-s", description = "warm the load JVM first: this many s against a throwaway cluster of each kind (0: no)")
  int loadWarmupS = 45;

  @Parameter(names = "--cds", arity = 1, description = "class data sharing for the servers, as scripts/cohort does: "
      + "the load warm-up's servers write an archive per kind, the phases' servers map it")
  boolean cds = true;

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

  @Parameter(names = "--compare-tls", description = "instead of the no-op baseline: pairs of Cohort plaintext (A) and "
      + "Cohort with mutual TLS (B), A B A B on fresh servers; prints TLS/plaintext per level (target >= 0.7)")
  boolean compareTls;

  @Parameter(names = "--compare-metrics", description = "instead of the no-op baseline: pairs of Cohort with its HTTP "
      + "endpoint off (A, --http-port 0) and on (B, every node scraped every 5 s), both plaintext, A B A B; "
      + "prints on/off per level (target >= 0.9)")
  boolean compareMetrics;

  @Parameter(names = "--compare-noop", description = "a control instead of Cohort: pairs of the no-op against itself "
      + "(A B A B, both no-op, fresh servers per phase); prints the ratios and the lines issue 14 sets for "
      + "Cohort/no-op, so the bench's own spread on this machine can be read beside Cohort's")
  boolean compareNoop;

  /**
   * One side of a pair: which servers, with or without TLS, their extra arguments, whether their
   * /metrics is scraped during the phase, and how the report names it.
   */
  private record Variant(String label, String key, ServerProcesses.Kind kind, boolean secure, List<String> args,
      boolean scrape) {
    Variant(String label, String key, ServerProcesses.Kind kind, boolean secure) {
      this(label, key, kind, secure, List.of(), false);
    }
  }

  private static final Variant TLS_PLAIN = new Variant("plaintext", "plain", ServerProcesses.Kind.COHORT, false);
  private static final Variant TLS_ON = new Variant("TLS", "tls", ServerProcesses.Kind.COHORT, true);
  private static final Variant METRICS_OFF = new Variant("metrics-off", "nometrics", ServerProcesses.Kind.COHORT,
      false, List.of("--http-port", "0"), false);
  private static final Variant METRICS_ON = new Variant("metrics-on", "metrics", ServerProcesses.Kind.COHORT, false,
      List.of(), true);
  private static final long SCRAPE_PERIOD_MS = 5_000;

  /** The two sides of a pair and how the report names and judges them. */
  record Sides(Variant a, Variant b, CommitReport.Labels labels) {}

  /** Cohort against the no-op, the no-op against itself, or a TLS or metrics comparison (ratios only). */
  static Sides sides(boolean compareNoop, boolean compareTls, boolean compareMetrics, boolean secure) {
    if (compareTls || compareMetrics) {
      Variant a = compareTls ? TLS_PLAIN : METRICS_OFF;
      Variant b = compareTls ? TLS_ON : METRICS_ON;
      return new Sides(a, b, new CommitReport.Labels(a.label(), b.label(), a.key(), b.key(), CommitReport.Verdicts.NONE));
    }
    CommitReport.Labels l = compareNoop ? CommitReport.Labels.NOOP_VS_NOOP : CommitReport.Labels.COHORT_VS_NOOP;
    return new Sides(new Variant(l.a(), l.aKey(), compareNoop ? ServerProcesses.Kind.NOOP : ServerProcesses.Kind.COHORT, secure),
        new Variant(l.b(), l.bKey(), ServerProcesses.Kind.NOOP, secure), l);
  }

  private PrintStream out;
  private double[] ageList;
  private CommitPhase phase;
  private CommitWorkload lastCohortWorkload;

  @Override
  public int run(CliContext ctx) throws Exception {
    out = ctx.out;
    int[] inFlight = BenchOptions.positives("--in-flight", levels);
    ageList = Arrays.stream(BenchOptions.positives("--ages", ages)).asDoubleStream().toArray();
    if (pairs < 1 || windowS <= 0 || measureS < 1 || partitions < 1 || loadWarmupS < 0
        || (warmupS != null && warmupS < 0) || ageSpanS < 0) {
      throw new IllegalArgumentException("need --pairs >= 1, --window-s > 0, --measure-s >= 1, --partitions >= 1, "
          + "--load-warmup-s >= 0, --warmup-s >= 0, --age-span-s >= 0");
    }
    double minAge = Math.max(warmupMinS, Arrays.stream(ageList).max().orElse(0) + ageSpanS / 2);
    WarmUpCurve.Rule rule = new WarmUpCurve.Rule(minAge, Math.max(minAge, warmupMaxS), stableWindows, stablePct);
    CommitPhase.WarmUp warmUp = new CommitPhase.WarmUp(windowS, warmupS, rule);
    phase = new CommitPhase(out, warmUp, measureS, ageList);
    boolean given = options.peers != null;
    int compares = (compareTls ? 1 : 0) + (compareMetrics ? 1 : 0) + (compareNoop ? 1 : 0);
    if (given && compares > 0) {
      throw new IllegalArgumentException("--compare-tls, --compare-metrics and --compare-noop start their own servers: no --peers");
    }
    if (compares > 1) {
      throw new IllegalArgumentException("choose one of --compare-tls, --compare-metrics and --compare-noop");
    }
    if (compareNoop && noBaseline) {
      throw new IllegalArgumentException("--compare-noop is two no-op phases per pair: not with --no-baseline");
    }
    int pairCount = given ? 1 : pairs;
    boolean baseline = compares > 0 || (!noBaseline && !given);
    boolean secure = !options.insecure; // the product's default: Cohort and the no-op both with mutual TLS
    Sides sides = sides(compareNoop, compareTls, compareMetrics, secure);
    Variant a = sides.a();
    Variant b = sides.b();
    out.printf("bench commit: %s; levels %s in flight, %d s measured per level; %d %s; %d cores%n",
        given ? "the cluster at " + options.peers : compareTls ? "Cohort plaintext vs mutual TLS, A B A B, fresh servers per phase"
        : compareMetrics ? "Cohort metrics off vs on (scraped every 5 s), plaintext, A B A B, fresh servers per phase"
        : compareNoop ? "control: no-op vs no-op" + (secure ? ", mutual TLS" : ", plaintext (--insecure)")
            + ", A B A B, fresh servers per phase"
        : (baseline ? "Cohort vs no-op" : "Cohort only") + (secure ? ", mutual TLS" : ", plaintext (--insecure)")
        + (baseline ? ", A B A B, fresh servers per phase" : ""),
        levels, measureS, pairCount, baseline ? "pair(s)" : "phase(s)", Runtime.getRuntime().availableProcessors());
    out.printf("warm-up: %s; curve in %.0f s windows of server age%n", warmUp.describe(), windowS);
    out.printf("class data sharing: %s%n", !cds ? "off" : given ? "the given cluster's own"
        : loadWarmupS > 0 ? "each kind's archive, written by the load warm-up's servers"
        : "off (no load warm-up to write the archives)");
    Path work = options.workDir("cohort-bench-commit-", out);
    try {
      int payload;
      List<CommitReport.Pair> results = new ArrayList<>();
      if (given) {
        try (CohortClient client = options.client((ServerProcesses) null);
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
        if (loadWarmupS > 0) {
          warmLoad(work, inFlight, baseline ? List.of(a, b) : List.of(a));
        }
        for (int p = 1; p <= pairCount; p++) {
          CommitPhase.Result first = runPhase(a, p, work, inFlight);
          CommitPhase.Result second = baseline ? runPhase(b, p, work, inFlight) : null;
          results.add(new CommitReport.Pair(p, first, second));
        }
      }
      CommitReport report = new CommitReport(out, inFlight, ageList, windowS, ageSpanS, sides.labels());
      report.print(results);
      out.println();
      out.println(report.summary(results, "payload_bytes=" + payload + " warmup_s="
          + (warmupS != null ? warmupS.toString() : "stable") + " measure_s=" + measureS));
      return 0;
    } finally {
      options.cleanUp(work, out);
    }
  }

  /**
   * The class archive of {@code kind} the phases' servers map: the first one a load warm-up server
   * wrote (one may not have finished dumping before it was stopped), or a path that does not exist.
   */
  static Path cdsArchive(Path work, String kind) throws IOException {
    for (String id : ServerProcesses.IDS) {
      Path a = cdsArchive(work, kind, id);
      if (Files.isRegularFile(a) && Files.size(a) > 0) {
        return a;
      }
    }
    return cdsArchive(work, kind, ServerProcesses.IDS.get(0));
  }

  private static Path cdsArchive(Path work, String kind, String node) {
    return work.resolve("cds").resolve(kind + "-" + node + ".jsa");
  }

  /** Each server's compiler-thread CPU from its start to each age (Linux only). */
  private void printCompilerCpu(String name, CommitPhase.Result result, String leader) {
    if (result.jitAtAge().isEmpty() || !CompilerCpu.available()) {
      return;
    }
    StringBuilder b = new StringBuilder(name + ": JIT compiler threads' CPU since start (C1 + C2 s):");
    result.jitAtAge().forEach((age, perServer) -> {
      b.append(String.format(" by age %.0f s", age));
      perServer.forEach((id, s) -> b.append(String.format(" %s%s %.1f+%.1f", id, id.equals(leader) ? "*" : "", s.c1(),
          s.c2())));
      b.append(';');
    });
    out.println(b.append(" (* leader); load JVM during the phase ")
        .append(String.format("%.1f+%.1f", result.loadJit().c1(), result.loadJit().c2())));
  }

  /** Thread classes shown by name in {@link #printThreadCpu}; the rest are summed as "other". */
  static final int THREAD_CLASSES_SHOWN = 8;

  /**
   * Where the servers' CPU went from their start to each age, by thread class, the largest first:
   * compares what a Cohort and a no-op server spend besides compiling (Linux only).
   */
  private void printThreadCpu(String name, CommitPhase.Result result) {
    result.threadsAtAge().forEach((age, byThread) -> {
      if (!byThread.isEmpty()) {
        out.printf("%s: CPU of the 3 servers by age %.0f s, by thread: %s%n", name, age, topThreads(byThread));
      }
    });
  }

  /** "total 104.2 s: a 40.1, b 23.0, ..., other 3.2" (thread classes by CPU, largest first). */
  static String topThreads(Map<String, Double> byThread) {
    List<Map.Entry<String, Double>> sorted = new ArrayList<>(byThread.entrySet());
    sorted.sort(Map.Entry.<String, Double>comparingByValue().reversed());
    double total = sorted.stream().mapToDouble(Map.Entry::getValue).sum();
    StringBuilder b = new StringBuilder(String.format("total %.1f s:", total));
    double other = total;
    for (int i = 0; i < Math.min(THREAD_CLASSES_SHOWN, sorted.size()); i++) {
      b.append(String.format(" %s %.1f,", sorted.get(i).getKey(), sorted.get(i).getValue()));
      other -= sorted.get(i).getValue();
    }
    return b.append(String.format(" other %.1f", Math.max(0, other))).toString();
  }

  /** Fresh servers of one kind under {@code work/<kind>-<pair>}, warmed and measured, then stopped. */
  private CommitPhase.Result runPhase(Variant v, int pair, Path work, int[] inFlight) throws Exception {
    ServerProcesses.Kind kind = v.kind();
    String name = v.label() + " " + pair;
    Path dir = work.resolve(v.key() + "-" + pair);
    List<String> extra = new ArrayList<>(jitLog ? JitLog.javaOpts(dir) : List.of());
    Path archive = cdsArchive(work, v.key());
    if (cds && Files.isRegularFile(archive) && Files.size(archive) > 0) {
      extra.add("-XX:SharedArchiveFile=" + archive);
    }
    Files.createDirectories(dir);
    CommitPhase.Result result;
    String leader;
    long[] pids = new long[ServerProcesses.IDS.size()];
    try (ServerProcesses servers = options.startServers(kind, dir, extra, v.args(), out, v.secure());
        CohortClient client = options.client(servers);
        MetricsScraper scraper = v.scrape() ? new MetricsScraper(servers.httpEndpoints(), SCRAPE_PERIOD_MS) : null) {
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
      if (scraper != null) {
        scraper.report(name, out);
      }
    }
    printCompilerCpu(name, result, leader);
    printThreadCpu(name, result);
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

  /**
   * The load JVM's own JIT warm-up, so that no phase pays for it: the load against a throwaway
   * Cohort cluster, then against a throwaway no-op cluster (as after a pair), not reported.
   */
  private void warmLoad(Path work, int[] inFlight, List<Variant> variants) throws Exception {
    int max = Arrays.stream(inFlight).max().orElse(1);
    long self = ProcessHandle.current().pid();
    CompilerCpu.Seconds jit0 = CompilerCpu.of(self);
    out.printf("load warm-up: %d s at %d in flight against a throwaway cluster of each kind: %s (not reported)%n",
        loadWarmupS, max, variants.stream().map(Variant::label).toList());
    for (Variant v : variants) {
      ServerProcesses.Kind kind = v.kind();
      Path archive = cdsArchive(work, v.key(), ServerProcesses.NODE_ID);
      Files.createDirectories(archive.getParent());
      List<String> extra = cds ? List.of("-XX:ArchiveClassesAtExit=" + archive, "-Xlog:cds=off", "-Xlog:cds+dynamic=off")
          : List.of();
      try (ServerProcesses servers = options.startServers(kind, work.resolve("load-warmup-" + v.key()),
          extra, v.args(), out, v.secure()); CohortClient client = options.client(servers);
          Scratch scratch = new Scratch(client, false, out)) {
        boolean cohort = kind == ServerProcesses.Kind.COHORT;
        CommitWorkload w = cohort ? CommitWorkload.setUp(scratch, partitions) : CommitWorkload.synthetic(partitions);
        ClosedLoop loop = new ClosedLoop(client, w.commands(), cohort);
        loop.add(max);
        try {
          ServerProcesses.sleepMs(loadWarmupS * 1000L);
        } finally {
          loop.stop();
          w.stop();
        }
        out.printf("load warm-up: %,d commands%n", loop.ok());
      }
    }
    CompilerCpu.Seconds jit = CompilerCpu.of(self).minus(jit0);
    if (cds) {
      for (Variant v : variants) {
        Path a = cdsArchive(work, v.key());
        out.printf("class archive for %s: %s%n", v.label(), Files.isRegularFile(a) && Files.size(a) > 0
            ? a + " (" + Files.size(a) / (1 << 20) + " MiB)"
            : "none written (a class path with directories cannot be archived); its phases run without");
      }
    }
    out.printf("load warm-up: the load JVM's compiler threads used %.1f s of CPU (C1 %.1f, C2 %.1f)%n",
        jit.c1() + jit.c2(), jit.c1(), jit.c2());
  }
}
