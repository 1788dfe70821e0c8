package io.cohort.tools;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.cohort.client.CohortClient;
import io.cohort.client.ConsumerConfig;
import io.cohort.client.GroupConsumer;
import io.cohort.server.testing.MiniCluster;
import io.cohort.tools.log.FileLog;
import io.cohort.tools.log.FileLogReader;
import io.cohort.tools.log.LogRecord;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Offset management (step 7, R3) through the CLI against a three-node cluster: a dry run changes
 * nothing; --execute resets the whole set in one replicated command, all or none, while the
 * group runs, and the fenced holders restart from the new cursors.
 */
@ExtendWith(SharedCluster.Resolver.class)
class OffsetManagementCliTest {
  private static final String TOPIC = "ledger";
  private static final int RECORDS = 50;
  private static final Duration PATIENCE = Duration.ofSeconds(90);

  @TempDir
  static Path tmp;
  static MiniCluster cluster;
  static Cli cli;
  static FileLog log;

  /** Offsets each partition's processor saw, in order, over every consumer of the test. */
  final Map<Integer, List<Long>> seen = new ConcurrentHashMap<>();
  final List<AutoCloseable> running = new ArrayList<>();

  @BeforeAll
  static void topicWithRecords(MiniCluster shared) throws Exception {
    cluster = shared;
    cli = new Cli(Cli.env(cluster));
    log = new FileLog(tmp.resolve("log"));
    cli.ok("topic", "create", TOPIC, "--partitions", "4");
    for (int p = 0; p < 4; p++) {
      log.append(TOPIC, p, RECORDS, System.currentTimeMillis());
    }
  }

  @AfterEach
  void stopConsumers() throws Exception {
    for (int i = running.size() - 1; i >= 0; i--) {
      running.get(i).close();
    }
  }

  private void startConsumer(String group, String id) {
    CohortClient client = CohortClient.connect(io.cohort.client.CohortClientConfig.builder(cluster.peers())
        .tls(cluster.adminTls()).build());
    running.add(client);
    running.add(GroupConsumer.start(client, ConsumerConfig.builder(group, id).commitIntervalMs(200).pollWaitMs(50).build(),
        new FileLogReader(log), (grant, records) -> {
          for (LogRecord r : records) {
            seen.computeIfAbsent(grant.partition(), k -> Collections.synchronizedList(new ArrayList<>())).add(r.offset());
          }
        }));
  }

  /** partition to cursor ("(end)" for a reset to the end), from `checkpoint list --json`. */
  private static Map<Integer, String> cursors(String group) {
    Map<Integer, String> out = new TreeMap<>();
    for (JsonNode c : cli.ok("checkpoint", "list", group, "--json").json().get("checkpoints")) {
      out.put(c.get("partition").asInt(), c.get("atEnd").asBoolean() ? "(end)" : c.get("cursor").asText());
    }
    return out;
  }

  private static Map<Integer, Long> epochs(String group) {
    Map<Integer, Long> out = new TreeMap<>();
    for (JsonNode p : cli.ok("group", "describe", group, "--json").json().get("partitions")) {
      out.put(p.get("partition").asInt(), p.get("epoch").asLong());
    }
    return out;
  }

  /** Two members with two partitions each, nothing moving. */
  private static boolean balanced(String group) {
    JsonNode g = cli.ok("group", "describe", group, "--json").json();
    boolean held = true;
    for (JsonNode p : g.get("partitions")) {
      held &= p.get("status").asText().equals("HELD");
    }
    boolean even = g.get("members").size() == 2;
    for (JsonNode m : g.get("members")) {
      even &= m.get("grants").size() == 2;
    }
    return held && even;
  }

  private long times(int partition, long offset) {
    List<Long> l = seen.getOrDefault(partition, List.of());
    synchronized (l) {
      return l.stream().filter(o -> o == offset).count();
    }
  }

