package io.cohort.client;

import static io.cohort.client.ClusterFixture.TIMEOUT;
import static io.cohort.client.ClusterFixture.holders;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cohort.statemachine.proto.GroupView;
import io.cohort.statemachine.proto.SplitPartition;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real consumers against three in-JVM servers; one cluster for the class, one group per test. */
class GroupConsumerClusterTest {
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
    assertEquals(List.of(), fx.log.doubleReaders, "R2: never two readers of one partition");
  }

  @Test
  void R4_severalConsumersConvergeToABalancedSingleHolderAssignment() {
    fx.admin.blocking().createTopic("balance", 10);
    fx.createGroup("g-balance", "balance", false, 10_000, 500);
    for (int p = 0; p < 10; p++) {
      fx.log.append("balance", p, 20);
    }
    var a = fx.consumer("g-balance", "a", fx.recorder("a"));
    var b = fx.consumer("g-balance", "b", fx.recorder("b"));
    var c = fx.consumer("g-balance", "c", fx.recorder("c"));
    var d = fx.consumer("g-balance", "d", fx.recorder("d"));
    GroupView v = fx.awaitBalanced("g-balance", List.of(a, b, c, d));

    Set<PartitionId> union = new TreeSet<>();
    int total = 0;
    for (var consumer : List.of(a, b, c, d)) {
      union.addAll(consumer.assignment());
      total += consumer.assignment().size();
    }
    assertEquals(10, union.size());
    assertEquals(10, total, "every partition is read by exactly one consumer");
    assertTrue(holders(v).values().stream().allMatch(Objects::nonNull));
    // and every record gets processed
    await().atMost(TIMEOUT).until(() -> fx.processed.stream()
        .filter(r -> r.partition().topic().equals("balance")).map(r -> r.partition() + "#" + r.offset())
        .distinct().count() == 200);
  }

  @Test
  void E2_aThirdConsumerTakesExactlyOnePartitionFromEachOfTheOthers() {
    fx.admin.blocking().createTopic("e2", 6);
    fx.createGroup("g-e2", "e2", false, 10_000, 500);
    Recorder ra = fx.recorder("a");
    Recorder rb = fx.recorder("b");
    var a = fx.consumer("g-e2", "a", ra);
    fx.awaitBalanced("g-e2", List.of(a));
    var b = fx.consumer("g-e2", "b", rb);
    Map<Integer, String> before = holders(fx.awaitBalanced("g-e2", List.of(a, b)));
    long releasedBefore = ra.revoked(RevokeReason.RELEASED) + rb.revoked(RevokeReason.RELEASED);

    var c = fx.consumer("g-e2", "c", fx.recorder("c"));
    Map<Integer, String> after = holders(fx.awaitBalanced("g-e2", List.of(a, b, c)));

    Map<Integer, String> moved = new TreeMap<>();
    after.forEach((p, holder) -> {
      if (!holder.equals(before.get(p))) {
        moved.put(p, before.get(p));
      }
    });
    assertEquals(2, moved.size(), "exactly two partitions move: " + before + " -> " + after);
    assertEquals(Set.of("a", "b"), new TreeSet<>(moved.values()), "one from A and one from B");
    moved.keySet().forEach(p -> assertEquals("c", after.get(p)));
    assertEquals(2, ra.revoked(RevokeReason.RELEASED) + rb.revoked(RevokeReason.RELEASED) - releasedBefore);
  }

  @Test
  void R7_aConsumerThatStopsHeartbeatingLosesItsPartitionsToTheOthers() {
    fx.admin.blocking().createTopic("expiry", 4);
    fx.createGroup("g-expiry", "expiry", false, 2_000, 500);
    var a = fx.consumer("g-expiry", "a", fx.recorder("a"));
    var b = fx.consumer("g-expiry", "b", fx.recorder("b"));
    fx.awaitBalanced("g-expiry", List.of(a, b));
    Set<PartitionId> bHeld = b.assignment();
    assertEquals(2, bHeld.size());

    b.halt(); // as if killed: no leave, no more heartbeats
    GroupView v = fx.awaitBalanced("g-expiry", List.of(a));
    assertEquals(4, a.assignment().size());
    assertTrue(v.getMembersList().stream().noneMatch(m -> m.getConsumerId().equals("b")));
  }

  @Test
  void R3_aConsumerWhoseGrantIsResetRestartsFromTheResetCursor() {
    fx.admin.blocking().createTopic("reset", 1);
    fx.createGroup("g-reset", "reset", false, 10_000, 300);
    fx.log.append("reset", 0, 100);
    Recorder ra = fx.recorder("a");
    fx.consumer("g-reset", "a", ra);
    PartitionId p0 = new PartitionId("reset", 0);
    await().atMost(TIMEOUT).until(() -> ra.acked.getOrDefault(p0, -1L) == 100L);
    long firstEpoch = ra.events.get(0).epoch();

    fx.admin.blocking().resetCheckpoint("g-reset", "reset", 0, "40");

    Recorder.Event restart = await().atMost(TIMEOUT).until(() -> ra.events.stream()
        .filter(e -> e.kind().equals("assigned") && e.epoch() > firstEpoch && "40".equals(e.cursor()))
        .findFirst(), java.util.Optional::isPresent).orElseThrow();
    await().atMost(TIMEOUT).until(() -> fx.processed.stream()
        .anyMatch(r -> r.partition().equals(p0) && r.epoch() == restart.epoch()));
    long reread = fx.processed.stream().filter(r -> r.partition().equals(p0) && r.epoch() == restart.epoch())
        .mapToLong(Recorder.Processed::offset).min().orElseThrow();
    assertEquals(40, reread, "restarted exactly at the reset cursor");
    assertTrue(ra.events.stream().anyMatch(e -> e.reason() == RevokeReason.FENCED
        || e.reason() == RevokeReason.RESET), "the old epoch's reader was stopped");
    await().atMost(TIMEOUT).until(() -> "100".equals(
        fx.admin.blocking().listCheckpoints("g-reset").getCheckpoints(0).getCursor()));
  }

  @Test
  void staticMembership_aRestartedConsumerKeepsItsPartitionsAndNothingElseMoves() {
    fx.admin.blocking().createTopic("static", 6);
    fx.createGroup("g-static", "static", false, 10_000, 500);
    for (int p = 0; p < 6; p++) {
      fx.log.append("static", p, 10);
    }
    Recorder rb = fx.recorder("b");
    var a = fx.consumer("g-static", "a", fx.recorder("a"));
    var b = fx.consumer("g-static", "b", rb);
    Map<Integer, String> before = holders(fx.awaitBalanced("g-static", List.of(a, b)));
    Set<PartitionId> aHeld = a.assignment();
    Set<PartitionId> bHeld = b.assignment();
    int bEventsBefore = rb.events.size();

    a.halt(); // killed, and restarted with the same id well within its 10 s session
    Recorder ra2 = fx.recorder("a");
    var a2 = fx.consumer("g-static", "a", ra2);
    Map<Integer, String> after = holders(fx.awaitBalanced("g-static", List.of(a2, b)));

    assertEquals(before, after, "nothing moves");
    assertEquals(aHeld, a2.assignment(), "the restarted consumer gets its partitions back");
    assertEquals(bHeld, b.assignment());
    assertEquals(bEventsBefore, rb.events.size(), "B never stopped a reader");
    // resumed from the committed checkpoints: nothing of A's partitions is read from 0 again
    // unless it was never committed
    assertTrue(ra2.events.stream().filter(e -> e.kind().equals("assigned")).count() == 3);
  }

  @Test
  void R5_orderTrueWithASplitReadsTheParentToItsEndBeforeAnyChild() {
    fx.admin.blocking().createTopic("order", 3);
    fx.createGroup("g-order", "order", true, 10_000, 300);
    for (int p = 0; p < 3; p++) {
      fx.log.append("order", p, 30);
    }
    var a = fx.consumer("g-order", "a", fx.recorder("a"));
    var b = fx.consumer("g-order", "b", fx.recorder("b"));
    fx.awaitBalanced("g-order", List.of(a, b));

    // E3: partition 2 splits into 3 and 4; the log seals 2 where it ends and writes to the children
    fx.log.append("order", 2, 200);
    String end = fx.log.seal("order", 2);
    List<Integer> children = fx.admin.blocking().split(SplitPartition.newBuilder().setTopic("order")
        .setPartition(2).setEndCursor(end).build());
    assertEquals(List.of(3, 4), children);
    fx.log.append("order", 3, 50);
    fx.log.append("order", 4, 50);

    await().atMost(TIMEOUT).until(() -> fx.processed.stream().filter(r -> r.partition().topic().equals("order")
        && r.partition().partition() >= 3).map(r -> r.partition() + "#" + r.offset()).distinct().count() == 100);
    long lastOfParent = fx.processed.stream().filter(r -> r.partition().equals(new PartitionId("order", 2)))
        .mapToLong(Recorder.Processed::seq).max().orElseThrow();
    long parentRecords = fx.processed.stream().filter(r -> r.partition().equals(new PartitionId("order", 2)))
        .map(Recorder.Processed::offset).distinct().count();
    long firstOfChild = fx.processed.stream().filter(r -> r.partition().topic().equals("order")
        && r.partition().partition() >= 3).mapToLong(Recorder.Processed::seq).min().orElseThrow();
    assertEquals(230, parentRecords, "the parent was read to its end");
    assertTrue(lastOfParent < firstOfChild, "R5: no child record before the parent's last one");
    GroupView v = fx.describe("g-order");
    assertEquals(io.cohort.statemachine.proto.PartitionStatus.FINISHED, v.getPartitionsList().stream()
        .filter(p -> p.getPartition() == 2).findFirst().orElseThrow().getStatus());
  }

  @Test
  void closingLeavesAtOnceAndTheOthersTakeOverFromTheFinalCommit() {
    fx.admin.blocking().createTopic("leave", 2);
    fx.createGroup("g-leave", "leave", false, 60_000, 500);
    fx.log.append("leave", 0, 50);
    fx.log.append("leave", 1, 50);
    var a = fx.consumer("g-leave", "a", fx.recorder("a"));
    var b = fx.consumer("g-leave", "b", fx.recorder("b"));
    fx.awaitBalanced("g-leave", List.of(a, b));
    await().atMost(TIMEOUT).until(() -> fx.processed.stream().filter(r -> r.partition().topic().equals("leave"))
        .count() >= 100);
    b.close(); // a 60 s session: only the leave can hand B's partition over this fast
    fx.awaitBalanced("g-leave", List.of(a));
    // nothing is read twice: B's final position was committed before it left
    assertEquals(100, fx.processed.stream().filter(r -> r.partition().topic().equals("leave")).count());
  }

  @Test
  void commitOnDemandIsAcknowledged() {
    fx.admin.blocking().createTopic("manual", 1);
    fx.createGroup("g-manual", "manual", false, 10_000, 3_000);
    fx.log.append("manual", 0, 7);
    Recorder r = fx.recorder("a");
    var a = fx.consumer(ConsumerConfig.builder("g-manual", "a").commitIntervalMs(60_000).pollWaitMs(50).build(), r);
    await().atMost(TIMEOUT).until(() -> fx.processed.stream().filter(p -> p.partition().topic().equals("manual"))
        .count() == 7);
    await().atMost(TIMEOUT).pollInterval(Duration.ofMillis(200)).until(() -> {
      a.commit();
      return r.acked.getOrDefault(new PartitionId("manual", 0), -1L) == 7L;
    });
    var checkpoint = fx.admin.blocking().listCheckpoints("g-manual").getCheckpoints(0);
    assertEquals("7", checkpoint.getCursor());
    assertEquals(0, checkpoint.getLag(), "the reader's lag is committed with its position");
    assertEquals("a", checkpoint.getCommittedBy());
  }

  @Test
  void R7_aConsumerWhoseSessionIsGoneStopsRejoinsAndReadsOnFromTheCheckpoint() {
    fx.admin.blocking().createTopic("rejoin", 2);
    fx.createGroup("g-rejoin", "rejoin", false, 10_000, 300);
    fx.log.append("rejoin", 0, 30);
    fx.log.append("rejoin", 1, 30);
    Recorder ra = fx.recorder("a");
    var a = fx.consumer("g-rejoin", "a", ra);
    fx.awaitBalanced("g-rejoin", List.of(a));
    await().atMost(TIMEOUT).until(() -> ra.acked.values().stream().mapToLong(Long::longValue).sum() == 60);
    long oldSession = a.session();

    // the coordinator forgets the member (as after an expiry): its next heartbeat gets UNKNOWN_MEMBER
    fx.admin.blocking().leave(io.cohort.statemachine.proto.Leave.newBuilder().setGroup("g-rejoin")
        .setConsumerId("a").setSession(oldSession).build());

    await().atMost(TIMEOUT).until(() -> a.session() != 0 && a.session() != oldSession);
    fx.awaitBalanced("g-rejoin", List.of(a));
    assertEquals(2, ra.revoked(RevokeReason.SESSION_LOST));
    fx.log.append("rejoin", 0, 5);
    await().atMost(TIMEOUT).until(() -> ra.acked.getOrDefault(new PartitionId("rejoin", 0), 0L) == 35L);
    assertEquals(65, fx.processed.stream().filter(r -> r.partition().topic().equals("rejoin")).count(),
        "resumed from the checkpoints: nothing read twice");
  }

  @Test
  void staticMembership_aSecondProcessWithTheSameIdFencesTheFirst() {
    fx.admin.blocking().createTopic("takeover", 2);
    fx.createGroup("g-takeover", "takeover", false, 10_000, 300);
    Recorder r1 = fx.recorder("a");
    var first = fx.consumer("g-takeover", "a", r1);
    fx.awaitBalanced("g-takeover", List.of(first));

    var second = fx.consumer("g-takeover", "a", fx.recorder("a"));
    await().atMost(TIMEOUT).until(() -> first.status() == GroupConsumer.Status.FENCED);
    await().atMost(TIMEOUT).until(() -> r1.fenced); // told once its readers stopped and it left
    await().atMost(TIMEOUT).until(() -> first.assignment().isEmpty());
    assertEquals(2, r1.revoked(RevokeReason.CONSUMER_FENCED));
    fx.awaitBalanced("g-takeover", List.of(second));
  }

  /**
   * The takeover rule of DESIGN §1: the old session's grants pass to the new one only after the old
   * process stopped its readers and left (or expired). With grants passed at once the log would see
   * two readers.
   */
  @Test
  void R2_staticTakeover_aLiveDuplicateNeverReadsBesideTheNewProcess() {
    fx.admin.blocking().createTopic("takeover2", 2);
    fx.createGroup("g-takeover2", "takeover2", false, 10_000, 300);
    fx.log.append("takeover2", 0, 200);
    fx.log.append("takeover2", 1, 200);
    Recorder r1 = fx.recorder("a");
    var first = fx.consumer(ConsumerConfig.builder("g-takeover2", "a").maxBatchRecords(1).pollWaitMs(20).build(), r1);
    fx.awaitBalanced("g-takeover2", List.of(first));
    Recorder r2 = fx.recorder("a");
    var second = fx.consumer("g-takeover2", "a", r2);
    await().atMost(TIMEOUT).until(() -> r1.fenced);
    fx.awaitBalanced("g-takeover2", List.of(second));
    await().atMost(TIMEOUT).until(() -> fx.processed.stream().filter(p -> p.partition().topic().equals("takeover2"))
        .map(p -> p.partition() + "#" + p.offset()).distinct().count() == 400);
    assertEquals(List.of(), fx.log.doubleReaders, "R2: the duplicate stopped before the new process read");
    assertEquals(400, fx.processed.stream().filter(p -> p.partition().topic().equals("takeover2")).count(),
        "the new process resumed at the old one's final checkpoints: nothing read twice");
  }

  @Test
  void usageExample_theDocumentedConsumersReadPauseAndAcknowledgeLater() throws Exception {
    fx.admin.blocking().createTopic("clicks", 4);
    fx.createGroup("analytics", "clicks", false, 10_000, 300);
    UsageExample.MemoryStore store = new UsageExample.MemoryStore();
    for (int p = 0; p < 4; p++) {
      store.append(new PartitionId("clicks", p), "c" + p + "-0", "c" + p + "-1");
    }
    java.util.concurrent.CountDownLatch shutdown = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CompletableFuture<Void> running = java.util.concurrent.CompletableFuture.runAsync(() -> {
      try {
        UsageExample.run(fx.cluster.peers(), store, shutdown);
      } catch (Exception e) {
        throw new java.util.concurrent.CompletionException(e);
      }
    });
    await().atMost(TIMEOUT).until(() -> UsageExample.App.HANDLED.containsAll(List.of("c0-0", "c1-1", "c2-0", "c3-1")));
    shutdown.countDown();
    running.get(60, java.util.concurrent.TimeUnit.SECONDS);
    await().atMost(TIMEOUT).until(() -> fx.admin.blocking().listCheckpoints("analytics").getCheckpointsList().stream()
        .allMatch(c -> c.getCursor().equals("2")) && fx.admin.blocking().listCheckpoints("analytics").getCheckpointsCount() == 4);
    assertEquals(0, fx.describe("analytics").getMembersCount(), "close() left the group");

    // the acknowledge-later consumer: checkpoints move only once the async writes completed
    List<String> written = new java.util.concurrent.CopyOnWriteArrayList<>();
    java.util.concurrent.ExecutorService writer = java.util.concurrent.Executors.newSingleThreadExecutor();
    CohortClient client = fx.newClient();
    GroupConsumer<String> consumer = UsageExample.acknowledgingLater(client, store.reader(),
        records -> java.util.concurrent.CompletableFuture.runAsync(() -> written.addAll(records), writer));
    fx.track(consumer);
    try {
      await().atMost(TIMEOUT).until(() -> consumer.assignment().size() == 4);
      java.util.concurrent.atomic.AtomicBoolean drained = new java.util.concurrent.atomic.AtomicBoolean();
      assertTrue(UsageExample.pauseHot(consumer, () -> drained.set(consumer.paused().contains(new PartitionId("clicks", 3)))));
      assertTrue(drained.get(), "paused while draining");
      assertEquals(Set.of(), consumer.paused(), "resumed");
      for (int p = 0; p < 4; p++) {
        store.append(new PartitionId("clicks", p), "c" + p + "-2");
      }
      await().atMost(TIMEOUT).until(() -> written.size() == 4);
      await().atMost(TIMEOUT).until(() -> fx.admin.blocking().listCheckpoints("analytics").getCheckpointsList().stream()
          .allMatch(c -> c.getCursor().equals("3")));
    } finally {
      writer.shutdownNow();
    }
  }

  @Test
  void closingWhileTheJoinIsOnItsWayStillLeaves() {
    fx.admin.blocking().createTopic("quick", 2);
    fx.createGroup("g-quick", "quick", false, 60_000, 500);
    var a = fx.consumer("g-quick", "a", fx.recorder("a"));
    a.close(); // the join heartbeat is in flight: close waits for its session, then leaves
    assertEquals(GroupConsumer.Status.CLOSED, a.status());
    assertEquals(0, fx.describe("g-quick").getMembersCount(), "no member left behind for 60 s");
  }
}
