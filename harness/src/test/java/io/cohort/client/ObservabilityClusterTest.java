package io.cohort.client;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.cohort.statemachine.proto.CreateGroup;
import io.cohort.statemachine.proto.DescribeGroupQuery;
import io.cohort.statemachine.proto.GroupPartitionView;
import io.cohort.statemachine.proto.GroupSummary;
import io.cohort.statemachine.proto.GroupView;
import io.cohort.tools.Cohort;
import io.cohort.tools.json.Json;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Step 9 against a real three-node cluster: a consumer whose processor keeps failing shows STALLED
 * with its last error (client API and CLI), its poison policy acts, `cohort top --once` sees the
 * groups, and retention deletes an empty group after its time, never one with members.
 */
class ObservabilityClusterTest {
  private static final Duration TIMEOUT = ClusterFixture.TIMEOUT;

  @TempDir
  static Path dir;
  static ClusterFixture f;

  @BeforeAll
  static void start() throws Exception {
    f = new ClusterFixture(dir);
  }

  @AfterAll
  static void stop() {
    if (f != null) {
      f.close();
    }
  }

  /** Runs the CLI in this JVM: [exit code, stdout, stderr]. */
  private static String[] cli(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = new Cohort(new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8),
        Map.of("COHORT_PEERS", f.cluster.peers(), "COHORT_TLS_CERT", f.cluster.adminTls().cert().toString(),
            "COHORT_TLS_KEY", f.cluster.adminTls().key().toString(), "COHORT_TLS_CA", f.cluster.adminTls().ca().toString()))
        .run(args);
    return new String[] {Integer.toString(code), out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8)};
  }

  private static String ok(String... args) {
    String[] r = cli(args);
    assertEquals("0", r[0], String.join(" ", args) + ": " + r[2]);
    return r[1];
  }

  private static GroupPartitionView partition(String group, int partition, long stallAfterMs) {
    GroupView v = BlockingCohortClient.await(f.admin.describeGroup(DescribeGroupQuery.newBuilder().setGroup(group)
        .setStallAfterMs(stallAfterMs).build(), ReadMode.linearizable()));
    return v.getPartitionsList().stream().filter(p -> p.getPartition() == partition).findFirst().orElseThrow();
  }

  /** Fails on offset 3 of partition 1 while {@code poisoned}. */
  private static RecordProcessor<InMemoryLog.Record> failingOn(Recorder recorder, String topic) {
    return (grant, records) -> {
      if (grant.partition() == 1 && records.stream().anyMatch(r -> r.offset() == 3)) {
        throw new IllegalArgumentException("cannot parse " + topic + "/1 at 3");
      }
      recorder.process(grant, records);
    };
  }

  @Test
  void aConsumerWhoseProcessorKeepsFailingShowsStalledWithItsLastError_andTopSeesIt() throws Exception {
    f.admin.blocking().createTopic("orders", 2);
    f.createGroup("billing", "orders", false, 10_000, 200);
    f.log.append("orders", 0, 10);
    f.log.append("orders", 1, 10);
    Recorder r = f.recorder("w1");
    f.consumer(ConsumerConfig.builder("billing", "w1").maxBatchRecords(1).commitIntervalMs(100).pollWaitMs(50)
        .errorBackoffMs(50).maxErrorBackoffMs(200).build(), failingOn(r, "orders"), r);
    await("p1 stalled with its error").atMost(TIMEOUT).pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
      GroupPartitionView p1 = partition("billing", 1, 1);
      assertTrue(p1.getHealth().getStalled(), p1.toString());
      assertTrue(p1.getHealth().getLastError().getMessage().contains("cannot parse orders/1 at 3"), p1.toString());
      assertEquals("3", p1.getCheckpoint().getCursor(), "its last good position");
      assertEquals("10", partition("billing", 0, 1).getCheckpoint().getCursor());
      assertFalse(partition("billing", 0, 1).getHealth().getStalled(), "p0 caught up: lag 0");
    });

    String text = ok("group", "describe", "billing", "--stall-after-ms", "1");
    assertTrue(text.contains("STALLED") && text.contains("cannot parse orders/1 at 3"), text);
    JsonNode json = Json.read(ok("group", "describe", "billing", "--stall-after-ms", "1", "--json"));
    JsonNode h1 = json.get("partitions").get(1).get("health");
    assertTrue(h1.get("stalled").asBoolean() && h1.get("failing").asBoolean(), json.toString());
    assertTrue(h1.get("lastError").get("attempts").asInt() >= 2, json.toString());
    assertFalse(json.get("partitions").get(0).get("health").get("stalled").asBoolean());
    String list = ok("checkpoint", "list", "billing", "--stall-after-ms", "1");
    assertTrue(list.lines().anyMatch(l -> l.startsWith("orders/1") && l.contains("STALLED")), list);

    JsonNode top = Json.read(ok("top", "--once", "--json", "--group", "billing", "--interval-ms", "200",
        "--stall-after-ms", "1"));
    JsonNode billing = top.get("groups").get(0);
    assertEquals("billing", billing.get("group").asText());
    assertEquals(1, billing.get("members").asInt());
    assertEquals(2, billing.get("partitions").get("HELD").asInt());
    assertEquals(1, billing.get("stalled").asInt());
    assertEquals(1, billing.get("failing").asInt());
    assertTrue(billing.get("commitsPerSecond").isNumber());
    String frame = ok("top", "--once", "--interval-ms", "200");
    assertTrue(frame.contains("GROUP") && frame.lines().anyMatch(l -> l.startsWith("billing")), frame);
    String live = ok("top", "--frames", "2", "--interval-ms", "200");
    assertEquals(2, live.split("\u001b\\[H\u001b\\[2J", -1).length - 1, "two frames, each clearing the screen");
  }

  @Test
  void stopPolicy_thePartitionIsReleasedAndParkedAndGroupDescribeShowsTheError() {
    f.admin.blocking().createTopic("events", 2);
    f.createGroup("audit", "events", false, 10_000, 200);
    f.log.append("events", 0, 5);
    f.log.append("events", 1, 5);
    Recorder r = f.recorder("a1");
    GroupConsumer<InMemoryLog.Record> c = f.consumer(ConsumerConfig.builder("audit", "a1").maxBatchRecords(1)
        .commitIntervalMs(100).pollWaitMs(50).errorBackoffMs(50).poisonPolicy(PoisonPolicy.stopAfter(2)).build(),
        failingOn(r, "events"), r);
    await("released once, then held without reading").atMost(TIMEOUT)
        .until(() -> c.poisoned().equals(Set.of(new PartitionId("events", 1))));
    assertEquals(1, r.revoked(RevokeReason.POISONED));
    assertTrue(r.errors.stream().anyMatch(e -> e instanceof PoisonBatchException p && !p.skipped()));
    GroupPartitionView p1 = partition("audit", 1, 60_000);
    assertEquals("a1", p1.getHolder());
    assertTrue(p1.getHealth().getFailing());
    assertEquals(2, p1.getHealth().getLastError().getAttempts());
    assertEquals(List.of(0L, 1L, 2L), f.processed.stream().filter(p -> p.consumer().equals("a1")
        && p.partition().equals(new PartitionId("events", 1))).map(Recorder.Processed::offset).sorted().distinct()
        .toList(), "the records before the poison, and none after");
  }

  @Test
  void R7_anEmptyGroupIsDeletedAfterItsRetentionAndNeverOneWithMembers() throws Exception {
    f.admin.blocking().createTopic("clicks", 1);
    f.admin.blocking().createGroup(CreateGroup.newBuilder().setGroup("idle").addTopics("clicks").setRetentionMs(3_000)
        .build());
    f.admin.blocking().createGroup(CreateGroup.newBuilder().setGroup("busy").addTopics("clicks").setRetentionMs(3_000)
        .setSessionTimeoutMs(10_000).setHeartbeatIntervalMs(200).build());
    GroupConsumer<InMemoryLog.Record> member = f.consumer("busy", "b1", f.recorder("b1"));
    GroupSummary idle = summary("idle");
    assertTrue(idle.hasEmptySinceMs() && idle.getDeleteAtMs() == idle.getEmptySinceMs() + 3_000, idle.toString());
    assertTrue(cli("group", "list")[1].lines().anyMatch(l -> l.startsWith("idle") && l.endsWith("3s")));
    assertTrue(ok("group", "describe", "idle").contains("deleted with its checkpoints in"));
    await().atMost(TIMEOUT).until(() -> member.status() == GroupConsumer.Status.ACTIVE);

    await("idle deleted by the leader's tick").atMost(TIMEOUT).pollInterval(Duration.ofMillis(200))
        .until(() -> summaryOrNull("idle") == null);
    long gone = System.nanoTime();
    await().atMost(TIMEOUT).until(() -> System.nanoTime() - gone > TimeUnit.SECONDS.toNanos(4));
    assertTrue(summaryOrNull("busy") != null, "a group with a member stays, whatever its retention");
    assertFalse(summary("busy").hasEmptySinceMs());

    member.close();
    long closed = System.nanoTime();
    await("busy, now empty, goes after its retention").atMost(TIMEOUT).pollInterval(Duration.ofMillis(200))
        .until(() -> summaryOrNull("busy") == null);
    assertTrue(System.nanoTime() - closed >= TimeUnit.MILLISECONDS.toNanos(2_900), "not before its retention");
  }

  private static GroupSummary summary(String group) {
    GroupSummary s = summaryOrNull(group);
    assertTrue(s != null, group + " exists");
    return s;
  }

  private static GroupSummary summaryOrNull(String group) {
    return f.admin.blocking().listGroups().stream().filter(g -> g.getGroup().equals(group)).findFirst().orElse(null);
  }
}