  @Test
  void R3_dryRunChangesNothingAndExecuteFencesLiveHoldersWhoRestartFromTheNewCursors() {
    String group = "billing";
    cli.ok("group", "create", group, "--topic", TOPIC);
    startConsumer(group, "c1");
    startConsumer(group, "c2");
    Map<Integer, String> atEnd = Map.of(0, "50", 1, "50", 2, "50", 3, "50");
    await().atMost(PATIENCE).until(() -> cursors(group).equals(atEnd) && balanced(group));
    Map<Integer, Long> before = epochs(group);

    Cli.Run dry = cli.ok("checkpoint", "reset", group, "--topic", TOPIC, "--to-cursor", "10");
    assertTrue(dry.out().contains("(dry run)"), dry.out());
    assertEquals(4, dry.out().lines().filter(l -> l.startsWith(TOPIC + "/") && l.contains(" 50 ") && l.endsWith("10")).count(),
        "before 50, after 10 for each partition:\n" + dry.out());
    assertTrue(dry.out().strip().endsWith("run the same command with --execute"), dry.out());
    JsonNode dryJson = cli.ok("checkpoint", "reset", group, "--topic", TOPIC, "--to-cursor", "10", "--json").json();
    assertTrue(dryJson.get("dryRun").asBoolean());
    assertEquals(atEnd, cursors(group), "a dry run changes nothing");
    assertEquals(before, epochs(group), "a dry run fences nobody");

    JsonNode done = cli.ok("checkpoint", "reset", group, "--topic", TOPIC, "--partitions", "0,1", "--to-cursor", "10",
        "--execute", "--json").json();
    assertEquals(1, done.get("version").asInt());
    assertTrue(!done.get("dryRun").asBoolean() && done.get("ok").asBoolean(), done.toString());
    long epoch = done.get("partitions").get(0).get("epoch").asLong();
    assertTrue(epoch > before.get(0) && epoch > before.get(1), done.toString());

    // the holders were fenced and read again from offset 10, not from 9 and not from 0; 2 and 3 untouched
    await().atMost(PATIENCE).until(() -> times(0, 10) == 2 && times(1, 49) == 2 && cursors(group).equals(atEnd));
    assertEquals(1, times(0, 9));
    assertEquals(1, times(1, 0));
    assertEquals(1, times(2, 10));
    assertEquals(1, times(3, 49));
    Map<Integer, Long> after = epochs(group);
    assertTrue(after.get(0) >= epoch && after.get(1) >= epoch, after.toString());
    assertEquals(before.get(2), after.get(2));
  }

  @Test
  void R3_aScopeWithOneUnknownPartitionChangesNothing() {
    String group = "auditors";
    cli.ok("group", "create", group, "--topic", TOPIC);
    startConsumer(group, "a1");
    Map<Integer, String> atEnd = Map.of(0, "50", 1, "50", 2, "50", 3, "50");
    await().atMost(PATIENCE).until(() -> cursors(group).equals(atEnd));
    Map<Integer, Long> before = epochs(group);

    Cli.Run dry = cli.run("checkpoint", "reset", group, "--topic", TOPIC, "--partitions", "1,99", "--to-cursor", "0");
    assertEquals(1, dry.code(), dry.err());
    assertTrue(dry.out().contains("(not in group)") && dry.err().contains("would refuse"), dry.out() + dry.err());
    cli.failsWith(1, "NOT_FOUND: group '" + group + "' reads no partition " + TOPIC + "/99",
        "checkpoint", "reset", group, "--topic", TOPIC, "--partitions", "1,99", "--to-cursor", "0", "--execute");
    cli.failsWith(1, "does not read topic 'elsewhere'", "checkpoint", "delete", group, "--topic", "elsewhere", "--execute");
    assertEquals(atEnd, cursors(group), "all or none: partition 1 was not reset either");
    assertEquals(before, epochs(group));
    assertEquals(1, times(1, 0), "nobody read partition 1 again");
  }

