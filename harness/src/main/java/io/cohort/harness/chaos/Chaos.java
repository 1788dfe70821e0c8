package io.cohort.harness.chaos;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.ParameterException;
import com.beust.jcommander.Parameters;
import io.cohort.harness.bench.BenchOptions;
import io.cohort.harness.bench.ServerProcesses;
import io.cohort.tools.CliCommand;
import io.cohort.tools.CliContext;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * {@code cohort chaos [--minutes N] [--seed S] [--dir DIR] [--keep-dir]} (scripts/chaos.sh): runs
 * {@link ChaosDriver}; exit 0 when every check passed, 1 on any violation, 2 on bad usage.
 */
@Parameters(commandDescription = "Chaos: 3 server processes, committing consumers, splits, leader and follower kill -9 "
    + "in a loop, a member replaced by a fresh node now and then; checks no lost commit, never two holders, order "
    + "kept, replicas identical")
public final class Chaos implements CliCommand {
  @Parameter(names = "--minutes", description = "how long to run (0..120]")
  double minutes = 5;

  @Parameter(names = "--seed", description = "random seed (default: the time); a failure prints it for a replay")
  Long seed;

  @Parameter(names = "--dir", description = "work directory (default: a new temporary one, deleted after)")
  Path dir;

  @Parameter(names = "--keep-dir", description = "keep the work directory (server logs)")
  boolean keep;

  @Parameter(names = "--replace-every-s", description = "replace a random member by a fresh node (--join, cluster "
      + "replace) every N seconds, the first after N/2; 0 = never")
  int replaceEverySeconds = 90;

  @Parameter(names = "--leader-pause-ms", description = "stop the leader (SIGSTOP, then SIGCONT) this long once, a "
      + "third into the run; longer than the groups' 6 s session, no consumer may lose its session; 0 = never")
  long leaderPauseMs = 9000;

  @Override
  public int run(CliContext ctx) throws Exception {
    if (!(minutes > 0) || minutes > 120) {
      throw new ParameterException("--minutes must be in (0, 120], got " + minutes);
    }
    if (leaderPauseMs < 0 || leaderPauseMs > 60_000) {
      throw new ParameterException("--leader-pause-ms must be in [0, 60000], got " + leaderPauseMs);
    }
    if (replaceEverySeconds < 0) {
      throw new ParameterException("--replace-every-s must be 0 or more, got " + replaceEverySeconds);
    }
    long s = seed != null ? seed : System.currentTimeMillis();
    String javaOpts = ctx.env().getOrDefault("COHORT_SERVER_JAVA_OPTS", ServerProcesses.DEFAULT_JAVA_OPTS);
    boolean temp = dir == null;
    Path work = temp ? Files.createTempDirectory("cohort-chaos-") : Files.createDirectories(dir);
    List<String> opts = BenchOptions.words(javaOpts);
    ChaosDriver.Report report = null;
    try {
      report = new ChaosDriver(new ChaosDriver.Settings(Duration.ofMillis((long) (minutes * 60_000)), work, opts, s,
          0.8, Duration.ofSeconds(25), Duration.ofSeconds(replaceEverySeconds),
          Duration.ofMillis(leaderPauseMs)), ctx.out).run();
    } finally {
      String why = keepReason(report);
      if (why != null) {
        markKept(work, why);
      }
      if (temp && !keep && why == null) {
        BenchOptions.deleteTree(work);
      } else {
        ctx.out.println("work dir: " + work + (why == null || keep ? "" : " (kept: " + why + ")"));
      }
    }
    print(ctx.out, report, s);
    return report.ok() ? 0 : 1;
  }

  /** The server logs are kept without --keep-dir when there is something to read in them. */
  static String keepReason(ChaosDriver.Report report) {
    if (report == null) {
      return "the run did not finish";
    }
    if (!report.ok()) {
      return "a check failed";
    }
    long slowest = report.counts().getOrDefault(ChaosDriver.SLOWEST_ELECTION_MS, 0L);
    return slowest > KEEP_IF_ELECTION_OVER_MS ? "an election took " + slowest + " ms" : null;
  }

  /** A file in the work dir saying why it is kept: scripts/chaos.sh, which owns the dir it passes, reads it. */
  static final String KEPT_MARKER = "KEPT";

  static void markKept(Path work, String why) {
    try {
      Files.writeString(work.resolve(KEPT_MARKER), why + "\n");
    } catch (java.io.IOException e) {
      // best effort: the reason is printed as well
    }
  }

  /** Well past the failover target (p99 1.5 s): a cluster that long without a leader is worth reading. */
  static final long KEEP_IF_ELECTION_OVER_MS = 5_000;

  static void print(PrintStream out, ChaosDriver.Report report, long seed) {
    out.println();
    out.println("checked (seed " + seed + "):");
    for (Map.Entry<String, Long> e : report.counts().entrySet()) {
      out.printf("  %-58s %,d%n", e.getKey(), e.getValue());
    }
    if (report.ok()) {
      out.println("chaos: PASSED (no lost commit, no acknowledged record read again, never two holders, epochs increase,"
          + " order kept, replicas identical, "
          + "replaced nodes stopped by themselves, a new leader within " + ChaosDriver.ELECTION_BOUND_S
          + " s of every leader kill)");
    } else {
      out.println("chaos: FAILED, " + report.violations().size() + " violation(s):");
      report.violations().forEach(v -> out.println("  " + v));
    }
  }
}
