package io.cohort.harness.bench;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.Parameters;
import com.beust.jcommander.ParametersDelegate;
import io.cohort.client.CohortClient;
import io.cohort.client.Peers;
import io.cohort.client.admin.ClusterAdmin;
import io.cohort.statemachine.proto.CheckpointEntry;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.CommitCheckpoints;
import io.cohort.statemachine.proto.CommitResult;
import io.cohort.statemachine.proto.CreateGroup;
import io.cohort.statemachine.proto.Grant;
import io.cohort.statemachine.proto.Heartbeat;
import io.cohort.statemachine.proto.HeartbeatResult;
import io.cohort.statemachine.proto.StartFrom;
import io.cohort.tools.CliCommand;
import io.cohort.tools.CliContext;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code cohort bench snapshot}: the snapshot path end to end in three server processes. Fills the
 * cluster with N checkpoints (topics of 10,000 partitions, one member per topic committing all of
 * them), then: {@code snapshot take} (Ratis sends it to the client's first peer, leader or not; client-observed time, the apply pause and the
 * write as that node logs them, the worst latency of a 1-in-flight commit probe meanwhile), and a
 * kill -9 and restart of that node (its load time as logged, and until it has caught up). The
 * in-process figures of the same code (freeze, MapDB write, load) come from raft-server's
 * SnapshotBench ({@code scripts/bench-snapshot.sh}).
 */
@Parameters(commandDescription = "Benchmark: snapshot take and load in a 3-process cluster at 100k and 1M checkpoints")
public final class SnapshotBench implements CliCommand {
  private static final int PARTITIONS = 10_000;
  private static final int ENTRIES_PER_COMMIT = 2_500;

  @ParametersDelegate
  BenchOptions options = new BenchOptions();

  @Parameter(names = "--checkpoints", description = "comma-separated checkpoint counts (multiples of 10,000), filled in turn")
  String counts = "100000,1000000";

  private PrintStream out;
  private int topics;

  record Row(long checkpoints, double takeMs, String pauseMs, String writeMs, String mb, double probeMaxMs,
      double probeP99BeforeMs, String loadMs, double restartMs) {}

