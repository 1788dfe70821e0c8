package io.cohort.tools.demo;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.Parameters;
import io.cohort.client.BlockingCohortClient;
import io.cohort.client.CohortClient;
import io.cohort.server.ClusterStatus;
import io.cohort.server.Peers;
import io.cohort.server.ServerConfig;
import io.cohort.statemachine.proto.CreateGroup;
import io.cohort.statemachine.proto.GroupPartitionView;
import io.cohort.statemachine.proto.GroupView;
import io.cohort.statemachine.proto.PartitionStatus;
import io.cohort.statemachine.proto.SplitPartition;
import io.cohort.tools.CliCommand;
import io.cohort.tools.CliContext;
import io.cohort.tools.log.FileLog;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * The demo: a real three-node cluster (scripts/cluster.sh), real consumer processes over the demo
 * log, and the seed's scenarios, each checked; then the leader is killed mid-consumption. Prints
 * what happened and a verdict; stops everything it started.
 */
@Parameters(commandDescription = "Run the demo: a local 3-node cluster, real consumers, the seed's scenarios, a leader kill")
public final class Demo implements CliCommand {
  @Parameter(names = "--dir", description = "work directory (default: a new temporary one)")
  Path dir;

  @Parameter(names = "--root", description = "the Cohort checkout (for scripts/cluster.sh; default: found from the jar)")
  Path root;

  @Parameter(names = "--base-port", description = "first of three ports for the cluster (default: free ones)")
  int basePort;

  private PrintStream out;
  private String peers;
  private Path jar;
  private FileLog log;
  private CohortClient client;
  private final List<String> verdict = new ArrayList<>();
  private final List<ConsumerProcess> consumers = new ArrayList<>();
  private boolean allOk = true;

