package io.cohort.client;

import static io.cohort.client.ClusterFixture.TIMEOUT;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.LimitsRecord;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * R9 with the real leader: consumers keep their commands under the cluster's replicated limits,
 * whether they were told them or learn them from a refusal. Each test sets the limits it needs.
 */
class LimitsClusterTest {
  private static final int PARTITIONS = 100;

  @TempDir
  static Path dir;

  private static ClusterFixture fx;

  @BeforeAll
  static void startCluster() throws Exception {
    fx = new ClusterFixture(dir);
  }

  @AfterAll
  static void stopCluster() {
    if (fx != null) {
      fx.close();
    }
  }

  @AfterEach
  void closeConsumers() {
    fx.closeConsumers();
    fx.admin.blocking().setLimits(LimitsRecord.newBuilder().setMaxCommandBytes(1 << 20)
        .setMaxEntriesPerCommand(10_000).setMaxMembersPerGroup(10_000).build());
    assertEquals(List.of(), fx.log.doubleReaders, "R2: never two readers of one partition");
  }

  /** A cursor of 1,000 bytes naming the same offset (the store parses it back). */
  private static String padded(String offset) {
    return String.format("%01000d", Long.parseLong(offset));
  }

  /** Acknowledges each batch's end as a 1,000-byte cursor: 100 partitions make ~100 KB of commits. */
  private GroupConsumer<InMemoryLog.Record> ackingConsumer(String group, Recorder r) {
    return fx.consumer(ConsumerConfig.builder(group, "a").autoCommit(false).pollWaitMs(20).commitIntervalMs(100).build(),
        RecordProcessor.<InMemoryLog.Record>withContext((ctx, records) -> {
          r.process(ctx.grant(), records);
          ctx.acknowledge(padded(ctx.nextCursor()));
        }), r);
  }

  private void topicWithRecords(String topic, String group) {
    fx.admin.blocking().createTopic(topic, PARTITIONS);
    fx.createGroup(group, topic, false, 30_000, 1000);
    for (int p = 0; p < PARTITIONS; p++) {
      fx.log.append(topic, p, 3);
    }
  }

  @Test
  void R9_aConsumerToldTheLimitsSplitsItsCommitsUnderThemAndIsNeverRefused() {
    fx.admin.blocking().setLimits(LimitsRecord.newBuilder().setMaxCommandBytes(64 * 1024)
        .setMaxEntriesPerCommand(40).build());
    fx.admin.blocking().createTopic("told", PARTITIONS);
    fx.createGroup("g-told", "told", false, 30_000, 1000);
    Recorder r = fx.recorder("a");
    GroupConsumer<InMemoryLog.Record> c = ackingConsumer("g-told", r);
    // Told: the limits arrive before there is anything to commit (the consumer fetches them at
    // start, beside its join; one that commits before they arrive shrinks after a refusal: next test).
    await().atMost(TIMEOUT).until(c::limitsKnown);
    for (int p = 0; p < PARTITIONS; p++) {
      fx.log.append("told", p, 3);
    }
    await().atMost(TIMEOUT).until(() -> r.acked.size() == PARTITIONS && r.acked.values().stream().allMatch(x -> x == 3));
    assertTrue(c.limitsKnown());
    assertEquals(0, c.refusedForSize(), "every command fit");
    assertEquals(List.of(), r.errors);
    assertTrue(fx.admin.blocking().listCheckpoints("g-told").getCheckpointsList().stream()
        .allMatch(cp -> cp.getCursor().equals(padded("3"))));
  }

  @Test
  void R9_aConsumerThatWasNotToldShrinksItsCommandsAfterTheLeadersRefusal() {
    fx.admin.blocking().createTopic("untold", PARTITIONS);
    fx.createGroup("g-untold", "untold", false, 30_000, 1000);
    Recorder r = fx.recorder("a");
    GroupConsumer<InMemoryLog.Record> c = ackingConsumer("g-untold", r);
    await().atMost(TIMEOUT).until(() -> c.limitsKnown() && c.assignment().size() == PARTITIONS);
    fx.admin.blocking().setLimits(LimitsRecord.newBuilder().setMaxCommandBytes(64 * 1024).build()); // after it asked
    for (int p = 0; p < PARTITIONS; p++) {
      fx.log.append("untold", p, 3);
    }
    await().atMost(TIMEOUT).until(() -> r.acked.size() == PARTITIONS && r.acked.values().stream().allMatch(x -> x == 3));
    assertTrue(c.refusedForSize() >= 1, "the ~100 KB command was refused before the log");
    assertTrue(c.refusedForSize() <= 2, c.refusedForSize() + " refusals: halving converges at once");
    assertEquals(List.of(), r.errors, "nothing dropped: every checkpoint fits on its own");
  }

  @Test
  void R9_aJoinBeyondTheGroupsMemberLimitEndsTheConsumerAsFailed() {
    fx.admin.blocking().createTopic("full", 2);
    fx.createGroup("g-full", "full", false, 10_000, 300);
    fx.admin.blocking().setLimits(LimitsRecord.newBuilder().setMaxMembersPerGroup(1).build());
    var first = fx.consumer("g-full", "a", fx.recorder("a"));
    fx.awaitBalanced("g-full", List.of(first));
    Recorder rb = fx.recorder("b");
    var second = fx.consumer("g-full", "b", rb);
    await().atMost(TIMEOUT).until(() -> second.status() == GroupConsumer.Status.FAILED);
    assertEquals(Code.LIMIT_EXCEEDED, assertInstanceOf(CohortRejectedException.class, second.failure()).code());
    assertTrue(rb.events.isEmpty(), "it never read");
    assertEquals(2, first.assignment().size(), "the member already in is untouched");
  }
}
