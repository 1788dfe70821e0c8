package io.cohort.harness.demo;

import com.fasterxml.jackson.databind.JsonNode;
import io.cohort.client.BlockingCohortClient;
import io.cohort.client.CohortClient;
import io.cohort.statemachine.proto.CreateGroup;
import io.cohort.statemachine.proto.GroupPartitionView;
import io.cohort.statemachine.proto.PartitionStatus;
import io.cohort.statemachine.proto.SplitPartition;
import io.cohort.tools.log.FileLog;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The seed's scenarios (E2, E1, E3) and a leader kill, each with real consumer processes over the
 * demo log, each ending in a check the narrator records.
 */
final class Scenarios {
  private final LocalCluster cluster;
  private final CohortClient client;
  private final GroupProbe probe;
  private final Narrator narrator;
  private final FileLog log;
  private final Path dir;
  private final List<ConsumerProcess> consumers = new ArrayList<>();

  Scenarios(LocalCluster cluster, CohortClient client, Narrator narrator, FileLog log, Path dir) {
    this.cluster = cluster;
    this.client = client;
    this.probe = new GroupProbe(client);
    this.narrator = narrator;
    this.log = log;
    this.dir = dir;
  }

  void runAll() throws Exception {
    e2();
    e1();
    e3();
    failover();
  }

  /** E2: A{0,1,2}, B{3,4,5}; C joins and takes exactly one partition from each. */
  private void e2() throws Exception {
    narrator.section("E2: a third consumer joins (seed example 2)");
    createTopic("e2", 6, 50);
    createGroup("e2-group", "e2", false);
    startConsumer("e2-group", "A");
    probe.awaitHeld("e2-group", Map.of("A", 6));
    startConsumer("e2-group", "B");
    probe.awaitHeld("e2-group", Map.of("A", 3, "B", 3));
    Map<String, TreeSet<Integer>> before = probe.holders("e2-group");
    narrator.say("A and B share the six partitions: " + before);
    long t0 = System.nanoTime();
    startConsumer("e2-group", "C");
    probe.awaitHeld("e2-group", Map.of("A", 2, "B", 2, "C", 2));
    long ms = (System.nanoTime() - t0) / 1_000_000;
    Map<String, TreeSet<Integer>> after = probe.holders("e2-group");
    narrator.say("C started; " + ms + " ms later (including its JVM start) the group is balanced: " + after);
    TreeSet<Integer> fromA = new TreeSet<>(before.get("A"));
    fromA.removeAll(after.get("A"));
    TreeSet<Integer> fromB = new TreeSet<>(before.get("B"));
    fromB.removeAll(after.get("B"));
    boolean ok = fromA.size() == 1 && fromB.size() == 1 && before.get("A").containsAll(after.get("A"))
        && before.get("B").containsAll(after.get("B"))
        && after.get("C").equals(union(fromA, fromB));
    narrator.check(ok, "E2: C took exactly one partition from A " + fromA + " and one from B " + fromB
        + ", nothing else moved (the seed, numbering from 1, shows 3 and 4)");
    stopConsumers();
  }

  /** E1: A{0,1}, B{2,3}; B's partition 3 splits: B keeps its two and gets one child, A the other. */
  private void e1() throws Exception {
    narrator.section("E1: a partition splits (seed example 1)");
    createTopic("e1", 4, 50);
    createGroup("e1-group", "e1", false);
    startConsumer("e1-group", "A");
    probe.awaitHeld("e1-group", Map.of("A", 4));
    startConsumer("e1-group", "B");
    probe.awaitHeld("e1-group", Map.of("A", 2, "B", 2));
    narrator.say("before the split: " + probe.holders("e1-group"));
    long end = log.end("e1", 3);
    List<Integer> children = BlockingCohortClient.await(client.split(SplitPartition.newBuilder()
        .setTopic("e1").setPartition(3).setEndCursor(Long.toString(end)).build()));
    Map<String, TreeSet<Integer>> after = probe.holders("e1-group");
    narrator.say("split e1/3 (end cursor " + end + ") into " + children + ": " + after);
    narrator.check(after.equals(Map.of("A", new TreeSet<>(List.of(0, 1, 5)), "B", new TreeSet<>(List.of(2, 3, 4)))),
        "E1: after the split B kept {2,3} and received child 4, A received child 5: three each");
    GroupProbe.await("B reads sealed e1/3 to its end", () -> probe.status("e1-group", "e1", 3) == PartitionStatus.FINISHED);
    narrator.say("B read e1/3 to its end and committed it finished: " + probe.holders("e1-group"));
    stopConsumers();
  }

