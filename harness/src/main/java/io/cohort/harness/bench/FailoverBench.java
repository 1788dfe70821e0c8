package io.cohort.harness.bench;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.Parameters;
import com.beust.jcommander.ParametersDelegate;
import io.cohort.client.CohortClient;
import io.cohort.client.CohortClientConfig;
import io.cohort.tools.CliCommand;
import io.cohort.tools.CliContext;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code cohort bench failover}: commits at a fixed number in flight against three Cohort server
 * processes; kill -9 of the leader; the gap is the longest stretch without a successful commit
 * reply around the kill (from the last success before it to the first success after it). The
 * killed node is restarted and caught up between runs.
 */
@Parameters(commandDescription = "Benchmark: kill -9 the leader under commit load; gap until commits succeed again")
public final class FailoverBench implements CliCommand {
  @ParametersDelegate
  BenchOptions options = new BenchOptions();

  @Parameter(names = "--runs", description = "leader kills (p99 needs many: 30 by default)")
  int runs = 30;

  @Parameter(names = "--in-flight", description = "commits in flight")
  int inFlight = 16;

  @Parameter(names = "--warmup-s", description = "commit load before the first kill")
  int warmupS = 60;

  @Parameter(names = "--backoff-base-ms", description = "the client's first retry delay (default: the client's default)")
  Long backoffBaseMs;

  @Parameter(names = "--backoff-max-ms", description = "the client's largest retry delay (default: the client's default)")
  Long backoffMaxMs;

  @Parameter(names = "--attempt-timeout-ms", description = "the client's per-attempt deadline, Ratis raft.client.rpc.request.timeout "
      + "(default: the client's default)")
  Long attemptTimeoutMs;

  @Parameter(names = "--pause-ms", description = "diagnostic: instead of kill -9, stop the leader (SIGSTOP) this long, "
      + "then let it go on: a run of elections on a starved machine (with --pauses)")
  long pauseMs;

  @Parameter(names = "--pauses", description = "with --pause-ms: pause each new leader in turn, this many per run")
  int pauses = 1;

  @Override
  public int run(CliContext ctx) throws Exception {
    PrintStream out = ctx.out;
    if (options.peers != null) {
      throw new IllegalArgumentException("bench failover kills server processes: it starts its own (no --peers)");
    }
    Path work = options.workDir("cohort-bench-failover-", out);
    List<Double> gaps = new ArrayList<>();
    long errors = 0;
    try (ServerProcesses servers = options.startServers(ServerProcesses.Kind.COHORT, work, out);
        CohortClient client = CohortClient.connect(clientConfig(servers))) {
      CohortClientConfig config = client.config();
      CommitWorkload w = CommitWorkload.setUp(new Scratch(client, false, out), 128);
      ClosedLoop loop = new ClosedLoop(client, w.commands(), true);
      Latencies done = new Latencies(); // completion times (ns), not latencies; ~1 MB per 100 s
      loop.onSuccess((sent, at) -> done.add(at));
      loop.add(inFlight);
      out.printf("failover: %d in flight, warm-up %d s, %d leader kills, client attempt timeout %d ms, backoff %d..%d ms%n",
          inFlight, warmupS, runs, config.attemptTimeout().toMillis(), config.backoffBase().toMillis(),
          config.backoffMax().toMillis());
      ServerProcesses.sleepMs(warmupS * 1000L);
      for (int run = 1; run <= runs; run++) {
        String leader = servers.awaitLeader(Duration.ofSeconds(60));
        ServerProcesses.sleepMs(3000);
        long errors0 = loop.errors();
        long killed = System.nanoTime();
        LocalTime killedAt = LocalTime.now(); // to read beside the servers' logs
        if (pauseMs > 0) {
          String paused = leader;
          for (int i = 0; i < pauses && paused != null; i++) {
            servers.pause(paused, pauseMs);
            paused = servers.awaitOtherLeader(paused, Duration.ofSeconds(10));
          }
        } else {
          servers.kill(leader);
        }
        // wait for commits to flow again, then 2 s more
        long ok0 = loop.ok();
        long until = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (loop.ok() < ok0 + 100 && System.nanoTime() < until) {
          ServerProcesses.sleepMs(50);
        }
        ServerProcesses.sleepMs(2000);
        double gapMs = gapAround(done.sorted(), killed);
        gaps.add(gapMs);
        errors += loop.errors() - errors0;
        String next = servers.leaderOrNull();
        out.printf("run %d: %s %s at %s; commits resumed after a gap of %.0f ms (new leader %s), errors %d%n",
            run, pauseMs > 0 ? "paused leaders from" : "killed leader", leader, killedAt.truncatedTo(ChronoUnit.MILLIS), gapMs, next, loop.errors() - errors0);
        out.flush();
        if (pauseMs == 0) {
          servers.startNode(leader);
        }
        if (!servers.awaitCaughtUp(Duration.ofSeconds(90), 2000)) {
          out.println("  warning: " + leader + " did not catch up in 90 s");
        }
      }
      loop.stop();
      w.keepAlive().shutdownNow();
    } finally {
      options.cleanUp(work, out);
    }
    Latencies.Spread s = Latencies.Spread.of(gaps);
    List<Double> sorted = new ArrayList<>(gaps);
    sorted.sort(Double::compare);
    double p99 = sorted.get((int) Math.min(sorted.size() - 1, Math.ceil(0.99 * sorted.size()) - 1));
    out.printf("failover gap over %d runs: %s ms, p99 %.0f ms (target p99 <= 1500 ms); all %s%n", gaps.size(), s, p99,
        gaps.stream().map(g -> String.format("%.0f", g)).toList());
    out.printf("bench failover runs=%d in_flight=%d min_ms=%.0f median_ms=%.0f max_ms=%.0f p99_ms=%.0f errors=%d%n",
        gaps.size(), inFlight, s.min(), s.median(), s.max(), p99, errors);
    return 0;
  }

  /** The client's defaults but for the flags given, and a 30 s call deadline (a slow election is a figure, not an error). */
  private CohortClientConfig clientConfig(ServerProcesses servers) throws IOException {
    CohortClientConfig.Builder b = servers.clientConfig().maxOutstanding(options.maxOutstanding)
        .callTimeout(Duration.ofSeconds(30));
    if (attemptTimeoutMs != null) {
      b.attemptTimeout(Duration.ofMillis(attemptTimeoutMs));
    }
    if (backoffBaseMs != null || backoffMaxMs != null) {
      CohortClientConfig defaults = servers.clientConfig().build();
      b.backoff(backoffBaseMs != null ? Duration.ofMillis(backoffBaseMs) : defaults.backoffBase(),
          backoffMaxMs != null ? Duration.ofMillis(backoffMaxMs) : defaults.backoffMax());
    }
    return b.build();
  }

  /**
   * The longest gap between consecutive successful replies from 1 s before the kill to the end of
   * the samples (commits flowed again by then): the outage, even if a few replies already on
   * their way arrived just after the kill.
   */
  static double gapAround(long[] doneSorted, long killed) {
    long from = killed - 1_000_000_000L;
    long prev = Long.MIN_VALUE;
    long max = -1;
    for (long t : doneSorted) {
      if (t < from) {
        continue; // with load flowing there are replies within the second before the kill
      }
      if (prev != Long.MIN_VALUE) {
        max = Math.max(max, t - prev);
      }
      prev = t;
    }
    return max < 0 ? Double.NaN : max / 1e6;
  }
}