  @Override
  public int run(CliContext ctx) throws Exception {
    out = ctx.out;
    if (options.peers != null) {
      throw new IllegalArgumentException("bench snapshot kills and restarts a node: it starts its own (no --peers)");
    }
    if (options.serverJavaOpts.equals(new BenchOptions().serverJavaOpts)) {
      options.serverJavaOpts = "-XX:+UseG1GC -Xms256m -Xmx3g"; // 1M checkpoints, plus a frozen copy while writing
    }
    Path work = options.workDir("cohort-bench-snapshot-", out);
    List<Row> rows = new ArrayList<>();
    try (ServerProcesses servers = options.startServers(ServerProcesses.Kind.COHORT, work, out);
        CohortClient client = options.client(servers);
        // snapshot requests take long at 1M checkpoints
        ClusterAdmin admin = ClusterAdmin.connect(Peers.parse(servers.peers()), Duration.ofSeconds(300),
            servers.adminTls())) {
      CommitWorkload probeLoad = CommitWorkload.setUp(new Scratch(client, false, out), 1);
      long filled = 0;
      for (long n : Arrays.stream(counts.split(",")).map(String::trim).mapToLong(Long::parseLong).toArray()) {
        long t0 = System.nanoTime();
        while (filled < n) {
          fillTopic(client);
          filled += PARTITIONS;
        }
        out.printf("filled to %,d checkpoints (%.1f s)%n", filled, (System.nanoTime() - t0) / 1e9);
        rows.add(measure(servers, client, admin, probeLoad, filled));
      }
      probeLoad.keepAlive().shutdownNow();
    } finally {
      options.cleanUp(work, out);
    }
    out.println();
    out.println("| checkpoints | take (client) ms | apply pause (its log) ms | write + MD5 ms | file MB | probe commit max during take ms | probe p99 before ms | load (restarted node's log) ms | restart to caught up ms |");
    out.println("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    StringBuilder last = new StringBuilder("bench snapshot");
    for (Row r : rows) {
      out.printf("| %,d | %.0f | %s | %s | %s | %.0f | %.0f | %s | %.0f |%n", r.checkpoints, r.takeMs, r.pauseMs, r.writeMs,
          r.mb, r.probeMaxMs, r.probeP99BeforeMs, r.loadMs, r.restartMs);
      String k = r.checkpoints >= 1_000_000 ? (r.checkpoints / 1_000_000) + "m" : (r.checkpoints / 1000) + "k";
      last.append(String.format(" c%s_take_ms=%.0f c%s_pause_ms=%s c%s_write_ms=%s c%s_mb=%s c%s_load_ms=%s c%s_probe_max_ms=%.0f",
          k, r.takeMs, k, r.pauseMs, k, r.writeMs, k, r.mb, k, r.loadMs, k, r.probeMaxMs));
    }
    out.println(last);
    return 0;
  }

  /** One topic of 10,000 partitions, a group with one member holding all, every partition committed. */
  private void fillTopic(CohortClient client) {
    topics++;
    String name = "snap-" + topics;
    client.blocking().createTopic(name, PARTITIONS);
    client.blocking().createGroup(CreateGroup.newBuilder().setGroup(name).addTopics(name).setSessionTimeoutMs(600_000)
        .setHeartbeatIntervalMs(200_000).setStartFrom(StartFrom.BEGIN).build());
    HeartbeatResult hb = client.blocking().heartbeat(Heartbeat.newBuilder().setGroup(name).setConsumerId("m").build());
    List<CompletableFuture<CommitResult>> pending = new ArrayList<>();
    CommitCheckpoints.Builder b = null;
    for (Grant g : hb.getGrantsList()) {
      if (b == null) {
        b = CommitCheckpoints.newBuilder().setGroup(name).setConsumerId("m").setSessionToken(hb.getSessionToken());
      }
      b.addEntries(CheckpointEntry.newBuilder().setTopic(name).setPartition(g.getPartition()).setEpoch(g.getEpoch())
          .setCursor(Long.toString(1_000_000L + g.getPartition())));
      if (b.getEntriesCount() == ENTRIES_PER_COMMIT) {
        pending.add(client.commit(b.build()));
        b = null;
      }
    }
    if (b != null) {
      pending.add(client.commit(b.build()));
    }
    for (CompletableFuture<CommitResult> f : pending) {
      CommitResult r = f.join();
      if (r.getCodesList().stream().anyMatch(c -> c != Code.OK)) {
        throw new IllegalStateException("a fill commit was refused: " + r.getCodesList().stream().distinct().toList());
      }
    }
  }

  private Row measure(ServerProcesses servers, CohortClient client, ClusterAdmin admin, CommitWorkload probeLoad,
      long checkpoints) throws Exception {
    servers.awaitLeader(Duration.ofSeconds(60));
    java.util.Map<String, Long> logFrom0 = new java.util.TreeMap<>();
    for (String id : ServerProcesses.IDS) {
      logFrom0.put(id, Files.size(servers.dir().resolve(id + ".log")));
    }
    ClosedLoop probe = new ClosedLoop(client, probeLoad.commands(), true);
    probe.add(1);
    Latencies before = new Latencies();
    probe.record(before);
    ServerProcesses.sleepMs(5000);
    Latencies during = new Latencies();
    probe.record(during);
    String asked = servers.awaitLeader(Duration.ofSeconds(60));
    long t0 = System.nanoTime();
    long index = admin.createSnapshot(asked);
    double takeMs = (System.nanoTime() - t0) / 1e6;
    // the leader may have changed meanwhile: find the node that took it
    String leader = null;
    String leaderLog = "";
    for (String id : ServerProcesses.IDS) {
      String t = tail(servers.dir().resolve(id + ".log"), logFrom0.get(id));
      if (t.contains("takeSnapshotAsync")) {
        leader = id;
        leaderLog = t;
      }
    }
    if (leader == null) {
      leader = servers.awaitLeader(Duration.ofSeconds(60));
      leaderLog = tail(servers.dir().resolve(leader + ".log"), logFrom0.get(leader));
    }
    // The file is written in the background: the probe keeps measuring until it is durable.
    long writeDeadline = System.nanoTime() + Duration.ofSeconds(300).toNanos();
    while (!leaderLog.contains("durable: ") && System.nanoTime() < writeDeadline) {
      ServerProcesses.sleepMs(100);
      leaderLog = tail(servers.dir().resolve(leader + ".log"), logFrom0.get(leader));
    }
    ServerProcesses.sleepMs(500);
    probe.record(null);
    probe.stop();
    String role = leader.equals(servers.leaderOrNull()) ? "leader " : "follower ";
    final String taker = leader;
    Path log = servers.dir().resolve(leader + ".log");
    long logFrom;
    String pauseMs = find(leaderLog, "state frozen in (\\d+) us", 1, v -> String.format("%.1f", v / 1000.0));
    String writeMs = find(leaderLog, "durable: \\d+ records, \\d+ bytes, written in (\\d+) ms", 1, v -> String.format("%.0f", v));
    String mb = find(leaderLog, "durable: \\d+ records, (\\d+) bytes", 1, v -> String.format("%.1f", v / 1048576.0));
    long[] b = before.sorted();
    long[] d = during.sorted();
    double probeMax = d.length == 0 ? Double.NaN : d[d.length - 1] / 1e6;
    out.printf("%,d checkpoints: snapshot at index %d taken in %.0f ms (client); by %s%s: pause %s ms, write %s ms, %s MB;"
        + " probe commit max %.0f ms during (p99 %.0f ms before)%n", checkpoints, index, takeMs, role, leader, pauseMs, writeMs, mb,
        probeMax, Latencies.quantileMs(b, 0.99));
    // load: kill -9 that node and restart it; it loads the snapshot, then replays the log after it
    servers.kill(leader);
    logFrom = Files.size(log);
    long r0 = System.nanoTime();
    servers.startNode(leader);
    servers.awaitLeader(Duration.ofSeconds(60));
    boolean caught = Members.await(() -> {
      var st = servers.status();
      long max = st.stream().mapToLong(s -> s.commitIndex()).max().orElse(0);
      return st.stream().anyMatch(s -> s.id().equals(taker) && s.reachable() && s.appliedIndex() >= max - 20); // ticks go on
    }, Duration.ofSeconds(300), 100);
    double restartMs = (System.nanoTime() - r0) / 1e6;
    String loadMs = find(tail(log, logFrom), "loaded snapshot \\S+ \\(\\d+ records\\) in (\\d+) ms", 1,
        v -> String.format("%.0f", v));
    out.printf("  restarted %s: snapshot loaded in %s ms (its log); reachable and caught up %.0f ms after the start%s%n",
        leader, loadMs, restartMs, caught ? "" : " (NOT caught up)");
    out.flush();
    return new Row(checkpoints, takeMs, pauseMs, writeMs, mb, probeMax, Latencies.quantileMs(b, 0.99), loadMs, restartMs);
  }

  private static String tail(Path file, long from) throws IOException {
    byte[] all = Files.readAllBytes(file);
    return new String(all, (int) Math.min(from, all.length), (int) Math.max(0, all.length - from), StandardCharsets.UTF_8);
  }

  private static String find(String text, String regex, int group, java.util.function.DoubleFunction<String> format) {
    Matcher m = Pattern.compile(regex).matcher(text);
    String found = "?";
    while (m.find()) {
      found = format.apply(Double.parseDouble(m.group(group)));
    }
    return found;
  }
}
