package io.cohort.client;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cohort.statemachine.proto.CheckpointEntry;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.LimitsRecord;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * How a consumer ends (close, FENCED, refused) and how it keeps its commands under the cluster's
 * limits, against the coordinator core in process with faults switched on by the test.
 */
class ConsumerLifecycleTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);
  private static final PartitionId P0 = new PartitionId("t", 0);

  private LocalCoordinator coordinator;
  private ScriptedTransport transport;
  private InMemoryLog log;
  private List<Recorder.Processed> processed;
  private final CountDownLatch release = new CountDownLatch(1);
  private GroupConsumer<InMemoryLog.Record> consumer;

  @BeforeEach
  void setUp() {
    coordinator = new LocalCoordinator();
    transport = new ScriptedTransport(coordinator);
    log = new InMemoryLog();
    processed = new CopyOnWriteArrayList<>();
  }

  @AfterEach
  void tearDown() {
    release.countDown();
    if (consumer != null) {
      consumer.close();
    }
    coordinator.close();
    assertEquals(List.of(), log.doubleReaders);
  }

  private GroupConsumer<InMemoryLog.Record> start(ConsumerConfig config, RecordProcessor<InMemoryLog.Record> p,
      ConsumerListener l) {
    consumer = GroupConsumer.start(transport, config, log, p, l);
    return consumer;
  }

  /** Processes batches, but blocks in its first one until the test releases it. */
  private final class SlowProcessor implements RecordProcessor<InMemoryLog.Record> {
    final CountDownLatch inProcess = new CountDownLatch(1);
    final AtomicLong leavesWhenItReturned = new AtomicLong(-1);
    final AtomicReference<ProcessingContext> context = new AtomicReference<>();

    @Override
    public void process(PartitionGrant grant, List<InMemoryLog.Record> records) {
      throw new AssertionError("the context form is called");
    }

    @Override
    public void process(ProcessingContext ctx, List<InMemoryLog.Record> records) throws InterruptedException {
      context.set(ctx);
      inProcess.countDown();
      release.await(60, TimeUnit.SECONDS);
      for (InMemoryLog.Record r : records) {
        processed.add(new Recorder.Processed(0, "a", r.partition(), r.offset(), ctx.grant().epoch()));
      }
      leavesWhenItReturned.set(transport.sentOf(Command.BodyCase.LEAVE));
    }
  }

  private static List<String> cursorsOf(Command c) {
    List<CheckpointEntry> entries = c.hasLeave() ? c.getLeave().getCommitsList()
        : c.hasHeartbeat() ? c.getHeartbeat().getCommitsList() : c.getCommitCheckpoints().getEntriesList();
    return entries.stream().map(CheckpointEntry::getCursor).toList();
  }

  private Command theLeave() {
    return transport.sent.stream().filter(Command::hasLeave).findFirst().orElseThrow();
  }

  // ------------------------------------------------------------------ R2 on the way out

  @Test
  void R2_closeKeepsTheSessionAliveWhileASlowReaderFinishesAndLeavesOnlyAfterIt() throws Exception {
    coordinator.createTopic("t", 1);
    coordinator.createGroup("g", "t", 10_000, 200);
    log.append("t", 0, 5);
    SlowProcessor slow = new SlowProcessor();
    start(ConsumerConfig.builder("g", "a").pollWaitMs(20).leaveTimeoutMs(30_000).build(), slow, null);
    assertTrue(slow.inProcess.await(30, TimeUnit.SECONDS));

    CompletableFuture<Void> closing = CompletableFuture.runAsync(consumer::close);
    long heartbeats = transport.sentOf(Command.BodyCase.HEARTBEAT);
    await().atMost(TIMEOUT).until(() -> transport.sentOf(Command.BodyCase.HEARTBEAT) >= heartbeats + 2);
    assertEquals(0, transport.sentOf(Command.BodyCase.LEAVE), "no leave while a reader still processes");
    assertFalse(closing.isDone());

    release.countDown();
    closing.get(30, TimeUnit.SECONDS);
    assertEquals(0, slow.leavesWhenItReturned.get(), "the reader returned before the leave was sent");
    assertEquals(List.of("5"), cursorsOf(theLeave()), "the leave carries the batch it finished");
    assertEquals(GroupConsumer.Status.CLOSED, consumer.status());
    assertEquals(0, coordinator.members("g"));
  }

  @Test
  void R2_aReaderStillRunningAtTheSessionDeadlineMeansNoLeaveTheSessionExpires() throws Exception {
    coordinator.createTopic("t", 1);
    coordinator.createGroup("g", "t", 1_000, 300);
    log.append("t", 0, 5);
    SlowProcessor slow = new SlowProcessor();
    start(ConsumerConfig.builder("g", "a").pollWaitMs(20).leaveTimeoutMs(200).build(), slow, null);
    assertTrue(slow.inProcess.await(30, TimeUnit.SECONDS));

    long started = System.nanoTime();
    consumer.close(); // the processor never returns in time
    long tookMs = (System.nanoTime() - started) / 1_000_000;
    assertEquals(0, transport.sentOf(Command.BodyCase.LEAVE), "never a leave while a reader may process");
    assertTrue(tookMs < 10_000, "close waited " + tookMs + " ms: leave timeout + what was left of the session");
    assertTrue(slow.context.get().expired(), "the processor can see its deadline has passed");
    await().atMost(TIMEOUT).pollInterval(Duration.ofMillis(100)).until(() -> {
      coordinator.tick();
      return coordinator.members("g") == 0; // expired by the coordinator instead
    });
  }

  @Test
  void R2_staticTakeover_onFencedTheReadersStopThenTheOldSessionLeavesWithItsFinalCheckpoints() throws Exception {
    coordinator.createTopic("t", 1);
    coordinator.createGroup("g", "t", 10_000, 200);
    log.append("t", 0, 5);
    SlowProcessor slow = new SlowProcessor();
    Recorder r = new Recorder("a", new AtomicLong(), processed);
    start(ConsumerConfig.builder("g", "a").pollWaitMs(20).build(), slow, r);
    assertTrue(slow.inProcess.await(30, TimeUnit.SECONDS));
    com.google.protobuf.ByteString oldSession = consumer.session();

    transport.fenceHeartbeats = true; // a newer process joined with this consumer id (the server's answer)
    await().atMost(TIMEOUT).until(() -> consumer.status() == GroupConsumer.Status.FENCED);
    long heartbeats = transport.sentOf(Command.BodyCase.HEARTBEAT);
    assertEquals(0, transport.sentOf(Command.BodyCase.LEAVE), "the reader still processes: no leave yet");
    assertFalse(r.fenced, "told only once it stopped for good");

    release.countDown();
    await().atMost(TIMEOUT).until(() -> r.fenced);
    assertEquals(0, slow.leavesWhenItReturned.get(), "the reader returned before the leave");
    Command leave = theLeave();
    assertEquals(oldSession, leave.getLeave().getSessionToken(), "the leave names the replaced session");
    assertEquals(List.of("5"), cursorsOf(leave), "with the final checkpoint of its stopped reader");
    assertEquals(heartbeats, transport.sentOf(Command.BodyCase.HEARTBEAT), "no heartbeat after FENCED");
    assertEquals(1, r.revoked(RevokeReason.CONSUMER_FENCED));
    assertEquals(GroupConsumer.Status.FENCED, consumer.status());
    assertEquals("5", coordinator.checkpoint("g", "t", 0), "the final commit was applied");
  }

  // ------------------------------------------------------------------ refusals are final

  @Test
  void shedding_aShedHeartbeatIsRetriedAfterItsRetryAfterWithJitterAndTheConsumerNeverRejoins() {
    coordinator.createTopic("t", 2);
    coordinator.createGroup("g", "t", 10_000, 200);
    Recorder r = new Recorder("a", new AtomicLong(), processed);
    start(ConsumerConfig.builder("g", "a").build(), r, r);
    await().atMost(TIMEOUT).until(() -> consumer.assignment().size() == 2);
    com.google.protobuf.ByteString session = consumer.session();
    long heartbeatsBefore = transport.sentOf(Command.BodyCase.HEARTBEAT);

    transport.shedHeartbeats.set(4);
    await().atMost(TIMEOUT).until(() -> transport.shedAtMs.size() == 4
        && transport.sentOf(Command.BodyCase.HEARTBEAT) >= heartbeatsBefore + 6);
    for (int i = 1; i < 4; i++) {
      long gap = transport.shedAtMs.get(i) - transport.shedAtMs.get(i - 1);
      assertTrue(gap >= 150, "a shed heartbeat waits at least half its retry-after (300 ms): " + gap + " ms");
    }
    long joins = transport.sent.stream().filter(c -> c.hasHeartbeat() && c.getHeartbeat().getSessionToken().isEmpty())
        .count();
    assertEquals(1, joins, "shed heartbeats never make the consumer join again");
    assertEquals(session, consumer.session());
    assertEquals(GroupConsumer.Status.ACTIVE, consumer.status());
    assertEquals(2, consumer.assignment().size(), "it kept reading: the session never lapsed");
  }

  @Test
  void aMembershipTheClusterRefusesEndsTheConsumerWithoutRetrying() {
    coordinator.createTopic("t", 1);
    coordinator.createGroup("g", "t", 10_000, 200);
    AtomicReference<Throwable> failed = new AtomicReference<>();
    start(ConsumerConfig.builder("g", "bad id!").build(), (g, rs) -> { }, new ConsumerListener() {
      @Override
      public void onFailed(Throwable error) {
        failed.set(error);
      }
    });
    await().atMost(TIMEOUT).until(() -> consumer.status() == GroupConsumer.Status.FAILED);
    assertEquals(Code.INVALID_ARGUMENT, assertInstanceOf(CohortRejectedException.class, consumer.failure()).code());
    assertEquals(consumer.failure(), failed.get());
    assertEquals(1, transport.sentOf(Command.BodyCase.HEARTBEAT), "the refused join is not sent again");
  }

  @Test
  void R2_aGroupWhoseSessionTimeoutCannotHoldOnePollIsRefusedWithAClearMessageAndNothingIsRead() {
    coordinator.createTopic("t", 1);
    coordinator.createGroup("g", "t", 1_000, 300);
    log.append("t", 0, 5);
    Recorder r = new Recorder("a", new AtomicLong(), processed);
    start(ConsumerConfig.builder("g", "a").pollWaitMs(600).build(), r, r);
    await().atMost(TIMEOUT).until(() -> consumer.status() == GroupConsumer.Status.FAILED);
    String message = consumer.failure().getMessage();
    assertTrue(message.contains("700 ms") && message.contains("1000 ms") && message.contains("pollWaitMs"), message);
    assertTrue(r.events.isEmpty(), "no reader ever started");
    await().atMost(TIMEOUT).until(() -> coordinator.members("g") == 0); // it left at once
  }

  @Test
  void R9_commitsAreSplitAfterALimitRefusalAndNoRefusedCommandIsSentAgain() {
    int partitions = 50;
    coordinator.createTopic("t", partitions);
    coordinator.createGroup("g", "t", 30_000, 10_000);
    for (int p = 0; p < partitions; p++) {
      log.append("t", p, 3);
    }
    transport.maxEntries = 10; // the leader's limit, which the consumer was not told
    transport.reportedLimits = LimitsRecord.newBuilder().setMaxEntriesPerCommand(10_000).setMaxCommandBytes(1 << 20).build();
    Recorder r = new Recorder("a", new AtomicLong(), processed);
    start(ConsumerConfig.builder("g", "a").pollWaitMs(20).commitIntervalMs(300).build(), r, r);
    await().atMost(TIMEOUT).until(() -> r.acked.size() == partitions && r.acked.values().stream().allMatch(c -> c == 3));

    assertFalse(transport.refused.isEmpty(), "the first large commit was refused");
    assertTrue(transport.refused.size() <= 3, transport.refused.size() + " refusals: 50 -> 25 -> 12 -> 6 entries");
    List<Integer> refusedSizes = transport.refused.stream().map(c -> cursorsOf(c).size()).toList();
    for (int i = 1; i < refusedSizes.size(); i++) {
      assertTrue(refusedSizes.get(i) < refusedSizes.get(i - 1), "never the same command again: " + refusedSizes);
    }
    int last = transport.sent.indexOf(transport.refused.get(transport.refused.size() - 1));
    transport.sent.subList(last + 1, transport.sent.size()).forEach(c -> assertTrue(cursorsOf(c).size() <= 10));
  }

  @Test
  void R9_aCheckpointTooLargeForAnyCommandIsSentOnceThenDroppedWithAnError() throws Exception {
    coordinator.createTopic("t", 1);
    coordinator.createGroup("g", "t", 30_000, 300);
    log.append("t", 0, 4);
    transport.maxBytes = 4096;
    Recorder r = new Recorder("a", new AtomicLong(), processed);
    start(ConsumerConfig.builder("g", "a").pollWaitMs(20).autoCommit(false).build(), r, r);
    await().atMost(TIMEOUT).until(() -> processed.size() == 4);
    PartitionGrant grant = consumer.reading().get(P0);
    String huge = "9".repeat(5000);
    ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
        () -> consumer.acknowledge(grant, huge).get(30, TimeUnit.SECONDS));
    assertEquals(Code.LIMIT_EXCEEDED, assertInstanceOf(CohortRejectedException.class, e.getCause()).code());
    await().atMost(TIMEOUT).until(() -> !r.errors.isEmpty());
    assertEquals(1, transport.sent.stream().filter(c -> cursorsOf(c).contains(huge)).count(), "sent once, never again");

    consumer.acknowledge(grant, "4").get(30, TimeUnit.SECONDS); // the next one goes through
    assertEquals("4", coordinator.checkpoint("g", "t", 0));
  }
}
