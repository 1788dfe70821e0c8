package io.cohort.client;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cohort.statemachine.proto.StartFrom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Reader supervision without a coordinator: what a reader does between the steps it is given. */
class ReadersTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
  private final List<String> processed = new CopyOnWriteArrayList<>();
  private final List<String> reports = new CopyOnWriteArrayList<>();
  private final List<PartitionGrant> stopped = new CopyOnWriteArrayList<>();
  private final List<RevokeReason> revoked = new CopyOnWriteArrayList<>();
  private Readers<String> readers;

  @AfterEach
  void tearDown() {
    if (readers != null) {
      readers.stopAll(RevokeReason.CLOSED);
      readers.shutdown(10_000);
    }
    timer.shutdownNow();
  }

  private Readers<String> readers(ConsumerConfig config, PartitionReader<String> reader) {
    RecordProcessor<String> processor = (g, records) -> processed.addAll(records);
    ConsumerListener listener = new ConsumerListener() {
      @Override
      public void onRevoked(PartitionGrant grant, RevokeReason reason) {
        revoked.add(reason);
      }
    };
    readers = new Readers<>("[test]", "test-reader", config, reader, processor, listener, timer,
        GroupConsumer::monotonicMs, new Readers.Sink() {
          @Override
          public void progress(PartitionGrant g, String cursor, boolean finished, Long lag, Long lagMs) {
            reports.add(g.id() + "@" + cursor);
          }

          @Override
          public void position(PartitionGrant g, String cursor, boolean endReached, Long lag, Long lagMs) {
            reports.add(g.id() + "@" + cursor);
          }

          @Override
          public CompletableFuture<Void> acknowledge(PartitionGrant g, String cursor) {
            return CompletableFuture.completedFuture(null);
          }

          @Override
          public void stopped(PartitionGrant g) {
            stopped.add(g);
          }

          @Override
          public void failed(PartitionGrant g, String cursor, String message, int attempts, boolean skipped) {
            reports.add(g.id() + " failed at " + cursor);
          }

          @Override
          public void poisoned(PartitionGrant g, String cursor) {
            reports.add(g.id() + " poisoned at " + cursor);
          }
        });
    return readers;
  }

  private static PartitionGrant grant(int partition) {
    return new PartitionGrant(new PartitionId("t", partition), 3, "0", StartFrom.BEGIN, false, null);
  }

  /** A session whose first poll blocks until released, then returns three records; later polls none. */
  private static final class BlockingPoll implements PartitionReader<String> {
    final CountDownLatch inPoll = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);
    final AtomicInteger polls = new AtomicInteger();

    @Override
    public Session<String> open(PartitionGrant grant, String cursor) {
      return (max, waitMs) -> {
        if (polls.incrementAndGet() > 1) {
          return Batch.of(List.of(), "3");
        }
        inPoll.countDown();
        release.await(30, TimeUnit.SECONDS);
        return Batch.of(List.of("a", "b", "c"), "3");
      };
    }
  }

  @Test
  void R2_aBatchPolledAfterTheStopWasRequestedIsNeverProcessed() throws Exception {
    BlockingPoll log = new BlockingPoll();
    Readers<String> r = readers(ConsumerConfig.builder("g", "a").build(), log);
    r.fenceAt(Long.MAX_VALUE);
    r.start(grant(0), "0");
    assertTrue(log.inPoll.await(30, TimeUnit.SECONDS));
    r.stop(grant(0), RevokeReason.RELEASED); // asked while the poll waits
    log.release.countDown(); // the poll returns three records
    await().atMost(TIMEOUT).until(() -> stopped.size() == 1);
    assertEquals(List.of(), processed, "not processed: another consumer may get the partition now");
    assertEquals(List.of(), reports, "and not reported as processed");
    assertEquals(List.of(RevokeReason.RELEASED), revoked);
  }

  @Test
  void R2_noBatchIsProcessedOnceTheDeadlinePassedUntilAHeartbeatRenewsIt() throws Exception {
    BlockingPoll log = new BlockingPoll();
    Readers<String> r = readers(ConsumerConfig.builder("g", "a").build(), log);
    r.fenceAt(GroupConsumer.monotonicMs() - 1); // the session may be gone
    log.release.countDown();
    r.start(grant(0), "0");
    assertTrue(log.inPoll.await(30, TimeUnit.SECONDS));
    await().during(Duration.ofMillis(300)).atMost(TIMEOUT).until(() -> processed.isEmpty());
    r.fenceAt(GroupConsumer.monotonicMs() + 60_000); // a heartbeat succeeded
    await().atMost(TIMEOUT).until(() -> processed.equals(List.of("a", "b", "c")));
  }

  @Test
  void aPausedReaderKeepsItsBatchAndPositionAndReadsOnWhenResumed() {
    AtomicInteger polls = new AtomicInteger();
    Readers<String> r = readers(ConsumerConfig.builder("g", "a").pollWaitMs(10).build(), (g, cursor) -> (max, wait) -> {
      int n = polls.incrementAndGet();
      return Batch.of(List.of("r" + n), Integer.toString(n));
    });
    r.fenceAt(Long.MAX_VALUE);
    r.start(grant(0), "0");
    await().atMost(TIMEOUT).until(() -> processed.size() >= 3);
    assertTrue(r.pause(new PartitionId("t", 0)));
    AtomicInteger last = new AtomicInteger(-1);
    await().atMost(TIMEOUT).pollInterval(Duration.ofMillis(100)).until(() -> last.getAndSet(polls.get()) == polls.get());
    int polled = polls.get();
    int done = processed.size();
    await().during(Duration.ofMillis(300)).atMost(TIMEOUT)
        .until(() -> polls.get() == polled && processed.size() == done); // paused: no poll, no processing
    int seen = processed.size();
    assertTrue(r.resume(new PartitionId("t", 0)));
    await().atMost(TIMEOUT).until(() -> processed.size() > seen + 3);
    List<String> snapshot = new ArrayList<>(processed); // it reads on meanwhile
    for (int i = 0; i < snapshot.size(); i++) {
      assertEquals("r" + (i + 1), snapshot.get(i), "no batch lost or repeated across the pause");
    }
  }

  @Test
  void manyPartitionsShareTheBoundedPoolInTurnAndPollWithoutWaitingWhenCrowded() {
    int partitions = 300;
    Map<Integer, AtomicInteger> batches = new ConcurrentHashMap<>();
    List<Long> waits = new CopyOnWriteArrayList<>();
    CountDownLatch allStarted = new CountDownLatch(1);
    Readers<String> r = readers(ConsumerConfig.builder("g", "a").readerThreads(3).pollWaitMs(50).build(),
        (g, cursor) -> (max, waitMs) -> {
          waits.add(waitMs);
          allStarted.await(30, TimeUnit.SECONDS); // at most the three threads' first polls came before the rest
          int n = batches.computeIfAbsent(g.partition(), k -> new AtomicInteger()).incrementAndGet();
          return n <= 2 ? Batch.of(List.of(g.partition() + "#" + n), Integer.toString(n)) : Batch.of(List.of(), "2");
        });
    r.fenceAt(Long.MAX_VALUE);
    for (int p = 0; p < partitions; p++) {
      r.start(grant(p), "0");
    }
    allStarted.countDown();
    await().atMost(TIMEOUT).until(() -> processed.size() == 2 * partitions);
    assertTrue(r.poolSize() <= 3, r.poolSize() + " threads");
    assertTrue(waits.stream().filter(w -> w > 0).count() <= 3,
        "crowded: no poll may hold a thread while others wait (but the first few, before the rest started)");
  }
}
