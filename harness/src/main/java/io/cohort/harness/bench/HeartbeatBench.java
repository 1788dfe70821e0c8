package io.cohort.harness.bench;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.Parameters;
import com.beust.jcommander.ParametersDelegate;
import com.google.protobuf.ByteString;
import io.cohort.client.CohortClient;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.CreateGroup;
import io.cohort.statemachine.proto.Heartbeat;
import io.cohort.statemachine.proto.PartitionRef;
import io.cohort.statemachine.proto.StartFrom;
import io.cohort.tools.CliCommand;
import io.cohort.tools.CliContext;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code cohort bench heartbeat} (issue 14): simulated consumers (groups of {@code --group-size}
 * members, each group on its own topic of as many partitions) heartbeating as the real consumer
 * does (quiet heartbeats answered off the log unless {@code --quiet false}; each keeps a watch on
 * the leader unless {@code --watches false}, as the client does since step 11). First the no-op Ratis
 * write ceiling of heartbeat-sized commands on three no-op servers with the same TLS; then, on three
 * Cohort servers, a capacity search at a fixed interval: the consumer count grows by {@code
 * --capacity-factor} while a step holds (p99 < 200 ms, >= 90 % of the heartbeats due served, no
 * session lost), the last that held gives the sustainable rate R; then one overload step at 1.5x
 * its consumers. Prints R / ceiling (goal >= 4) and whether the overload step collapsed.
 */
@Parameters(commandDescription = "Benchmark: sustainable heartbeats/s (p99 < 200 ms) vs the no-op Ratis write ceiling, and 1.5x overload")
public final class HeartbeatBench implements CliCommand {
  /** The simulated consumers' calls: one attempt each, given up after this. */
  private static final Duration CALL_TIMEOUT = Duration.ofSeconds(30);
  @ParametersDelegate
  BenchOptions options = new BenchOptions();

  @Parameter(names = "--quiet", arity = 1, description = "heartbeats that change nothing go quietly, answered off the log, "
      + "as the consumer sends them (false: every heartbeat through the log, for comparison)")
  boolean quiet = true;

  @Parameter(names = "--interval-ms", description = "the groups' heartbeat interval")
  long intervalMs = 1000;

  @Parameter(names = "--group-size", description = "consumers per group (each group reads a topic of as many partitions)")
  int groupSize = 100;

  @Parameter(names = "--capacity-start", description = "consumers of the first step")
  int capacityStart = 2000;

  @Parameter(names = "--capacity-factor", description = "growth of the consumer count per step (> 1)")
  double capacityFactor = 1.5;

  @Parameter(names = "--capacity-max", description = "largest consumer count tried")
  int capacityMax = 100_000;

  @Parameter(names = "--warmup-s", description = "seconds after the joins before measuring a step")
  int warmupS = 15;

  // Both kinds warm ~150 s or more before they are measured: on 2 cores the servers' JIT runs for
  // 100-200 s, and a step measured earlier failed on it where the same load held a minute later.
  @Parameter(names = "--first-warmup-s", description = "extra warm-up before the first step (the servers' JIT)")
  int firstWarmupS = 170;

  @Parameter(names = "--join-rate", description = "a step's consumers join at most this many per second (their first "
      + "heartbeats spread over consumers / rate s, at least one interval); the warm-up starts once all joined; 0: all "
      + "within one interval")
  int joinRate = 500;

  // Each step starts from empty groups. Without a delay the first member takes all 100 partitions and
  // each later join takes its share from the others: ~86,000 handoffs at 16,600 consumers, two
  // replicated heartbeats each, which on 2 cores often outlasted the warm-up (docs/BENCHMARKS.md).
  // Kafka's brokers default to 3 s for the same reason.
  @Parameter(names = "--initial-rebalance-delay-ms", description = "the groups' initial rebalance delay: joins into an "
      + "empty group are assigned together this long after the latest (at most a minute after the first); 0: "
      + "each join is handed its share at once")
  long initialRebalanceDelayMs = 3_000;