  @Override
  public int run(CliContext ctx) throws Exception {
    out = ctx.out;
    jar = Path.of(Demo.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    if (root == null) {
      root = jar.getParent().getParent().getParent(); // <root>/tools/target/cohort.jar
    }
    if (!Files.isRegularFile(root.resolve("scripts/cluster.sh"))) {
      ctx.err.println("cohort demo: no scripts/cluster.sh under " + root + " (give --root)");
      return 1;
    }
    dir = dir != null ? Files.createDirectories(dir) : Files.createTempDirectory("cohort-demo-");
    basePort = basePort > 0 ? basePort : freePorts();
    peers = "n1=127.0.0.1:" + basePort + ",n2=127.0.0.1:" + (basePort + 1) + ",n3=127.0.0.1:" + (basePort + 2);
    log = new FileLog(dir.resolve("log"));
    long started = System.nanoTime();
    say("Cohort demo: work dir " + dir);
    say("Starting a 3-node cluster on 127.0.0.1:" + basePort + ".." + (basePort + 2) + " (scripts/cluster.sh)");
    try {
      cluster("start");
      client = ctx.closeLater(CohortClient.connect(peers));
      e2();
      e1();
      e3();
      failover();
    } catch (Exception e) {
      allOk = false;
      verdict.add("[FAIL] the demo stopped early: " + e);
    } finally {
      for (ConsumerProcess c : consumers) {
        c.close();
      }
      say("Stopping the cluster");
      try {
        cluster("stop");
      } catch (Exception e) {
        verdict.add("[FAIL] stopping the cluster: " + e);
        allOk = false;
      }
    }
    out.println();
    out.println("Verdict (" + (System.nanoTime() - started) / 1_000_000_000 + " s):");
    verdict.forEach(v -> out.println("  " + v));
    out.println(allOk ? "All checks passed." : "SOME CHECKS FAILED.");
    return allOk ? 0 : 1;
  }

  // ------------------------------------------------------------------ the scenarios

  /** E2: A{0,1,2}, B{3,4,5}; C joins and takes exactly one partition from each. */
  private void e2() throws Exception {
    section("E2: a third consumer joins (seed example 2)");
    createTopic("e2", 6, 50);
    createGroup("e2-group", "e2", false);
    startConsumer("e2-group", "A");
    awaitHeld("e2-group", Map.of("A", 6));
    startConsumer("e2-group", "B");
    awaitHeld("e2-group", Map.of("A", 3, "B", 3));
    Map<String, TreeSet<Integer>> before = holders("e2-group");
    say("A and B share the six partitions: " + before);
    long t0 = System.nanoTime();
    startConsumer("e2-group", "C");
    awaitHeld("e2-group", Map.of("A", 2, "B", 2, "C", 2));
    long ms = (System.nanoTime() - t0) / 1_000_000;
    Map<String, TreeSet<Integer>> after = holders("e2-group");
    say("C started; " + ms + " ms later (including its JVM start) the group is balanced: " + after);
    TreeSet<Integer> fromA = new TreeSet<>(before.get("A"));
    fromA.removeAll(after.get("A"));
    TreeSet<Integer> fromB = new TreeSet<>(before.get("B"));
    fromB.removeAll(after.get("B"));
    boolean ok = fromA.size() == 1 && fromB.size() == 1 && before.get("A").containsAll(after.get("A"))
        && before.get("B").containsAll(after.get("B"))
        && after.get("C").equals(union(fromA, fromB));
    check(ok, "E2: C took exactly one partition from A " + fromA + " and one from B " + fromB
        + ", nothing else moved (the seed, numbering from 1, shows 3 and 4)");
    stopConsumers();
  }

  /** E1: A{0,1}, B{2,3}; B's partition 3 splits: B keeps its two and gets one child, A the other. */
  private void e1() throws Exception {
    section("E1: a partition splits (seed example 1)");
    createTopic("e1", 4, 50);
    createGroup("e1-group", "e1", false);
    startConsumer("e1-group", "A");
    awaitHeld("e1-group", Map.of("A", 4));
    startConsumer("e1-group", "B");
    awaitHeld("e1-group", Map.of("A", 2, "B", 2));
    say("before the split: " + holders("e1-group"));
    long end = log.end("e1", 3);
    List<Integer> children = BlockingCohortClient.await(client.split(SplitPartition.newBuilder()
        .setTopic("e1").setPartition(3).setEndCursor(Long.toString(end)).build()));
    Map<String, TreeSet<Integer>> after = holders("e1-group");
    say("split e1/3 (end cursor " + end + ") into " + children + ": " + after);
    check(after.equals(Map.of("A", new TreeSet<>(List.of(0, 1, 5)), "B", new TreeSet<>(List.of(2, 3, 4)))),
        "E1: after the split B kept {2,3} and received child 4, A received child 5: three each");
    await("B reads sealed e1/3 to its end", () -> status("e1-group", "e1", 3) == PartitionStatus.FINISHED);
    say("B read e1/3 to its end and committed it finished: " + holders("e1-group"));
    stopConsumers();
  }

  /** E3: order=true; partition 2 splits into 3 and 4, which wait until 2 is read to its end. */
  private void e3() throws Exception {
    section("E3: order consumption across a split (seed, order=true)");
    createTopic("e3", 3, 50);
    log.append("e3", 2, 950, System.currentTimeMillis());
    long end = log.end("e3", 2);
    BlockingCohortClient.await(client.split(SplitPartition.newBuilder().setTopic("e3").setPartition(2)
        .setEndCursor(Long.toString(end)).build()));
    log.append("e3", 3, 100, System.currentTimeMillis());
    log.append("e3", 4, 100, System.currentTimeMillis());
    createGroup("e3-group", "e3", true);
    GroupPartitionView child = partition("e3-group", "e3", 3);
    say("e3/2 (" + end + " records) split into 3 and 4; before anyone reads, e3/3 is " + child.getStatus()
        + " waiting for " + child.getWaitingForList());
    boolean waited = child.getStatus() == PartitionStatus.WAITING_PARENTS && child.getWaitingForList().equals(List.of(2));
    ConsumerProcess a = startConsumer("e3-group", "A");
    ConsumerProcess b = startConsumer("e3-group", "B");
    await("both children read to 100", () -> cursor("e3-group", "e3", 3).equals("100")
        && cursor("e3-group", "e3", 4).equals("100"));
    long parentLast = 0;
    long childFirst = Long.MAX_VALUE;
    long parentRecords = 0;
    for (ConsumerProcess c : List.of(a, b)) {
      for (Map<String, Object> e : c.events()) {
        if (!"record".equals(e.get("event"))) {
          continue;
        }
        long p = (Long) e.get("partition");
        long t = (Long) e.get("timeMs");
        if (p == 2) {
          parentLast = Math.max(parentLast, t);
          parentRecords++;
        } else if (p == 3 || p == 4) {
          childFirst = Math.min(childFirst, t);
        }
      }
    }
    say("parent e3/2: " + parentRecords + " records, the last read at " + parentLast
        + "; first child record read at " + childFirst);
    check(waited && parentRecords == end && parentLast <= childFirst,
        "E3: children 3 and 4 waited (WAITING_PARENTS [2]) and no child record was read before the parent's last one");
    stopConsumers();
  }

  /** Kill -9 the leader while two consumers read a growing log: nothing lost, nothing read twice. */
  private void failover() throws Exception {
    section("Failover: kill -9 the leader mid-consumption");
    createTopic("fo", 4, 0);
    createGroup("fo-group", "fo", false);
    ConsumerProcess a = startConsumer("fo-group", "A");
    awaitHeld("fo-group", Map.of("A", 4));
    ConsumerProcess b = startConsumer("fo-group", "B");
    awaitHeld("fo-group", Map.of("A", 2, "B", 2));
    Thread producer = new Thread(() -> produceFor(Duration.ofSeconds(8)), "demo-producer");
    producer.start();
    sleepMs(2500);
    String leader = leader();
    long pid = Long.parseLong(Files.readString(dir.resolve("cluster").resolve(leader + ".pid")).strip());
    long killedAt = System.currentTimeMillis();
    ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
    say("killed leader " + leader + " (pid " + pid + ") with SIGKILL while the consumers commit");
    await("a new leader", () -> {
      String l = leaderOrNull();
      return l != null && !l.equals(leader);
    });
    long electedMs = System.currentTimeMillis() - killedAt;
    say("new leader " + leader() + " after " + electedMs + " ms");
    producer.join();
    Map<Integer, Long> ends = new TreeMap<>();
    for (int p = 0; p < 4; p++) {
      ends.put(p, log.end("fo", p));
    }
    await("checkpoints at the end of every partition", () -> {
      for (int p = 0; p < 4; p++) {
        if (!cursor("fo-group", "fo", p).equals(Long.toString(ends.get(p)))) {
          return false;
        }
      }
      return true;
    });
    say("restarting " + leader + " (scripts/cluster.sh start starts only what is missing)");
    cluster("start");
    long firstCommitAfter = Long.MAX_VALUE;
    Map<Integer, List<Long>> offsets = new TreeMap<>();
    for (ConsumerProcess c : List.of(a, b)) {
      for (Map<String, Object> e : c.events()) {
        if ("record".equals(e.get("event"))) {
          offsets.computeIfAbsent(((Long) e.get("partition")).intValue(), k -> new ArrayList<>()).add((Long) e.get("offset"));
        } else if ("committed".equals(e.get("event")) && (Long) e.get("timeMs") > killedAt) {
          firstCommitAfter = Math.min(firstCommitAfter, (Long) e.get("timeMs"));
        }
      }
    }
    long total = 0;
    long duplicates = 0;
    long missing = 0;
    for (int p = 0; p < 4; p++) {
      List<Long> seen = offsets.getOrDefault(p, List.of());
      TreeSet<Long> distinct = new TreeSet<>(seen);
      duplicates += seen.size() - distinct.size();
      for (long o = 0; o < ends.get(p); o++) {
        if (!distinct.contains(o)) {
          missing++;
        }
      }
      total += ends.get(p);
    }
    say("produced " + total + " records; commits resumed " + (firstCommitAfter - killedAt)
        + " ms after the kill; duplicates " + duplicates + ", missing " + missing);
    check(duplicates == 0 && missing == 0, "failover: leader " + leader + " killed, new leader in " + electedMs
        + " ms; all " + total + " records read exactly once; every checkpoint at its partition's end");
    stopConsumers();
  }

  // ------------------------------------------------------------------ helpers

  private void produceFor(Duration d) {
    long until = System.nanoTime() + d.toNanos();
    try {
      while (System.nanoTime() < until) {
        for (int p = 0; p < 4; p++) {
          log.append("fo", p, 5, System.currentTimeMillis());
        }
        sleepMs(50);
      }
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private void createTopic(String topic, int partitions, int recordsEach) throws IOException {
    client.blocking().createTopic(topic, partitions);
    for (int p = 0; p < partitions && recordsEach > 0; p++) {
      log.append(topic, p, recordsEach, System.currentTimeMillis());
    }
    say("topic " + topic + ": " + partitions + " partitions" + (recordsEach > 0 ? ", " + recordsEach + " records each" : ""));
  }

  private void createGroup(String group, String topic, boolean order) {
    client.blocking().createGroup(CreateGroup.newBuilder().setGroup(group).addTopics(topic).setOrder(order)
        .setSessionTimeoutMs(6000).setHeartbeatIntervalMs(1000).build());
    say("group " + group + " on " + topic + (order ? " (order=true)" : "") + ", heartbeat 1 s, session timeout 6 s");
  }

  private ConsumerProcess startConsumer(String group, String consumer) throws IOException {
    List<String> java = List.of(ProcessHandle.current().info().command().orElse("java"),
        "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx256m");
    ConsumerProcess c = ConsumerProcess.start(java, jar, peers, group, consumer, log, dir);
    consumers.add(c);
    say("started consumer " + consumer + " of " + group + " (pid " + c.pid() + ")");
    return c;
  }

  private void stopConsumers() throws InterruptedException {
    for (ConsumerProcess c : consumers) {
      c.close();
    }
    consumers.clear();
  }

  private GroupView describe(String group) {
    return client.blocking().describeGroup(group);
  }

  private Map<String, TreeSet<Integer>> holders(String group) {
    Map<String, TreeSet<Integer>> out = new TreeMap<>();
    GroupView g = describe(group);
    g.getMembersList().forEach(m -> out.put(m.getConsumerId(), new TreeSet<>()));
    for (GroupPartitionView p : g.getPartitionsList()) {
      if (p.hasHolder() && p.getStatus() == PartitionStatus.HELD) {
        out.get(p.getHolder()).add(p.getPartition());
      }
    }
    return out;
  }

  /** Waits until each named consumer holds that many partitions and no handoff is in flight. */
  private void awaitHeld(String group, Map<String, Integer> counts) {
    await(counts + " in " + group, () -> {
      GroupView g = describe(group);
      if (g.getMembersCount() != counts.size()) {
        return false;
      }
      for (GroupPartitionView p : g.getPartitionsList()) {
        if (p.getStatus() == PartitionStatus.RELEASING) {
          return false;
        }
      }
      Map<String, TreeSet<Integer>> h = holders(group);
      for (var e : counts.entrySet()) {
        if (h.getOrDefault(e.getKey(), new TreeSet<>()).size() != e.getValue()) {
          return false;
        }
      }
      return true;
    });
  }

  private GroupPartitionView partition(String group, String topic, int partition) {
    for (GroupPartitionView p : describe(group).getPartitionsList()) {
      if (p.getTopic().equals(topic) && p.getPartition() == partition) {
        return p;
      }
    }
    throw new IllegalStateException("no " + topic + "/" + partition + " in " + group);
  }

  private PartitionStatus status(String group, String topic, int partition) {
    return partition(group, topic, partition).getStatus();
  }

  private String cursor(String group, String topic, int partition) {
    GroupPartitionView p = partition(group, topic, partition);
    return p.hasCheckpoint() ? p.getCheckpoint().getCursor() : "";
  }

  private String leaderOrNull() {
    for (ClusterStatus.PeerStatus s : ClusterStatus.query(Peers.parse(peers), ServerConfig.DEFAULT_GROUP_ID, 1000)) {
      if (s.reachable() && "LEADER".equals(s.role())) {
        return s.id();
      }
    }
    return null;
  }

  private String leader() {
    await("a leader", () -> leaderOrNull() != null);
    return leaderOrNull();
  }

  private void cluster(String command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder("bash", root.resolve("scripts/cluster.sh").toString(), command,
        "--dir", dir.resolve("cluster").toString(), "--base-port", Integer.toString(basePort))
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("cluster.out").toFile()))
        .start();
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IOException("scripts/cluster.sh " + command + " did not finish in 120 s");
    }
    if (p.exitValue() != 0) {
      throw new IOException("scripts/cluster.sh " + command + " failed; see " + dir.resolve("cluster.out"));
    }
  }

