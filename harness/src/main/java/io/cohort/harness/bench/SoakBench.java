package io.cohort.harness.bench;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.Parameters;
import com.beust.jcommander.ParametersDelegate;
import io.cohort.client.CohortClient;
import io.cohort.client.admin.PeerStatus;
import io.cohort.tools.CliCommand;
import io.cohort.tools.CliContext;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code cohort bench soak}: commit load on three Cohort server processes with GC and safepoint
 * logging on, for minutes, watching for elections nobody caused (step 10: the election timeouts
 * must be short enough for a fast failover and long enough that pauses never depose a live
 * leader). Counts every candidacy in the servers' logs (a failed pre-vote too), leader and term
 * changes, and the longest GC pause and safepoint per server. Exits 1 when any election happened.
 */
@Parameters(commandDescription = "Benchmark: commit load for minutes with GC logging; counts elections nobody caused")
public final class SoakBench implements CliCommand {
  static final Pattern GC_PAUSE = Pattern.compile("\\[gc\\s*\\] GC\\(\\d+\\) Pause .* (\\d+(?:\\.\\d+)?)ms$");
  static final Pattern SAFEPOINT = Pattern.compile("\\[safepoint\\s*\\] Safepoint \"(\\w+)\".* Total: (\\d+) ns");

  @ParametersDelegate
  BenchOptions options = new BenchOptions();

  @Parameter(names = "--minutes", description = "how long the load runs")
  int minutes = 10;

  @Parameter(names = "--in-flight", description = "commits in flight")
  int inFlight = 64;

  @Override
  public int run(CliContext ctx) throws Exception {
    PrintStream out = ctx.out;
    if (options.peers != null) {
      throw new IllegalArgumentException("bench soak reads its servers' logs: it starts its own (no --peers)");
    }
    if (minutes < 1 || inFlight < 1) {
      throw new IllegalArgumentException("--minutes and --in-flight must be at least 1");
    }
    Path work = options.workDir("cohort-bench-soak-", out);
    Path servers0 = work.resolve("cohort");
    List<String> gcLogging = List.of("-Xlog:gc:file=" + servers0.resolve("gc-" + ServerProcesses.NODE_ID + ".log"),
        "-Xlog:safepoint:file=" + servers0.resolve("safepoint-" + ServerProcesses.NODE_ID + ".log"));
    int elections;
    try (ServerProcesses servers = options.startServers(ServerProcesses.Kind.COHORT, servers0, gcLogging, out,
        !options.insecure);
        CohortClient client = options.client(servers)) {
      CommitWorkload w = CommitWorkload.setUp(new Scratch(client, false, out), 128);
      ClosedLoop loop = new ClosedLoop(client, w.commands(), true);
      loop.add(inFlight);
      String leader = servers.awaitLeader(java.time.Duration.ofSeconds(60));
      long term = termOf(servers.status(), leader);
      Map<String, Long> logStart = logSizes(servers);
      out.printf("soak: %d min, %d commits in flight, GC and safepoint logging on; leader %s, term %d%n",
          minutes, inFlight, leader, term);
      int leaderChanges = 0;
      long ok0 = loop.ok();
      long end = System.nanoTime() + minutes * 60_000_000_000L;
      for (int minute = 1; System.nanoTime() < end; minute++) {
        long okAtMinute = loop.ok();
        long minuteEnd = Math.min(end, System.nanoTime() + 60_000_000_000L);
        while (System.nanoTime() < minuteEnd) {
          ServerProcesses.sleepMs(1000);
          String now = servers.leaderOrNull();
          if (now != null && !now.equals(leader)) {
            leaderChanges++;
            out.printf("  leader changed: %s -> %s%n", leader, now);
            leader = now;
          }
        }
        long t = leader == null ? -1 : termOf(servers.status(), leader);
        out.printf("minute %d: %,d commits/s, leader %s, term %d, errors %d%n", minute,
            (loop.ok() - okAtMinute) / 60, leader, t, loop.errors());
        out.flush();
      }
      long commits = loop.ok() - ok0;
      loop.stop();
      w.keepAlive().shutdownNow();
      elections = report(out, servers, logStart, commits, leaderChanges, loop.errors());
    } finally {
      options.cleanUp(work, out);
    }
    return elections == 0 ? 0 : 1;
  }

  /** Prints what the servers' logs say; returns the candidacies seen during the soak. */
  private int report(PrintStream out, ServerProcesses servers, Map<String, Long> logStart, long commits,
      int leaderChanges, long errors) throws IOException {
    int candidacies = 0;
    int longSleeps = 0;
    int snapshots = 0;
    double worstPause = 0;
    double worstSafepoint = 0;
    for (String id : servers.ids()) {
      String log = tail(servers.dir().resolve(id + ".log"), logStart.getOrDefault(id, 0L));
      int c = count(log, "change to CANDIDATE");
      int s = count(log, "Unexpected long sleep");
      int snaps = count(log, " durable: ");
      double pause = maxOf(servers.dir().resolve("gc-" + id + ".log"), GC_PAUSE, 1, 1.0);
      double safepoint = maxOf(servers.dir().resolve("safepoint-" + id + ".log"), SAFEPOINT, 2, 1e-6);
      out.printf("%s: candidacies %d, late election timers %d, snapshots %d, longest GC pause %.1f ms, "
          + "longest safepoint %.1f ms%n", id, c, s, snaps, pause, safepoint);
      candidacies += c;
      longSleeps += s;
      snapshots += snaps;
      worstPause = Math.max(worstPause, pause);
      worstSafepoint = Math.max(worstSafepoint, safepoint);
    }
    out.printf("soak %s: %d candidacies, %d leader changes, %,d commits, %d errors%n",
        candidacies == 0 && leaderChanges == 0 ? "PASSED" : "FAILED", candidacies, leaderChanges, commits, errors);
    out.printf("bench soak minutes=%d in_flight=%d commits=%d errors=%d candidacies=%d leader_changes=%d "
        + "late_timers=%d snapshots=%d max_gc_pause_ms=%.1f max_safepoint_ms=%.1f%n", minutes, inFlight, commits,
        errors, candidacies, leaderChanges, longSleeps, snapshots, worstPause, worstSafepoint);
    return candidacies + leaderChanges;
  }

  private static long termOf(List<PeerStatus> status, String id) {
    return status.stream().filter(p -> p.id().equals(id)).mapToLong(PeerStatus::term).findFirst().orElse(-1);
  }

  private static Map<String, Long> logSizes(ServerProcesses servers) throws IOException {
    Map<String, Long> sizes = new HashMap<>();
    for (String id : servers.ids()) {
      Path log = servers.dir().resolve(id + ".log");
      sizes.put(id, Files.exists(log) ? Files.size(log) : 0L);
    }
    return sizes;
  }

  private static String tail(Path file, long from) throws IOException {
    if (!Files.exists(file)) {
      return "";
    }
    byte[] all = Files.readAllBytes(file);
    int start = (int) Math.min(all.length, from);
    return new String(all, start, all.length - start, StandardCharsets.UTF_8);
  }

  private static int count(String text, String needle) {
    int n = 0;
    for (int i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + needle.length())) {
      n++;
    }
    return n;
  }

  /** The largest value of a pattern's group over a log's lines, times {@code scale}; 0 without a match. */
  static double maxOf(Path file, Pattern pattern, int group, double scale) throws IOException {
    if (!Files.exists(file)) {
      return 0;
    }
    double max = 0;
    for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      Matcher m = pattern.matcher(line);
      if (m.find()) {
        max = Math.max(max, Double.parseDouble(m.group(group)) * scale);
      }
    }
    return max;
  }
}