  @Parameter(names = "--quiet-while-waiting", arity = 1, description = "with --quiet: a member whose only handoff is a "
      + "grant it waits for polls at the handoff interval quietly (false: through the log, as before)")
  boolean quietWhileWaiting = true;

  @Parameter(names = "--watches", arity = 1, description = "each consumer keeps a watch on the leader, as the client "
      + "does (R12), and while it is placed polls a handoff at the group's interval (false: no watch, a handoff is "
      + "polled at the handoff interval)")
  boolean watches = true;

  // A step starts from empty groups: its members join one by one and the partitions move as each
  // joins. Measured 15 s after the joins, the first 6,800 step of the default run still had 455
  // members in such a handoff, and its p99 came from the first 5 s of the window (docs/BENCHMARKS.md).
  @Parameter(names = "--settle-max-s", description = "after the warm-up, wait up to this long for the step's join "
      + "storm to settle (no member in a handoff, no answer >= 200 ms for a second) before measuring; 0: measure "
      + "right after the warm-up")
  int settleMaxS = 60;

  @Parameter(names = "--measure-s", description = "measured seconds per step")
  int measureS = 15;

  @Parameter(names = "--clients", description = "CohortClients (Ratis clients) the simulated consumers share")
  int clientCount = 4;

  @Parameter(names = "--no-baseline", description = "skip the no-op Ratis write ceiling (no ratio); also with --peers")
  boolean noBaseline;

  @Parameter(names = "--noop-in-flight", description = "comma-separated in-flight levels of the no-op ceiling (the best counts)")
  String noopLevels = "128,512";

  @Parameter(names = "--noop-warmup-s", description = "warm-up of the no-op servers at the highest level (s)")
  int noopWarmupS = 150;

  @Parameter(names = "--noop-measure-s", description = "measured seconds per no-op level")
  int noopMeasureS = 10;

  @Parameter(names = "--overload-consumers", description = "diagnostic: after the capacity steps, an overload step of "
      + "this many consumers whether or not a step held (0: 1.5x the sustainable count, run only if one held)")
  int overloadConsumers;

  @Parameter(names = "--stall-leader-ms", description = "diagnostic: stop the leader's process (SIGSTOP, then SIGCONT) "
      + "this long a third into each measured window, as a long pause would (0: never; needs the servers it starts)")
  long stallLeaderMs;

  @Parameter(names = "--stalls", description = "with --stall-leader-ms: stall each new leader in turn, this many times "
      + "(a run of elections, as on a starved machine)")
  int stalls = 1;

  private PrintStream out;
  private int step;
  private Scratch scratch;
  private final List<String> groups = new ArrayList<>();