  private static void await(String what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (true) {
      try {
        if (condition.getAsBoolean()) {
          return;
        }
      } catch (RuntimeException e) {
        // the cluster may be electing a leader; ask again
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("timed out after 60 s waiting for " + what);
      }
      sleepMs(100);
    }
  }

  private static void sleepMs(long ms) {
    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(ms));
  }

  private static int freePorts() throws IOException {
    for (int attempt = 0; attempt < 50; attempt++) {
      int base;
      try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
        base = s.getLocalPort();
      }
      if (base > 65000) {
        continue;
      }
      boolean free = true;
      for (int i = 1; i < 3 && free; i++) {
        try (ServerSocket s = new ServerSocket(base + i, 1, java.net.InetAddress.getLoopbackAddress())) {
          free = true;
        } catch (IOException e) {
          free = false;
        }
      }
      if (free) {
        return base;
      }
    }
    throw new IOException("found no three free consecutive ports on 127.0.0.1");
  }

  private static TreeSet<Integer> union(TreeSet<Integer> a, TreeSet<Integer> b) {
    TreeSet<Integer> u = new TreeSet<>(a);
    u.addAll(b);
    return u;
  }

  private void section(String title) {
    out.println();
    out.println("== " + title);
  }

  private void say(String line) {
    out.println("   " + line);
    out.flush();
  }

  private void check(boolean ok, String what) {
    verdict.add((ok ? "[ok]   " : "[FAIL] ") + what);
    allOk &= ok;
    say(ok ? "check passed" : "CHECK FAILED: " + what);
  }
}
