package io.cohort.client;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cohort.statemachine.proto.Command;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The consumer runtime against the coordinator core in process: its timing and its traffic. */
class GroupConsumerLocalTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);

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
    assertEquals(List.of(), log.doubleReaders);
  }

  private Recorder start(String group, ConsumerConfig config) {
    Recorder r = new Recorder(config.consumerId(), new AtomicLong(), processed);
    consumer = GroupConsumer.start(coordinator, config, log, r, r);
    return r;
  }

  private void produce(String topic, int partitions) {
    producer = Executors.newSingleThreadScheduledExecutor();
    producer.scheduleAtFixedRate(() -> {
      for (int p = 0; p < partitions; p++) {
        log.append(topic, p, 3);
      }
    }, 0, 5, TimeUnit.MILLISECONDS);
  }

  @Test
  void R1_inSteadyStateCommitsRideOnTheHeartbeat_oneCommandPerInterval() {
    coordinator.createTopic("t", 2);
    coordinator.createGroup("g", "t", 10_000, 200);
    produce("t", 2);
    Recorder r = start("g", ConsumerConfig.builder("g", "a").commitIntervalMs(200).pollWaitMs(20).build());
    await().atMost(TIMEOUT).until(() -> r.acked.size() == 2);
    long heartbeats0 = coordinator.count(Command.BodyCase.HEARTBEAT);
    long commits0 = coordinator.count(Command.BodyCase.COMMIT_CHECKPOINTS);
    await().atMost(TIMEOUT).until(() -> coordinator.count(Command.BodyCase.HEARTBEAT) >= heartbeats0 + 10);
    long commits = coordinator.count(Command.BodyCase.COMMIT_CHECKPOINTS) - commits0;
    assertTrue(commits <= 1, "checkpoints ride on heartbeats, but " + commits + " commits went on their own");
    long committed = r.acked.values().stream().mapToLong(Long::longValue).sum();
    await().atMost(TIMEOUT).until(() -> r.acked.values().stream().mapToLong(Long::longValue).sum() > committed);
  }

  @Test
  void withAHeartbeatLongerThanTheCommitIntervalCheckpointsGoOnTheirOwn() {
    coordinator.createTopic("t", 1);
    coordinator.createGroup("g", "t", 30_000, 10_000);
    log.append("t", 0, 10);
    Recorder r = start("g", ConsumerConfig.builder("g", "a").commitIntervalMs(100).pollWaitMs(20).build());
    await().atMost(TIMEOUT).until(() -> r.acked.getOrDefault(new PartitionId("t", 0), 0L) == 10L);
    assertEquals(1, coordinator.count(Command.BodyCase.HEARTBEAT), "no second heartbeat needed for it");
  }

  @Test
  void sessionAtRisk_readersPauseWhenHeartbeatsFailAndResumeFromTheirPositionWhenTheyWorkAgain() {
    coordinator.createTopic("t", 1);
    coordinator.createGroup("g", "t", 1_000, 200);
    log.append("t", 0, 10);
    Recorder r = start("g", ConsumerConfig.builder("g", "a").commitIntervalMs(100).pollWaitMs(20)
        .retryMs(50).build());
    PartitionId p0 = new PartitionId("t", 0);
    await().atMost(TIMEOUT).until(() -> r.acked.getOrDefault(p0, 0L) == 10L);
    long epoch = consumer.reading().get(p0).epoch();

    coordinator.unreachable = true;
    await().atMost(TIMEOUT).until(() -> consumer.assignment().isEmpty());
    assertEquals(1, r.revoked(RevokeReason.SESSION_AT_RISK));
    log.append("t", 0, 5);
    coordinator.unreachable = false; // no tick ran, so the session is still alive

    await().atMost(TIMEOUT).until(() -> r.acked.getOrDefault(p0, 0L) == 15L);
    assertEquals(epoch, consumer.reading().get(p0).epoch(), "the same grant, resumed");
    assertEquals(15, processed.size(), "resumed where it stopped: nothing read twice");
  }

  @Test
  void R7_afterExpiryTheConsumerRejoinsAndResumesFromTheCheckpoint() {
    coordinator.createTopic("t", 1);
    coordinator.createGroup("g", "t", 1_000, 200);
    log.append("t", 0, 10);
    Recorder r = start("g", ConsumerConfig.builder("g", "a").commitIntervalMs(100).pollWaitMs(20)
        .retryMs(50).build());
    PartitionId p0 = new PartitionId("t", 0);
    await().atMost(TIMEOUT).until(() -> r.acked.getOrDefault(p0, 0L) == 10L);
    com.google.protobuf.ByteString session = consumer.session();

    coordinator.unreachable = true;
    await().atMost(TIMEOUT).until(() -> consumer.assignment().isEmpty());
    await().atMost(TIMEOUT).pollInterval(Duration.ofMillis(100)).until(() -> {
      coordinator.tick(); // the leader's ticker expires the silent member (R7)
      return coordinator.members("g") == 0;
    });
    coordinator.unreachable = false;
    log.append("t", 0, 5);
    await().atMost(TIMEOUT).until(() -> !consumer.session().equals(session) && !consumer.session().isEmpty());
    await().atMost(TIMEOUT).until(() -> r.acked.getOrDefault(p0, 0L) == 15L);
    assertEquals(15, processed.size(), "the new session starts at the checkpoint");
  }

  @Test
  void R2_theHeartbeatThatLetsGoCarriesTheFinalCheckpoint_nothingIsReadTwice() {
    coordinator.createTopic("t", 2);
    coordinator.createGroup("g", "t", 10_000, 300);
    produce("t", 2);
    Recorder ra = start("g", ConsumerConfig.builder("g", "a").commitIntervalMs(60_000).pollWaitMs(20).build());
    await().atMost(TIMEOUT).until(() -> consumer.assignment().size() == 2 && processed.size() > 50);
    GroupConsumer<InMemoryLog.Record> a = consumer;
    Recorder rb = new Recorder("b", new AtomicLong(), processed);
    GroupConsumer<InMemoryLog.Record> b = GroupConsumer.start(coordinator,
        ConsumerConfig.builder("g", "b").commitIntervalMs(60_000).pollWaitMs(20).build(), log, rb, rb);
    try {
      await().atMost(TIMEOUT).until(() -> a.assignment().size() == 1 && b.assignment().size() == 1);
      assertEquals(1, ra.revoked(RevokeReason.RELEASED));
      PartitionId moved = b.assignment().iterator().next();
      Command release = coordinator.log.stream().filter(c -> c.hasHeartbeat()
          && c.getHeartbeat().getConsumerId().equals("a") && c.getHeartbeat().getHeldCount() == 1)
          .findFirst().orElseThrow();
      String finalCursor = release.getHeartbeat().getCommitsList().stream()
          .filter(e -> e.getPartition() == moved.partition()).findFirst()
          .map(e -> e.getCursor()).orElse(String.valueOf(ra.acked.get(moved))); // else: nothing new since
      Recorder.Event assigned = rb.events.stream().filter(e -> e.kind().equals("assigned")).findFirst().orElseThrow();
      assertEquals(finalCursor, assigned.cursor(), "B starts where A's final checkpoint says");
      assertEquals(processed.size(), processed.stream().map(r -> r.partition() + "#" + r.offset())
          .distinct().count(), "nothing read twice");
    } finally {
      b.close();
    }
  }
}