  @Override
  public int run(CliContext ctx) throws Exception {
    out = ctx.out;
    int[] levels = BenchOptions.positives("--noop-in-flight", noopLevels);
    if (intervalMs < 100 || groupSize < 1 || capacityStart < 1 || capacityFactor <= 1 || capacityMax < capacityStart
        || warmupS < 0 || firstWarmupS < 0 || measureS < 1 || clientCount < 1 || noopWarmupS < 0 || noopMeasureS < 1
        || joinRate < 0 || settleMaxS < 0 || overloadConsumers < 0 || initialRebalanceDelayMs < 0
        || stallLeaderMs < 0 || stalls < 1 || stallLeaderMs * stalls >= measureS * 1000L / 2) {
      throw new IllegalArgumentException("need --interval-ms >= 100, --group-size >= 1, --capacity-start >= 1, "
          + "--capacity-factor > 1, --capacity-max >= --capacity-start, --warmup-s/--first-warmup-s/--noop-warmup-s/--settle-max-s >= 0, "
          + "--measure-s/--noop-measure-s >= 1, --clients >= 1, --join-rate >= 0, --overload-consumers >= 0, "
          + "--initial-rebalance-delay-ms >= 0, 0 <= --stall-leader-ms x --stalls < half the measured window");
    }
    boolean baseline = !noBaseline && options.peers == null;
    out.printf("bench heartbeat: %s heartbeats%s at a %d ms interval, groups of %d; steps from %,d consumers x%.2f "
            + "up to %,d, %d s warm-up (first +%d s), then up to %d s more until the joins' handoffs settled, and %d s "
            + "measured each; %s; %d cores%n",
        quiet ? "quiet" : "all-replicated (--quiet false)", (quiet ? " (NEEDS_WRITE falls back to the log)" : "")
            + (watches ? ", members watching" : ", no watches (--watches false)"), intervalMs,
        groupSize, capacityStart, capacityFactor, capacityMax, warmupS, firstWarmupS, settleMaxS, measureS,
        options.peers != null ? "the cluster at " + options.peers : options.insecure ? "plaintext" : "mutual TLS",
        Runtime.getRuntime().availableProcessors());
    Path work = options.workDir("cohort-bench-heartbeat-", out);
    double ceiling = Double.NaN;
    List<HeartbeatStep> steps = new ArrayList<>();
    HeartbeatStep sustainable = null;
    HeartbeatStep overload = null;
    try {
      if (baseline) {
        ceiling = noopCeiling(work, levels);
      }
      ServerProcesses servers = options.peers == null ? options.startServers(ServerProcesses.Kind.COHORT, work, out) : null;
      List<CohortClient> clients = new ArrayList<>();
      try {
        // One attempt per call, as a consumer's own client makes (10 s and 10 s by default), here of 30 s: with
        // 10 s attempts in a 30 s call, Ratis sent every call late by 10 s again, and in a cold 10,100-consumer
        // join storm more than half the writes reaching the leader were such repeats (its retry cache: 84,656
        // hits, 67,909 misses).
        for (int i = 0; i < clientCount; i++) {
          clients.add(CohortClient.connect(options.clientConfig(servers).maxOutstanding(Math.max(options.maxOutstanding,
              16384)).attemptTimeout(CALL_TIMEOUT).callTimeout(CALL_TIMEOUT).build()));
        }
        scratch = new Scratch(clients.get(0), servers == null, out);
        out.printf("capacity at a %d ms interval: a step holds with p99 < %.0f ms, >= %.0f%% of the heartbeats due served, "
            + "no rejoin, no expiry%n", intervalMs, HeartbeatStep.P99_LIMIT_MS, HeartbeatStep.SERVED_FRACTION * 100);
        int prev = 0;
        for (double n = capacityStart; n <= capacityMax; n *= capacityFactor) {
          int count = Math.max(prev + 1, HeartbeatStep.wholeGroups(n, groupSize));
          HeartbeatStep s = runStep(clients, servers, count, step == 0 ? firstWarmupS + warmupS : warmupS, "capacity");
          steps.add(s);
          prev = count;
          if (!s.held()) {
            break;
          }
          sustainable = s;
        }
        if (overloadConsumers > 0) {
          out.printf("overload: %,d consumers (--overload-consumers)%n", overloadConsumers);
          overload = runStep(clients, servers, overloadConsumers, warmupS, "overload");
          steps.add(overload);
        } else if (sustainable != null) {
          int n = HeartbeatStep.overloadConsumers(sustainable.consumers(), groupSize);
          out.printf("overload: %.1fx the sustainable %,d consumers%n", HeartbeatStep.OVERLOAD_FACTOR, sustainable.consumers());
          overload = runStep(clients, servers, n, warmupS, "overload");
          steps.add(overload);
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
      }
    } finally {
      options.cleanUp(work, out);
    }
    printReport(steps, ceiling, sustainable, overload);
    return 0;
  }

  /** The no-op Ratis write ceiling: heartbeat-sized commands, closed loop at each level after a warm-up; the best level. */
  private double noopCeiling(Path work, int[] levels) throws Exception {
    Command hb = heartbeatSized();
    out.printf("no-op ceiling: closed loop of %d-byte commands (a heartbeat of one held partition) at %s in flight%n",
        hb.toByteArray().length, noopLevels);
    double windowS = Math.max(1, Math.min(5, noopWarmupS));
    CommitPhase phase = new CommitPhase(out, new CommitPhase.WarmUp(windowS, noopWarmupS,
        new WarmUpCurve.Rule(0, 0, 3, 10)), noopMeasureS, new double[0]); // "stable": the last 3 windows within ±10 %
    CommitPhase.Result r;
    try (ServerProcesses servers = options.startServers(ServerProcesses.Kind.NOOP, work, out);
        CohortClient client = options.client(servers)) {
      r = phase.run("no-op", client, seq -> hb, false, levels, servers);
    }
    double best = r.levels().values().stream().mapToDouble(CommitPhase.Level::opsPerS).max().orElse(Double.NaN);
    out.printf("no-op ceiling: %,.0f ops/s%n", best);
    return best;
  }

  /** A heartbeat as the simulated consumers send it: a bench group's name, a member id, a session, one held partition. */
  static Command heartbeatSized() {
    String name = "bench-" + Long.toString(System.currentTimeMillis(), 36) + "zz-hb-0";
    return Command.newBuilder().setHeartbeat(Heartbeat.newBuilder().setGroup(name).setConsumerId("s1-c-42")
        .setSessionToken(ByteString.copyFrom(new byte[16]))
        .addHeld(PartitionRef.newBuilder().setTopic(name).setPartition(42))).build();
  }

  /** The measured window: {@code ms}, with the leader stopped for {@code --stall-leader-ms} a third into it. */
  private void measure(ServerProcesses servers, long ms) throws InterruptedException {
    if (stallLeaderMs <= 0 || servers == null) {
      ServerProcesses.sleepMs(ms);
      return;
    }
    ServerProcesses.sleepMs(ms / 3);
    long startNs = System.nanoTime();
    String previous = null;
    for (int i = 0; i < stalls; i++) {
      String leader = i == 0 ? servers.leaderOrNull() : servers.awaitOtherLeader(previous, Duration.ofSeconds(10));
      java.time.LocalTime at = java.time.LocalTime.now(java.time.ZoneOffset.UTC).withNano(0);
      if (leader == null) {
        out.printf("  no leader to stall at %s UTC%n", at);
        break;
      }
      try {
        servers.pause(leader, stallLeaderMs);
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
      out.printf("  stalled the leader %s for %,d ms at %s UTC%s%n", leader, stallLeaderMs, at,
          i == 0 ? " (a third into the window)" : "");
      previous = leader;
    }
    out.flush();
    ServerProcesses.sleepMs(Math.max(0, ms - ms / 3 - (System.nanoTime() - startNs) / 1_000_000));
  }

  private HeartbeatStep runStep(List<CohortClient> clients, ServerProcesses servers, int consumers, int warmS, String kind)
      throws InterruptedException {
    step++;
    int needed = Math.max(1, (consumers + groupSize - 1) / groupSize);
    long session = Math.max(10_000, 3 * intervalMs + 1000);
    long t0 = System.nanoTime();
    for (int g = groups.size(); g < needed; g++) { // groups are reused: every member leaves after its step
      groups.add(scratch.topicAndGroup("hb-" + g, groupSize, CreateGroup.newBuilder().setSessionTimeoutMs(session)
          .setHeartbeatIntervalMs(intervalMs).setStartFrom(StartFrom.BEGIN)
          .setInitialRebalanceDelayMs(initialRebalanceDelayMs)));
    }
    HeartbeatSim sim = new HeartbeatSim(clients, 2, quiet, quietWhileWaiting, watches);
    long joinMs = joinRate == 0 ? intervalMs : Math.max(intervalMs, consumers * 1000L / joinRate);
    for (int g = 0; g < needed; g++) {
      sim.add(groups.get(g), "s" + step + "-c", Math.min(groupSize, consumers - g * groupSize), joinMs);
    }
    out.printf("step %d (%s): %,d consumers in %d groups at %d ms (session %d ms, initial rebalance delay %d ms; groups "
            + "ready in %.1f s): joining over %.1f s, then warm-up %d s ...%n",
        step, kind, consumers, needed, intervalMs, session, initialRebalanceDelayMs, (System.nanoTime() - t0) / 1e9,
        joinMs / 1000.0, warmS);
    out.flush();
    ServerProcesses.sleepMs(joinMs + warmS * 1000L);
    long settleFrom = System.nanoTime();
    // Sessions are judged from here, the settling included: waiting longer must not hide an expiry.
    // (The joins and the warm-up were never judged: the first step's warm-up is the servers' JIT.)
    long settleRejoins0 = sim.rejoins.get();
    long settleExpired0 = sim.expired.get();
    sim.judge();
    int handoffsAfterWarmUp = sim.inHandoff();
    // Settled: nobody in a handoff, and the storm's backlog answered (no answer >= the p99 limit for a second).
    while ((sim.inHandoff() > 0 || sim.sinceSlowAnswerNs() < 1_000_000_000L)
        && System.nanoTime() - settleFrom < settleMaxS * 1_000_000_000L) {
      ServerProcesses.sleepMs(250);
    }
    double settleS = (System.nanoTime() - settleFrom) / 1e9;
    int handoffsAtStart = sim.inHandoff();
    boolean backlogAtStart = sim.sinceSlowAnswerNs() < 1_000_000_000L;
    java.time.LocalTime windowStart = java.time.LocalTime.now(java.time.ZoneOffset.UTC).withNano(0);
    long c0 = sim.completed.get();
    long q0 = sim.quietOk.get();
    long f0 = sim.fallbacks.get();
    long e0 = sim.errors.get();
    long r0 = sim.rejoins.get();
    long x0 = sim.expired.get();
    long s0 = sim.shed.get();
    long k0 = sim.keepAlives.get();
    long nl0 = sim.noLeaderRetries.get();
    long wc0 = sim.watchChanges.get();
    long wf0 = sim.watchFailures.get();
    Latencies lat = new Latencies();
    Cpu cpu = Cpu.start(servers);
    long m0 = System.nanoTime();
    sim.record(lat);
    measure(servers, measureS * 1000L);
    sim.record(null);
    long keepAlives = sim.keepAlives.get() - k0;
    long noLeaderRetries = sim.noLeaderRetries.get() - nl0;
    long watchChanges = sim.watchChanges.get() - wc0;
    long watchFailures = sim.watchFailures.get() - wf0;
    int handoffsAtEnd = sim.inHandoff();
    double secs = (System.nanoTime() - m0) / 1e9;
    double sc = cpu.serverCores();
    double lc = cpu.loadCores();
    long done = sim.completed.get() - c0;
    long quietDone = sim.quietOk.get() - q0;
    long expiries = sim.expired.get() - x0;
    long windowRejoins = sim.rejoins.get() - r0;
    long judgedRejoins = sim.rejoins.get() - settleRejoins0;
    long judgedExpiries = sim.expired.get() - settleExpired0;
    long[] sorted = lat.sorted();
    HeartbeatStep s = new HeartbeatStep(consumers, intervalMs, done / secs, consumers * 1000.0 / intervalMs,
        // a quiet answer is counted just before its completion: one can straddle the window's end
        Latencies.quantileMs(sorted, 0.5), Latencies.quantileMs(sorted, 0.99), quietDone, Math.max(0, done - quietDone),
        sim.fallbacks.get() - f0, sim.errors.get() - e0, judgedRejoins, judgedExpiries, sim.shed.get() - s0, sc, lc);
    String reasons = sim.fallbackReasons();
    String expiryTraces = sim.expirySummary();
    List<String> expiredCalls = sim.expiredMembersLastCalls();
    String errorReasons = sim.errorReasons();
    sim.stop();
    out.printf("  %,d consumers: %,.0f heartbeats/s (due %,.0f/s)  p50 %.1f ms  p99 %.1f ms  quiet %,d  replicated %,d "
            + "(fall-backs %,d)  shed %d  rejoins %d / %d  expiries %d / %d  errors %d  CPU servers %.2f + load %.2f  [%s]%n",
        consumers, s.perS(), s.duePerS(), s.p50Ms(), s.p99Ms(), s.quiet(), s.replicated(), s.fallbacks(), s.shed(),
        windowRejoins, judgedRejoins, expiries, judgedExpiries, s.errors(), sc, lc,
        s.held() ? "held" : "NOT held: " + s.whyNotHeld());
    out.printf("  (rejoins and expiries: measured window / settling and window)  members in a handoff of the join storm: %,d "
            + "after the warm-up, %s, %,d when measuring started, %,d when it ended; answers >= %.0f ms per second "
            + "measured from %s UTC: %s%n", handoffsAfterWarmUp,
        handoffsAtStart == 0 && !backlogAtStart ? String.format("settled %.1f s later", settleS)
            : String.format("not settled in %.0f s%s", settleS,
                handoffsAtStart == 0 ? " (slow answers still coming)" : ""),
        handoffsAtStart, handoffsAtEnd, HeartbeatStep.P99_LIMIT_MS, windowStart, sim.slowPerSecond(measureS));
    if (!reasons.isEmpty()) {
      out.printf("  fall-backs to the log: %s%n", reasons);
    }
    if (watches) {
      out.printf("  watches (window): %,d said heartbeat now, %,d failed; since the step began: %,d and %,d%s%n",
          watchChanges, watchFailures, sim.watchChanges.get(), sim.watchFailures.get(),
          sim.watchFailures.get() == 0 ? "" : " (" + sim.watchFailureReasons() + ")");
    }
    if (noLeaderRetries > 0) {
      out.printf("  of the shed, asked again because no peer asked led (window): %,d%n", noLeaderRetries);
    }
    if (keepAlives > 0) {
      out.printf("  keep-alives while a replicated heartbeat waited (window): %,d%n", keepAlives);
    }
    if (!expiryTraces.isEmpty()) {
      out.printf("  expiries (settling and window): %s%n", expiryTraces);
      for (String member : expiredCalls) {
        out.printf("    last calls (sent UTC, path, answered after, outcome) of %s%n", member);
      }
    }
    if (!errorReasons.isEmpty()) {
      out.printf("  errors (settling and window): %s%n", errorReasons);
    }
    long[] sh = sim.shedLatency.sorted();
    long[] rf = sim.refusedLatency.sorted();
    out.printf("  answered RETRY_LATER after p50 %.1f / p99 %.1f ms (%d); a session refusal after p50 %.1f / p99 %.1f ms (%d)%n",
        Latencies.quantileMs(sh, 0.5), Latencies.quantileMs(sh, 0.99), sh.length, Latencies.quantileMs(rf, 0.5),
        Latencies.quantileMs(rf, 0.99), rf.length);
    out.flush();
    ServerProcesses.sleepMs(3000);
    return s;
  }

  private void printReport(List<HeartbeatStep> steps, double ceiling, HeartbeatStep sustainable, HeartbeatStep overload) {
    out.println();
    out.println("| consumers | heartbeats/s | due/s | p50 ms | p99 ms | quiet | replicated | shed | rejoins (settling+window) | expiries (settling+window) | CPU servers+load | |");
    out.println("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|");
    for (HeartbeatStep s : steps) {
      out.printf("| %,d | %,.0f | %,.0f | %.1f | %.1f | %,d | %,d | %d | %d | %d | %.2f+%.2f | %s |%n", s.consumers(), s.perS(),
          s.duePerS(), s.p50Ms(), s.p99Ms(), s.quiet(), s.replicated(), s.shed(), s.rejoins(),
          s.expiries(), s.serverCores(), s.loadCores(),
          s == overload ? "overload" : s.held() ? "held" : "not held");
    }
    out.println();
    double r = sustainable == null ? Double.NaN : sustainable.perS();
    double ratio = HeartbeatStep.ratio(r, ceiling);
    HeartbeatStep last = steps.isEmpty() ? null : steps.get(steps.size() - (overload != null ? 2 : 1));
    boolean capped = last != null && last.held();
    out.println(Double.isNaN(ceiling) ? "no-op Ratis write ceiling: not measured (--no-baseline or --peers)"
        : String.format("no-op Ratis write ceiling: %,.0f ops/s (heartbeat-sized commands, same TLS, best of %s in flight)",
            ceiling, noopLevels));
    if (sustainable == null) {
      out.printf("verdict sustainable: NONE: the first step (%,d consumers) did not hold%n", capacityStart);
    } else {
      out.printf("verdict sustainable: R = %,.0f heartbeats/s (%,d consumers at %d ms) with p99 %.1f ms < %.0f ms; %s%n", r,
          sustainable.consumers(), intervalMs, sustainable.p99Ms(), HeartbeatStep.P99_LIMIT_MS,
          capped ? "--capacity-max reached: R is a lower bound" : "the next step did not hold");
    }
    out.printf("verdict ratio: R / ceiling = %s (goal >= %.0f): %s%n", Double.isNaN(ratio) ? "?" : String.format("%.2f", ratio),
        HeartbeatStep.RATIO_GOAL, Double.isNaN(ratio) ? "UNKNOWN" : HeartbeatStep.ratioMet(ratio) ? "MET" : "NOT MET");
    if (overload == null || Double.isNaN(r)) {
      out.println("verdict no collapse at 1.5x: UNKNOWN (no sustainable rate)" + (overload == null ? ""
          : String.format("; the overload step (%,d consumers, due %,.0f/s) served %,.0f/s, p99 %.1f ms, shed %d, "
              + "rejoins %d, expiries %d", overload.consumers(), overload.duePerS(), overload.perS(), overload.p99Ms(),
              overload.shed(), overload.rejoins(), overload.expiries())));
    } else {
      out.printf("verdict no collapse at 1.5x: %,d consumers (due %,.0f/s) served %,.0f/s %s R, p99 %.1f ms, shed %d, "
              + "rejoins %d, expiries %d: %s%n", overload.consumers(), overload.duePerS(), overload.perS(),
          overload.perS() >= r ? ">=" : "<", overload.p99Ms(), overload.shed(), overload.rejoins(),
          overload.expiries(), overload.noCollapse(r) ? "MET" : "NOT MET");
    }
    StringBuilder b = new StringBuilder("bench heartbeat quiet=").append(quiet).append(" interval_ms=").append(intervalMs);
    b.append(String.format(" noop_ceiling_per_s=%.0f", ceiling));
    b.append(" sustainable_consumers=").append(sustainable == null ? 0 : sustainable.consumers());
    b.append(String.format(" sustainable_per_s=%.0f sustainable_p99_ms=%.1f", sustainable == null ? 0 : r,
        sustainable == null ? Double.NaN : sustainable.p99Ms()));
    b.append(String.format(" sustainable_quiet_share=%.3f", sustainable == null ? Double.NaN : sustainable.quietShare()));
    b.append(" capped=").append(capped);
    b.append(String.format(" ratio=%.2f ratio_met=%s", ratio, HeartbeatStep.ratioMet(ratio)));
    if (overload != null) {
      b.append(String.format(" overload_consumers=%d overload_per_s=%.0f overload_p99_ms=%.1f overload_shed=%d "
              + "overload_rejoins=%d overload_expiries=%d no_collapse=%s", overload.consumers(), overload.perS(),
          overload.p99Ms(), overload.shed(), overload.rejoins(), overload.expiries(), overload.noCollapse(r)));
    }
    out.println(b);
  }
}
