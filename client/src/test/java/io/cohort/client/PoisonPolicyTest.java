package io.cohort.client;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cohort.statemachine.proto.GroupPartitionView;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Step 9: a batch that keeps failing is reported to the cluster (group describe: failing, last
 * error, STALLED) and handled by the application's poison policy: retry, skip and report, or stop.
 */
class PoisonPolicyTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);
  private static final PartitionId P0 = new PartitionId("t", 0);
  private static final long POISON = 5;

  private LocalCoordinator coordinator;
  private InMemoryLog log;
  private List<Recorder.Processed> processed;
  private Recorder recorder;
  private final AtomicBoolean poisonActive = new AtomicBoolean(true);
  private final AtomicInteger poisonAttempts = new AtomicInteger();
  private GroupConsumer<InMemoryLog.Record> consumer;

  @BeforeEach
  void setUp() {
    coordinator = new LocalCoordinator();
    log = new InMemoryLog();
    processed = new CopyOnWriteArrayList<>();
    coordinator.createTopic("t", 1);
    coordinator.createGroup("g", "t", 10_000, 100);
    log.append("t", 0, 10);
  }

  @AfterEach
  void tearDown() {
    if (consumer != null) {
      consumer.close();
    }
    coordinator.close();
    assertEquals(List.of(), log.doubleReaders);
  }

  /** One record per batch; the record at offset 5 fails while the poison is active. */
  private void start(PoisonPolicy policy) {
    recorder = new Recorder("a", new AtomicLong(), processed);
    RecordProcessor<InMemoryLog.Record> processor = (grant, records) -> {
      if (poisonActive.get() && records.stream().anyMatch(r -> r.offset() == POISON)) {
        poisonAttempts.incrementAndGet();
        throw new IllegalStateException("cannot parse record " + POISON);
      }
      recorder.process(grant, records);
    };
    consumer = GroupConsumer.start(coordinator, ConsumerConfig.builder("g", "a").maxBatchRecords(1)
        .commitIntervalMs(50).pollWaitMs(20).errorBackoffMs(20).maxErrorBackoffMs(40).poisonPolicy(policy).build(),
        log, processor, recorder);
  }

  private GroupPartitionView described(long stallAfterMs) {
    return coordinator.partition("g", "t", 0, stallAfterMs);
  }

  private Set<Long> offsets() {
    return new java.util.TreeSet<>(processed.stream().map(Recorder.Processed::offset).toList());
  }

  @Test
  void retryByDefault_theFailureIsReportedAndThePartitionShowsStalledWithTheLastError() {
    start(PoisonPolicy.retry());
    await().atMost(TIMEOUT).until(() -> poisonAttempts.get() >= 4);
    await("the error reaches group describe").atMost(TIMEOUT).untilAsserted(() -> {
      GroupPartitionView p = described(1);
      assertTrue(p.getHealth().getFailing(), p.toString());
      assertTrue(p.getHealth().getLastError().getMessage().contains("cannot parse record 5"), p.toString());
      assertTrue(p.getHealth().getLastError().getAttempts() >= 2, p.toString());
      assertEquals("5", p.getHealth().getLastError().getCursor());
      assertTrue(p.getHealth().getStalled(), "a live holder failing with no progress: " + p);
      assertEquals("a", p.getHolder());
    });
    assertFalse(described(600_000).getHealth().getStalled(), "not yet by a long threshold");
    assertEquals(Set.of(0L, 1L, 2L, 3L, 4L), offsets(), "nothing past the poison");
    assertEquals(Set.of(), consumer.poisoned());

    poisonActive.set(false); // fixed: the same batch goes through, the error clears with the next commit
    await().atMost(TIMEOUT).until(() -> recorder.acked.getOrDefault(P0, 0L) == 10L);
    assertFalse(described(1).getHealth().hasLastError());
  }

  @Test
  void skipAndReport_theBatchIsSkippedCommittedPastAndReportedAsSkipped() {
    start(PoisonPolicy.skipAfter(3));
    await().atMost(TIMEOUT).until(() -> recorder.acked.getOrDefault(P0, 0L) == 10L);
    assertEquals(3, poisonAttempts.get(), "three attempts, then skipped");
    assertEquals(Set.of(0L, 1L, 2L, 3L, 4L, 6L, 7L, 8L, 9L), offsets(), "every record but the poisoned batch");
    PoisonBatchException poison = recorder.errors.stream().filter(e -> e instanceof PoisonBatchException)
        .map(e -> (PoisonBatchException) e).findFirst().orElseThrow();
    assertTrue(poison.skipped());
    assertEquals("5", poison.cursor());
    await("the skip reaches group describe").atMost(TIMEOUT).untilAsserted(() -> {
      GroupPartitionView p = described(1);
      assertTrue(p.getHealth().getLastError().getSkipped(), p.toString());
      assertEquals(3, p.getHealth().getLastError().getAttempts());
      assertFalse(p.getHealth().getFailing());
      assertFalse(p.getHealth().getStalled(), "it reads on");
    });
  }

  @Test
  void stop_thePartitionIsReleasedTheErrorSurfacedAndItIsNotReadAgainThereUntilAReset() {
    start(PoisonPolicy.stopAfter(2));
    await().atMost(TIMEOUT).until(() -> recorder.revoked(RevokeReason.POISONED) == 1);
    PoisonBatchException poison = recorder.errors.stream().filter(e -> e instanceof PoisonBatchException)
        .map(e -> (PoisonBatchException) e).findFirst().orElseThrow();
    assertFalse(poison.skipped());
    assertEquals(2, poison.attempts());
    // Released, then (the only member) granted back at the same checkpoint: held, not read.
    await().atMost(TIMEOUT).until(() -> consumer.poisoned().equals(Set.of(P0)));
    GroupPartitionView p = described(1);
    assertEquals("a", p.getHolder());
    assertEquals("5", p.getCheckpoint().getCursor(), "its last good position");
    assertTrue(p.getHealth().getFailing());
    assertTrue(p.getHealth().getLastError().getMessage().contains("cannot parse record 5"));
    assertEquals(2, poisonAttempts.get(), "never read again at the poison");
    assertTrue(coordinator.log.stream().anyMatch(c -> c.hasHeartbeat() && c.getHeartbeat().getHeldCount() == 0
        && !c.getHeartbeat().getSessionToken().isEmpty()), "a heartbeat let it go");

    coordinator.reset("g", "t", 0, "6"); // the operator moves past the poison: read again from there
    await().atMost(TIMEOUT).until(() -> recorder.acked.getOrDefault(P0, 0L) == 10L);
    assertEquals(Set.of(0L, 1L, 2L, 3L, 4L, 6L, 7L, 8L, 9L), offsets());
    assertEquals(Set.of(), consumer.poisoned());
  }
}
