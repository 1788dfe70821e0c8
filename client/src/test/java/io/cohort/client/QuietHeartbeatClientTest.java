package io.cohort.client;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.Heartbeat;
import io.cohort.statemachine.proto.HeartbeatResult;
import io.cohort.statemachine.proto.PartitionRef;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Step 11 in the client: which heartbeats go quietly (off the log), and what their answers do. */
class QuietHeartbeatClientTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  private LocalCoordinator coordinator;
  private ScriptedTransport transport;
  private InMemoryLog log;
  private GroupConsumer<InMemoryLog.Record> consumer;

  @BeforeEach
  void setUp() {
    coordinator = new LocalCoordinator();
    transport = new ScriptedTransport(coordinator);
    log = new InMemoryLog();
  }

  @AfterEach
  void tearDown() {
    if (consumer != null) {
      consumer.close();
    }
    coordinator.close();
    assertEquals(List.of(), log.doubleReaders);
  }

  private Recorder start(ConsumerConfig config) {
    Recorder r = new Recorder(config.consumerId(), new AtomicLong(), new CopyOnWriteArrayList<>());
    consumer = GroupConsumer.start(transport, config, log, r, r);
    return r;
  }

  @Test
  void R2_anIdleConsumersHeartbeatsGoQuietlyConfirmItsSessionAndRenewItThroughTheTick() {
    coordinator.createTopic("t", 2);
    coordinator.createGroup("g", "t", 1_000, 200);
    start(ConsumerConfig.builder("g", "a").pollWaitMs(20).build());
    await().atMost(TIMEOUT).until(() -> consumer.reading().size() == 2);
    long logged = coordinator.count(Command.BodyCase.HEARTBEAT);
    // two session timeouts of quiet heartbeats, the coordinator ticking now and then
    await().atMost(TIMEOUT).until(() -> {
      coordinator.tick();
      return consumer.quietHeartbeatsOk() >= 20;
    });
    assertTrue(coordinator.count(Command.BodyCase.HEARTBEAT) - logged <= 1,
        "heartbeats that changed nothing stayed off the log");
    assertEquals(GroupConsumer.Status.ACTIVE, consumer.status());
    assertEquals(2, consumer.reading().size(), "its session was confirmed: it reads on");
    coordinator.tick();
    assertEquals(1, coordinator.members("g"), "the ticks' renewals kept it a member");
    for (Heartbeat hb : transport.quiet) {
      assertEquals(0, hb.getCommitsCount());
      assertEquals(2, hb.getHeldCount());
    }
  }

  @Test
  void needsWrite_aQuietHeartbeatTheLeaderWillNotAnswerIsSentThroughTheLogAtOnce() {
    coordinator.createTopic("t", 1);
    coordinator.createGroup("g", "t", 1_000, 200);
    transport.quietRefusal = Code.NEEDS_WRITE;
    start(ConsumerConfig.builder("g", "a").pollWaitMs(20).build());
    await().atMost(TIMEOUT).until(() -> transport.quiet.size() >= 10);
    long replicated = coordinator.count(Command.BodyCase.HEARTBEAT);
    assertTrue(replicated >= transport.quiet.size(), replicated + " replicated heartbeats for "
        + transport.quiet.size() + " refused quiet ones: each went through the log");
    coordinator.tick();
    assertEquals(1, coordinator.members("g"));
    assertEquals(GroupConsumer.Status.ACTIVE, consumer.status());
    assertEquals(0, consumer.quietHeartbeatsOk());
  }

  @Test
  void retryLater_aQuietHeartbeatALeaderCannotAnswerYetIsAskedAgainQuietly_notThroughTheLog() {
    coordinator.createTopic("t", 1);
    coordinator.createGroup("g", "t", 10_000, 200);
    start(ConsumerConfig.builder("g", "a").pollWaitMs(20).build());
    await().atMost(TIMEOUT).until(() -> consumer.quietHeartbeatsOk() >= 2);
    long replicated = coordinator.count(Command.BodyCase.HEARTBEAT);
    transport.retryAfterMs = 50;
    transport.quietRefusal = Code.RETRY_LATER; // a leader just elected, or not heard from a majority lately
    int before = transport.quiet.size();
    await().atMost(TIMEOUT).until(() -> transport.quiet.size() >= before + 5);
    assertEquals(replicated, coordinator.count(Command.BodyCase.HEARTBEAT),
        "each heartbeat after a retry-after went quiet again: none through the log");
    transport.quietRefusal = null;
    long ok = consumer.quietHeartbeatsOk();
    await().atMost(TIMEOUT).until(() -> consumer.quietHeartbeatsOk() > ok);
    assertEquals(replicated, coordinator.count(Command.BodyCase.HEARTBEAT));
    assertEquals(GroupConsumer.Status.ACTIVE, consumer.status());
  }

  @Test
  void noLeader_aQuietHeartbeatThatFoundNoLeaderIsAskedAgainQuietly_andCountedAsNoLeaderNotAsShed() {
    coordinator.createTopic("t", 1);
    coordinator.createGroup("g", "t", 10_000, 200);
    Map<String, LongAdder> failures = new ConcurrentHashMap<>();
    ConsumerMetrics metrics = new ConsumerMetrics() {
      @Override
      public void failed(PartitionId partition, String kind) {
        failures.computeIfAbsent(kind, k -> new LongAdder()).increment();
      }
    };
    start(ConsumerConfig.builder("g", "a").pollWaitMs(20).metricsRecorder(metrics).build());
    await().atMost(TIMEOUT).until(() -> consumer.quietHeartbeatsOk() >= 2);
    long replicated = coordinator.count(Command.BodyCase.HEARTBEAT);
    transport.quietRefusalMessage = "retry after 50 ms: " + CohortRejectedException.NO_LEADER
        + " (n2 is not the leader; the leader is n3)"; // as CohortClient fails it after the last peer asked
    transport.quietRefusal = Code.RETRY_LATER;
    int before = transport.quiet.size();
    await().atMost(TIMEOUT).until(() -> transport.quiet.size() >= before + 5);
    assertEquals(replicated, coordinator.count(Command.BodyCase.HEARTBEAT), "asked again quietly: none through the log");
    assertTrue(failures.containsKey("no_leader"), failures.toString());
    assertFalse(failures.containsKey("shed"), "no leader shed it: " + failures);
    transport.quietRefusal = null;
    long ok = consumer.quietHeartbeatsOk();
    await().atMost(TIMEOUT).until(() -> consumer.quietHeartbeatsOk() > ok);
    assertEquals(GroupConsumer.Status.ACTIVE, consumer.status());
  }

  private long keepAlives() {
    return transport.quiet.stream().filter(h -> h.getHeldCount() == 0 && !h.getSessionToken().isEmpty()).count();
  }

  @Test
  void R7_whileItsReplicatedHeartbeatWaitsAConsumerShowsItsSessionAliveQuietly_R2_butReadsNothingByIt() {
    coordinator.createTopic("t", 2);
    coordinator.createGroup("g", "t", 1_000, 200);
    start(ConsumerConfig.builder("g", "a").pollWaitMs(20).build());
    await().atMost(TIMEOUT).until(() -> consumer.reading().size() == 2);
    assertEquals(0, keepAlives(), "nothing waited: no keep-alive");

    CompletableFuture<Void> hold = new CompletableFuture<>();
    transport.holdHeartbeats = hold;
    transport.quietRefusal = Code.NEEDS_WRITE; // every heartbeat must go through the log, where it waits
    // every quarter session (250 ms) the waiting consumer says it is alive on the quiet stream ...
    await().atMost(TIMEOUT).until(() -> keepAlives() >= 4);
    // ... and still stops reading by its own deadline: a keep-alive's answer confirms nothing (R2)
    await().atMost(TIMEOUT).until(() -> consumer.reading().isEmpty());
    assertEquals(GroupConsumer.Status.ACTIVE, consumer.status());

    transport.quietRefusal = null;
    transport.holdHeartbeats = null;
    hold.complete(null);
    await().atMost(TIMEOUT).until(() -> consumer.reading().size() == 2);
    long after = keepAlives();
    await().during(Duration.ofMillis(1_000)).atMost(TIMEOUT).until(() -> keepAlives() == after);
    assertEquals(1, transport.sent.stream().filter(c -> c.hasHeartbeat() && c.getHeartbeat().getSessionToken()
        .isEmpty()).count(), "the session was never lost: one join");
  }

  @Test
  void aKeepAliveTheLeaderRefusesAsAnUnknownSessionIsTheLastForThatSession() {
    coordinator.createTopic("t", 2);
    coordinator.createGroup("g", "t", 1_000, 200);
    start(ConsumerConfig.builder("g", "a").pollWaitMs(20).build());
    await().atMost(TIMEOUT).until(() -> consumer.reading().size() == 2);

    CompletableFuture<Void> hold = new CompletableFuture<>();
    transport.holdHeartbeats = hold;
    transport.quietRefusal = Code.NEEDS_WRITE; // the next heartbeat waits in the log
    await().atMost(TIMEOUT).until(() -> keepAlives() >= 2);
    transport.quietRefusal = Code.UNKNOWN_MEMBER; // its session expired meanwhile
    long refusedAt = keepAlives();
    await().atMost(TIMEOUT).until(() -> keepAlives() > refusedAt);
    long last = keepAlives();
    // four keep-alive periods (250 ms each) with no keep-alive: the session is gone, keeping it alive cannot help
    await().during(Duration.ofMillis(1_000)).atMost(TIMEOUT).until(() -> keepAlives() == last);

    transport.quietRefusal = null;
    transport.holdHeartbeats = null;
    hold.complete(null); // the waiting heartbeat is answered (here still OK): the consumer goes on
    await().atMost(TIMEOUT).until(() -> consumer.reading().size() == 2);
  }

  @Test
  void R3_heartbeatsWithCommitsAndThoseAfterAReleaseGoThroughTheLog() {
    coordinator.createTopic("t", 2);
    coordinator.createGroup("g", "t", 10_000, 200);
    log.append("t", 0, 5);
    log.append("t", 1, 5);
    Recorder a = start(ConsumerConfig.builder("g", "a").commitIntervalMs(50).pollWaitMs(20).build());
    PartitionId p0 = new PartitionId("t", 0);
    await().atMost(TIMEOUT).until(() -> a.acked.getOrDefault(p0, 0L) == 5L
        && a.acked.getOrDefault(new PartitionId("t", 1), 0L) == 5L);
    // a second member: one partition is asked back; the answer that asks it is never followed by a quiet heartbeat
    coordinator.heartbeat(Heartbeat.newBuilder().setGroup("g").setConsumerId("b").build()).join();
    await().atMost(TIMEOUT).until(() -> consumer.reading().size() == 1);
    for (Heartbeat hb : transport.quiet) {
      assertEquals(0, hb.getCommitsCount(), "a commit is never quiet: " + hb);
    }
    long commits = transport.sent.stream().filter(c -> c.hasHeartbeat() && c.getHeartbeat().getCommitsCount() > 0)
        .count();
    assertEquals(commits, coordinator.log.stream().filter(c -> c.hasHeartbeat()
        && c.getHeartbeat().getCommitsCount() > 0).count(), "every heartbeat with commits went through the log");
    long released = coordinator.log.stream().filter(c -> c.hasHeartbeat() && c.getHeartbeat().getConsumerId().equals("a")
        && c.getHeartbeat().getHeldCount() == 1).count();
    assertTrue(released >= 1, "the release went through the log");
  }

  @Test
  void handoff_aMemberWaitingForAGrantPollsQuietlyAndTakesTheGrantThroughTheLogOnceReleased() {
    coordinator.createTopic("t", 2);
    coordinator.createGroup("g", "t", 10_000, 200);
    HeartbeatResult b = coordinator.heartbeat(Heartbeat.newBuilder().setGroup("g").setConsumerId("b").build()).join();
    assertEquals(2, b.getGrantsCount(), "b holds both partitions");
    start(ConsumerConfig.builder("g", "a").pollWaitMs(20).build());
    await().atMost(TIMEOUT).until(() -> coordinator.members("g") == 2);
    Heartbeat.Builder hb = Heartbeat.newBuilder().setGroup("g").setConsumerId("b").setSessionToken(b.getSessionToken())
        .addHeld(PartitionRef.newBuilder().setTopic("t").setPartition(0))
        .addHeld(PartitionRef.newBuilder().setTopic("t").setPartition(1));
    b = coordinator.heartbeat(hb.build()).join();
    assertEquals(1, b.getReleaseCount(), "b is asked to give one partition to a");
    int released = b.getRelease(0).getPartition();
    // b does not release yet: a waits, polling at the handoff interval
    int quietBefore = transport.quiet.size();
    await().atMost(TIMEOUT).until(() -> transport.quiet.size() >= quietBefore + 10);
    long aLogged = coordinator.log.stream().filter(c -> c.hasHeartbeat()
        && c.getHeartbeat().getConsumerId().equals("a")).count();
    assertTrue(aLogged <= 2, aLogged + " heartbeats of a through the log while it only waited: its join (and one "
        + "before the handoff began); its polls went quietly");
    assertEquals(0, consumer.reading().size(), "nothing granted to a before b released");
    // b releases: a's next poll finds its grant and takes it through the log
    coordinator.heartbeat(Heartbeat.newBuilder().setGroup("g").setConsumerId("b").setSessionToken(b.getSessionToken())
        .addHeld(PartitionRef.newBuilder().setTopic("t").setPartition(1 - released)).build()).join();
    await().atMost(TIMEOUT).until(() -> consumer.reading().size() == 1);
    assertTrue(consumer.reading().containsKey(new PartitionId("t", released)), "a reads what b released");
  }

  @Test
  void quietHeartbeatsOff_everyHeartbeatGoesThroughTheLog() {
    coordinator.createTopic("t", 1);
    coordinator.createGroup("g", "t", 1_000, 200);
    start(ConsumerConfig.builder("g", "a").pollWaitMs(20).quietHeartbeats(false).build());
    await().atMost(TIMEOUT).until(() -> coordinator.count(Command.BodyCase.HEARTBEAT) >= 10);
    assertEquals(0, transport.quiet.size());
  }
}
