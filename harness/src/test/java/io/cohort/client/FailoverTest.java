package io.cohort.client;

import static io.cohort.client.ClusterFixture.TIMEOUT;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cohort.statemachine.proto.CheckpointView;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Consumers and admin calls across node failures; a fresh cluster per test. */
class FailoverTest {
  @TempDir
  Path dir;

  private ClusterFixture fx;
  private ScheduledExecutorService producer;

  @BeforeEach
  void start() throws Exception {
    fx = new ClusterFixture(dir);
  }

  @AfterEach
  void stop() {
    if (producer != null) {
      producer.shutdownNow();
    }
    fx.close();
  }

  private Map<PartitionId, Long> checkpoints(String group) {
    Map<PartitionId, Long> out = new HashMap<>();
    for (CheckpointView c : fx.admin.blocking().listCheckpoints(group).getCheckpointsList()) {
      out.put(new PartitionId(c.getTopic(), c.getPartition()), Long.parseLong(c.getCursor()));
    }
    return out;
  }

  private static Map<PartitionId, Long> merged(List<Recorder> recorders) {
    Map<PartitionId, Long> out = new HashMap<>();
    for (Recorder r : recorders) {
      r.acked.forEach((p, c) -> out.merge(p, c, Math::max));
    }
    return out;
  }

  @Test
  void R2_R3_killingTheLeaderWhileConsumersCommitLosesNoAcknowledgedCommitAndNeverShowsTwoReaders() {
    fx.admin.blocking().createTopic("fo", 4);
    fx.createGroup("g-fo", "fo", false, 10_000, 300);
    producer = Executors.newSingleThreadScheduledExecutor();
    producer.scheduleAtFixedRate(() -> {
      for (int p = 0; p < 4; p++) {
        fx.log.append("fo", p, 5);
      }
    }, 0, 10, TimeUnit.MILLISECONDS);
    Recorder ra = fx.recorder("a");
    Recorder rb = fx.recorder("b");
    var a = fx.consumer(ConsumerConfig.builder("g-fo", "a").commitIntervalMs(50).pollWaitMs(20).build(), ra);
    var b = fx.consumer(ConsumerConfig.builder("g-fo", "b").commitIntervalMs(50).pollWaitMs(20).build(), rb);
    fx.awaitBalanced("g-fo", List.of(a, b));
    await().atMost(TIMEOUT).until(() -> merged(List.of(ra, rb)).size() == 4);

    String leader = fx.cluster.leaderId();
    Map<PartitionId, Long> beforeKill = merged(List.of(ra, rb));
    fx.cluster.kill(leader);

    // commits go on under a new leader, and every acknowledged one is there
    await().atMost(TIMEOUT).until(() -> {
      Map<PartitionId, Long> now = merged(List.of(ra, rb));
      return beforeKill.keySet().stream().allMatch(p -> now.get(p) > beforeKill.get(p) + 100);
    });
    Map<PartitionId, Long> acked = merged(List.of(ra, rb));
    Map<PartitionId, Long> stored = checkpoints("g-fo");
    acked.forEach((p, c) -> assertTrue(stored.get(p) >= c, p + ": acked " + c + " but stored " + stored.get(p)));

    producer.shutdownNow();
    fx.closeConsumers();
    Map<PartitionId, Long> finalAcked = merged(List.of(ra, rb));
    Map<PartitionId, Long> finalStored = checkpoints("g-fo");
    finalAcked.forEach((p, c) -> assertTrue(finalStored.get(p) >= c, p + ": acked " + c + " but stored " + finalStored.get(p)));

    assertEquals(List.of(), fx.log.doubleReaders, "R2: never two readers of one partition");
    // every record up to the final checkpoint was processed, none skipped
    for (int p = 0; p < 4; p++) {
      PartitionId id = new PartitionId("fo", p);
      Set<Long> offsets = new TreeSet<>();
      fx.processed.stream().filter(r -> r.partition().equals(id)).forEach(r -> offsets.add(r.offset()));
      long end = finalStored.get(id);
      for (long o = 0; o < end; o++) {
        assertTrue(offsets.contains(o), id + " skipped offset " + o);
      }
    }
    assertEquals(0, ra.revoked(RevokeReason.SESSION_LOST) + rb.revoked(RevokeReason.SESSION_LOST),
        "R6: a leader change expires nobody");
  }

  @Test
  void aClientThatFailedForGoodWorksAgainOnceTheClusterIsBack() throws Exception {
    fx.admin.blocking().createTopic("x", 1);
    CohortClient shortLived = CohortClient.connect(CohortClientConfig.builder(fx.cluster.peers())
        .groupId(fx.cluster.group().getGroupId()).attemptTimeout(Duration.ofMillis(500))
        .callTimeout(Duration.ofSeconds(2)).build());
    try {
      assertEquals(1, shortLived.blocking().describeTopic("x").getPartitionsCount());
      org.apache.ratis.protocol.ClientId id = shortLived.channel().clientId();
      List<String> ids = fx.cluster.ids();
      fx.cluster.kill(ids.get(0));
      fx.cluster.kill(ids.get(1)); // no quorum
      CohortException e = assertThrows(CohortException.class, () -> shortLived.blocking().createTopic("y", 1));
      assertInstanceOf(CohortUnavailableException.class, e);
      fx.cluster.restart(ids.get(0));
      fx.cluster.restart(ids.get(1));
      await().atMost(TIMEOUT).ignoreException(CohortUnavailableException.class)
          .until(() -> shortLived.blocking().describeTopic("x").getPartitionsCount() == 1);
      assertTrue(shortLived.channel().replacements() >= 1, "the failed RaftClient was replaced");
      assertEquals(id, shortLived.channel().raftClient().getId(), "with the same client id (retry cache)");
      assertEquals(1, shortLived.blocking().createTopic("y2", 1).getPartitionsCount(), "writes work again");
    } finally {
      shortLived.close();
    }
  }
}