  @Test
  void fromFileRoundTripsCheckpointListJsonAndDeleteDryRunsFirst() throws Exception {
    String group = "archivists";
    cli.ok("group", "create", group, "--topic", TOPIC);
    cli.ok("checkpoint", "reset", group, "--topic", TOPIC, "--partitions", "0", "--to-cursor", " a b ", "--execute");
    cli.ok("checkpoint", "reset", group, "--topic", TOPIC, "--partitions", "1", "--to-cursor", "\"7\"", "--execute");
    cli.ok("checkpoint", "reset", group, "--topic", TOPIC, "--partitions", "2", "--to-end", "--execute");
    cli.ok("checkpoint", "reset", group, "--topic", TOPIC, "--partitions", "3", "--to-cursor", "33", "--execute");
    Map<Integer, String> saved = cursors(group);
    assertEquals(Map.of(0, " a b ", 1, "\"7\"", 2, "(end)", 3, "33"), saved);
    Path file = Files.writeString(tmp.resolve(group + ".json"), cli.ok("checkpoint", "list", group, "--json").out());

    cli.ok("checkpoint", "reset", group, "--all-topics", "--to-cursor", "0", "--execute");
    assertEquals(Map.of(0, "0", 1, "0", 2, "0", 3, "0"), cursors(group));
    Cli.Run dry = cli.ok("checkpoint", "reset", group, "--from-file", file.toString());
    assertEquals(4, dry.out().lines().filter(l -> l.startsWith(TOPIC + "/")).count(), dry.out());
    Cli.Run one = cli.ok("checkpoint", "reset", group, "--from-file", file.toString(), "--topic", TOPIC,
        "--partitions", "3");
    assertEquals(1, one.out().lines().filter(l -> l.startsWith(TOPIC + "/")).count(), "the scope filters the file: " + one.out());
    cli.ok("checkpoint", "reset", group, "--from-file", file.toString(), "--execute");
    assertEquals(saved, cursors(group), "restored from the file exactly");

    Cli.Run deleteDry = cli.ok("checkpoint", "delete", group, "--topic", TOPIC, "--partitions", "0,3");
    assertTrue(deleteDry.out().contains("(start)"), deleteDry.out());
    assertEquals(saved, cursors(group), "a dry run deletes nothing");
    cli.ok("checkpoint", "delete", group, "--topic", TOPIC, "--partitions", "0,3", "--execute");
    assertEquals(Map.of(1, "\"7\"", 2, "(end)"), cursors(group));
  }

  @Test
  void badOffsetCommandsAreBadUsageAndSendNothing() throws Exception {
    try (Tripwire wire = new Tripwire()) {
      Cli dead = new Cli(Map.of("COHORT_PEERS", wire.peers(), "COHORT_INSECURE", "1"));
      dead.failsWith(2, "give one target", "checkpoint", "reset", "g", "--all-topics");
      dead.failsWith(2, "give one target", "checkpoint", "reset", "g", "--all-topics", "--to-start", "--to-end");
      dead.failsWith(2, "--partitions needs exactly one --topic", "checkpoint", "reset", "g", "--partitions", "1",
          "--to-start");
      dead.failsWith(2, "either --all-topics or --topic", "checkpoint", "delete", "g", "--all-topics", "--topic", "t");
      dead.failsWith(2, "say which partitions", "checkpoint", "delete", "g");
      dead.failsWith(2, "takes no scope or target options", "checkpoint", "reset", "g", "t", "0", "c", "--to-end");
      dead.failsWith(2, "named twice", "checkpoint", "reset", "g", "--topic", "t", "--partitions", "1,1", "--to-start");
      Path notJson = Files.writeString(tmp.resolve("not.json"), "{ nope");
      dead.failsWith(2, "is not JSON", "checkpoint", "reset", "g", "--from-file", notJson.toString());
      Path noList = Files.writeString(tmp.resolve("no-list.json"), "{\"version\":1}");
      dead.failsWith(2, "has no \"checkpoints\" list", "checkpoint", "reset", "g", "--from-file", noList.toString());
      assertEquals(0, wire.connections());
    }
  }
}