  /** E3: order=true; partition 2 splits into 3 and 4, which wait until 2 is read to its end. */
  private void e3() throws Exception {
    narrator.section("E3: order consumption across a split (seed, order=true)");
    createTopic("e3", 3, 50);
    log.append("e3", 2, 950, System.currentTimeMillis());
    long end = log.end("e3", 2);
    BlockingCohortClient.await(client.split(SplitPartition.newBuilder().setTopic("e3").setPartition(2)
        .setEndCursor(Long.toString(end)).build()));
    log.append("e3", 3, 100, System.currentTimeMillis());
    log.append("e3", 4, 100, System.currentTimeMillis());
    createGroup("e3-group", "e3", true);
    GroupPartitionView child = probe.partition("e3-group", "e3", 3);
    narrator.say("e3/2 (" + end + " records) split into 3 and 4; before anyone reads, e3/3 is " + child.getStatus()
        + " waiting for " + child.getWaitingForList());
    boolean waited = child.getStatus() == PartitionStatus.WAITING_PARENTS && child.getWaitingForList().equals(List.of(2));
    ConsumerProcess a = startConsumer("e3-group", "A");
    ConsumerProcess b = startConsumer("e3-group", "B");
    GroupProbe.await("both children read to 100", () -> probe.cursor("e3-group", "e3", 3).equals("100")
        && probe.cursor("e3-group", "e3", 4).equals("100"));
    long parentLast = 0;
    long childFirst = Long.MAX_VALUE;
    long parentRecords = 0;
    for (ConsumerProcess c : List.of(a, b)) {
      for (JsonNode e : c.events()) {
        if (!"record".equals(e.path("event").asText())) {
          continue;
        }
        long p = e.path("partition").asLong();
        long t = e.path("timeMs").asLong();
        if (p == 2) {
          parentLast = Math.max(parentLast, t);
          parentRecords++;
        } else if (p == 3 || p == 4) {
          childFirst = Math.min(childFirst, t);
        }
      }
    }
    narrator.say("parent e3/2: " + parentRecords + " records, the last read at " + parentLast
        + "; first child record read at " + childFirst);
    narrator.check(waited && parentRecords == end && parentLast <= childFirst,
        "E3: children 3 and 4 waited (WAITING_PARENTS [2]) and no child record was read before the parent's last one");
    stopConsumers();
  }

  /** Kill -9 the leader while two consumers read a growing log: nothing lost, nothing read twice. */
  private void failover() throws Exception {
    narrator.section("Failover: kill -9 the leader mid-consumption");
    createTopic("fo", 4, 0);
    createGroup("fo-group", "fo", false);
    ConsumerProcess a = startConsumer("fo-group", "A");
    probe.awaitHeld("fo-group", Map.of("A", 4));
    ConsumerProcess b = startConsumer("fo-group", "B");
    probe.awaitHeld("fo-group", Map.of("A", 2, "B", 2));
    Thread producer = new Thread(() -> produceFor(Duration.ofSeconds(8)), "demo-producer");
    producer.start();
    GroupProbe.sleepMs(2500);
    String leader = cluster.leader();
    long pid = cluster.pid(leader);
    long killedAt = System.currentTimeMillis();
    ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
    narrator.say("killed leader " + leader + " (pid " + pid + ") with SIGKILL while the consumers commit");
    GroupProbe.await("a new leader", () -> {
      String l = cluster.leaderOrNull();
      return l != null && !l.equals(leader);
    });
    long electedMs = System.currentTimeMillis() - killedAt;
    narrator.say("new leader " + cluster.leader() + " after " + electedMs + " ms");
    producer.join();
    Map<Integer, Long> ends = new TreeMap<>();
    for (int p = 0; p < 4; p++) {
      ends.put(p, log.end("fo", p));
    }
    GroupProbe.await("checkpoints at the end of every partition", () -> {
      for (int p = 0; p < 4; p++) {
        if (!probe.cursor("fo-group", "fo", p).equals(Long.toString(ends.get(p)))) {
          return false;
        }
      }
      return true;
    });
    narrator.say("restarting " + leader + " (scripts/cluster.sh start starts only what is missing)");
    cluster.start();
    long firstCommitAfter = Long.MAX_VALUE;
    Map<Integer, List<Long>> offsets = new TreeMap<>();
    for (ConsumerProcess c : List.of(a, b)) {
      for (JsonNode e : c.events()) {
        String event = e.path("event").asText();
        if (event.equals("record")) {
          offsets.computeIfAbsent(e.path("partition").asInt(), k -> new ArrayList<>()).add(e.path("offset").asLong());
        } else if (event.equals("committed") && e.path("timeMs").asLong() > killedAt) {
          firstCommitAfter = Math.min(firstCommitAfter, e.path("timeMs").asLong());
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
    narrator.say("produced " + total + " records; commits resumed " + (firstCommitAfter - killedAt)
        + " ms after the kill; duplicates " + duplicates + ", missing " + missing);
    narrator.check(duplicates == 0 && missing == 0, "failover: leader " + leader + " killed, new leader in " + electedMs
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
        GroupProbe.sleepMs(50);
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
    narrator.say("topic " + topic + ": " + partitions + " partitions" + (recordsEach > 0 ? ", " + recordsEach + " records each" : ""));
  }

  private void createGroup(String group, String topic, boolean order) {
    client.blocking().createGroup(CreateGroup.newBuilder().setGroup(group).addTopics(topic).setOrder(order)
        .setSessionTimeoutMs(6000).setHeartbeatIntervalMs(1000).build());
    narrator.say("group " + group + " on " + topic + (order ? " (order=true)" : "") + ", heartbeat 1 s, session timeout 6 s");
  }

  private ConsumerProcess startConsumer(String group, String consumer) throws IOException {
    List<String> java = List.of(ProcessHandle.current().info().command().orElse("java"),
        "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx256m");
    ConsumerProcess c = ConsumerProcess.start(java, cluster.peers(), cluster.tls("consumer"), group, consumer, log, dir);
    consumers.add(c);
    narrator.say("started consumer " + consumer + " of " + group + " (pid " + c.pid() + ")");
    return c;
  }

  /** Stops every consumer process still running (SIGTERM: they commit and leave). */
  void stopConsumers() throws InterruptedException {
    for (ConsumerProcess c : consumers) {
      c.close();
    }
    consumers.clear();
  }

  private static TreeSet<Integer> union(TreeSet<Integer> a, TreeSet<Integer> b) {
    TreeSet<Integer> u = new TreeSet<>(a);
    u.addAll(b);
    return u;
  }
}
