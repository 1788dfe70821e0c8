package io.cohort.client;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cohort.statemachine.proto.Code;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The consumer's API at KafkaConsumer's level: pause/resume, acknowledge-later, deadlines, threads. */
class ConsumerApiTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(60);
  private static final PartitionId P0 = new PartitionId("t", 0);
  private static final PartitionId P1 = new PartitionId("t", 1);

  private LocalCoordinator coordinator;
  private InMemoryLog log;
  private List<Recorder.Processed> processed;
  private ScheduledExecutorService producer;
  private GroupConsumer<InMemoryLog.Record> consumer;

  @BeforeEach
  void setUp() {
    coordinator = new LocalCoordinator();
    log = new InMemoryLog();
    processed = new CopyOnWriteArrayList<>();
  }

  @AfterEach
  void tearDown() {
    if (producer != null) {
      producer.shutdownNow();
    }
    if (consumer != null) {
      consumer.close();
    }
    coordinator.close();
    assertEquals(List.of(), log.doubleReaders, "R2: never two readers of one partition");
  }

  private void produce(int partitions) {
    producer = Executors.newSingleThreadScheduledExecutor();
    producer.scheduleAtFixedRate(() -> {
      for (int p = 0; p < partitions; p++) {
        log.append("t", p, 2);
      }
    }, 0, 5, TimeUnit.MILLISECONDS);
  }

  private long count(PartitionId id) {
    return processed.stream().filter(r -> r.partition().equals(id)).count();
  }

  private void assertReadOnceInOrder(PartitionId id) {
    List<Long> offsets = processed.stream().filter(r -> r.partition().equals(id)).map(Recorder.Processed::offset).toList();
    for (int i = 0; i < offsets.size(); i++) {
      assertEquals(i, offsets.get(i), id + ": offsets must run 0, 1, 2, ... with no gap or repeat");
    }
  }

  @Test
  void pauseKeepsTheGrantAndHeartbeatsAndResumeReadsOnFromTheSamePosition() {
    coordinator.createTopic("t", 2);
    coordinator.createGroup("g", "t", 10_000, 200);
    produce(2);
    Recorder r = new Recorder("a", new AtomicLong(), processed);
    consumer = GroupConsumer.start(coordinator, ConsumerConfig.builder("g", "a").pollWaitMs(20)
        .commitIntervalMs(100).build(), log, r, r);
    await().atMost(TIMEOUT).until(() -> count(P0) > 20 && count(P1) > 20);

    assertTrue(consumer.pause(P0));
    assertFalse(consumer.pause(new PartitionId("t", 7)), "not read here: nothing to pause");
    assertEquals(Set.of(P0), consumer.paused());
    AtomicLong last = new AtomicLong(-1);
    await().atMost(TIMEOUT).pollInterval(Duration.ofMillis(100)).until(() -> last.getAndSet(count(P0)) == count(P0));
    long frozen = count(P0);
    long p1Before = count(P1);
    long heartbeats = coordinator.count(io.cohort.statemachine.proto.Command.BodyCase.HEARTBEAT);
    await().during(Duration.ofMillis(500)).atMost(TIMEOUT).until(() -> count(P0) == frozen);
    assertTrue(count(P1) > p1Before + 20, "the other partition reads on");
    assertTrue(coordinator.count(io.cohort.statemachine.proto.Command.BodyCase.HEARTBEAT) > heartbeats,
        "heartbeats go on");
    assertEquals(Set.of(P0, P1), consumer.assignment(), "the grant is kept");
    assertEquals(0, r.revoked(RevokeReason.RELEASED) + r.revoked(RevokeReason.CLOSED), "no reader stopped");

    assertTrue(consumer.resume(P0));
    assertFalse(consumer.resume(P0), "not paused any more");
    await().atMost(TIMEOUT).until(() -> count(P0) > frozen + 20);
    producer.shutdownNow();
    assertReadOnceInOrder(P0);
    assertReadOnceInOrder(P1);
  }

  @Test
  void acknowledgeLater_onlyAcknowledgedCursorsAreCommittedUnderTheGrantsEpoch() throws Exception {
    coordinator.createTopic("t", 1);
    coordinator.createGroup("g", "t", 10_000, 200);
    log.append("t", 0, 10);
    List<ProcessingContext> unacknowledged = new CopyOnWriteArrayList<>();
    Recorder r = new Recorder("a", new AtomicLong(), processed);
    consumer = GroupConsumer.start(coordinator, ConsumerConfig.builder("g", "a").pollWaitMs(20).maxBatchRecords(3)
        .commitIntervalMs(50).autoCommit(false).build(), log, RecordProcessor.withContext((ctx, records) -> {
          r.process(ctx.grant(), records);
          unacknowledged.add(ctx); // an async write is on its way
        }), r);
    await().atMost(TIMEOUT).until(() -> processed.size() == 10);
    consumer.commit(); // nothing acknowledged: nothing to commit
    assertNull(coordinator.checkpoint("g", "t", 0), "processed is not acknowledged");

    ProcessingContext first = unacknowledged.get(0);
    assertEquals("3", first.nextCursor());
    first.acknowledge(first.nextCursor()).get(30, TimeUnit.SECONDS); // the write of batch 1 completed
    assertEquals("3", coordinator.checkpoint("g", "t", 0));
    ProcessingContext lastBatch = unacknowledged.get(unacknowledged.size() - 1);
    consumer.acknowledge(lastBatch.grant(), lastBatch.nextCursor()).get(30, TimeUnit.SECONDS);
    assertEquals("10", coordinator.checkpoint("g", "t", 0));
    assertEquals(10L, r.acked.get(P0));

    PartitionGrant stale = new PartitionGrant(P0, lastBatch.grant().epoch() - 1, null,
        lastBatch.grant().startFrom(), false, null);
    ExecutionException e = assertThrows(ExecutionException.class,
        () -> consumer.acknowledge(stale, "10").get(30, TimeUnit.SECONDS));
    assertEquals(Code.FENCED, assertInstanceOf(CohortRejectedException.class, e.getCause()).code(),
        "R3: a commit under an old epoch is fenced");
  }

  @Test
  void R2_acknowledgeLater_whatIsAcknowledgedInOnRevokedRidesOnTheRelease() {
    coordinator.createTopic("t", 1);
    coordinator.createGroup("g", "t", 60_000, 200);
    log.append("t", 0, 7);
    AtomicReference<ProcessingContext> latest = new AtomicReference<>();
    ConsumerListener flushOnRevoke = new ConsumerListener() {
      @Override
      public void onRevoked(PartitionGrant grant, RevokeReason reason) {
        ProcessingContext ctx = latest.get(); // the async writes are done: acknowledge the last one
        consumer.acknowledge(grant, ctx.nextCursor());
      }
    };
    consumer = GroupConsumer.start(coordinator, ConsumerConfig.builder("g", "a").pollWaitMs(20).autoCommit(false)
        .build(), log, RecordProcessor.withContext((ctx, records) -> latest.set(ctx)), flushOnRevoke);
    await().atMost(TIMEOUT).until(() -> latest.get() != null && latest.get().nextCursor().equals("7"));
    consumer.close();
    assertEquals("7", coordinator.checkpoint("g", "t", 0), "the leave carried it");
    assertEquals(0, coordinator.members("g"));
  }

  @Test
  void R2_theProcessorSeesItsDeadlineAndHeartbeatsMoveItForward() {
    coordinator.createTopic("t", 1);
    coordinator.createGroup("g", "t", 10_000, 200);
    produce(1);
    List<long[]> seen = new CopyOnWriteArrayList<>(); // {now, deadline}
    consumer = GroupConsumer.start(coordinator, ConsumerConfig.builder("g", "a").pollWaitMs(20).build(), log,
        RecordProcessor.withContext((ctx, records) -> seen.add(new long[] {System.nanoTime(), ctx.deadlineNanos()})),
        null);
    await().atMost(TIMEOUT).until(() -> seen.size() > 5);
    long[] first = seen.get(0);
    long marginNanos = TimeUnit.MILLISECONDS.toNanos(consumer.config().marginFor(10_000));
    long left = first[1] - first[0];
    assertTrue(left > 0 && left <= TimeUnit.MILLISECONDS.toNanos(10_000) - marginNanos,
        "at most the session timeout minus the margin ahead: " + left / 1_000_000 + " ms");
    await().atMost(TIMEOUT).until(() -> seen.get(seen.size() - 1)[1] > first[1] + TimeUnit.MILLISECONDS.toNanos(300));
  }

  @Test
  void fiveThousandPartitionsAreReadByABoundedPoolOfThreads() {
    int partitions = 5000;
    int threads = 4;
    coordinator.createTopic("t", partitions);
    coordinator.createGroup("g", "t", 30_000, 1000);
    for (int p = 0; p < partitions; p++) {
      log.append("t", p, 2);
    }
    Map<String, Boolean> readerThreadNames = new ConcurrentHashMap<>();
    Recorder r = new Recorder("a", new AtomicLong(), processed);
    int before = Thread.activeCount();
    consumer = GroupConsumer.start(coordinator, ConsumerConfig.builder("g", "a").readerThreads(threads)
        .pollWaitMs(500).commitIntervalMs(500).build(), log, (g, records) -> {
          readerThreadNames.put(Thread.currentThread().getName(), true);
          r.process(g, records);
        }, r);
    await().atMost(TIMEOUT).until(() -> processed.size() == 2 * partitions);
    long live = Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.getName().startsWith("cohort-consumer-g-a-reader")).count();
    assertTrue(live <= threads, live + " reader threads alive");
    assertTrue(consumer.readerThreads() <= threads, consumer.readerThreads() + " threads in the pool");
    assertTrue(readerThreadNames.size() <= threads, "processed on " + readerThreadNames.keySet());
    assertTrue(Thread.activeCount() < before + 50, "threads: " + before + " -> " + Thread.activeCount());
    await().atMost(TIMEOUT).until(() -> r.acked.size() == partitions);
    assertEquals(partitions, consumer.assignment().size());
  }

  @Test
  void closeFromAProcessorOrListenerIsRefusedInsteadOfWaitingForItself() {
    coordinator.createTopic("t", 1);
    coordinator.createGroup("g", "t", 10_000, 200);
    log.append("t", 0, 1);
    AtomicReference<Throwable> thrown = new AtomicReference<>();
    consumer = GroupConsumer.start(coordinator, ConsumerConfig.builder("g", "a").pollWaitMs(20).build(), log,
        (g, records) -> {
          try {
            consumer.close();
          } catch (IllegalStateException e) {
            thrown.set(e);
          }
        }, null);
    await().atMost(TIMEOUT).until(() -> thrown.get() != null);
    assertEquals(GroupConsumer.Status.ACTIVE, consumer.status());
  }
}
