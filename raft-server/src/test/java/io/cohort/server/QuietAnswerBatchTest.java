package io.cohort.server;

import static io.cohort.server.Commands.createGroup;
import static io.cohort.server.Commands.createTopic;
import static io.cohort.server.Commands.heartbeat;
import static io.cohort.server.Commands.join;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.cohort.statemachine.Coordinator;
import io.cohort.statemachine.Limits;
import io.cohort.statemachine.Principals;
import io.cohort.statemachine.Stamp;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.Heartbeat;
import io.cohort.statemachine.proto.HeartbeatResult;
import io.cohort.statemachine.proto.QueryResult;
import io.cohort.statemachine.proto.Result;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * Step 11, overload: quiet heartbeats that waited for the leader's earlier writes are answered in
 * batches, one pass under the locks for many, on the thread that runs the answers after a wait.
 * In a join storm nearly every quiet heartbeat waits; answered one task and two lock rounds at a
 * time they fell behind, came after the client's timeout and went through the log instead.
 */
class QuietAnswerBatchTest {
  private static final int MEMBERS = 300;

  private final CohortStateMachineTest.ManualClock clock = new CohortStateMachineTest.ManualClock();
  private final Coordinator coordinator = new Coordinator(Limits.DEFAULTS);
  private final AtomicInteger lockRounds = new AtomicInteger();
  private final List<Runnable> tasks = new CopyOnWriteArrayList<>();
  private final PendingWrites pending = new PendingWrites(() -> clock.monotonicNanos);
  private final LeaderStamps stamps = new LeaderStamps(clock);
  /** Slow quiet answers reported, by what they waited behind. */
  private final java.util.Map<Command.BodyCase, Integer> slowBehind = new java.util.concurrent.ConcurrentHashMap<>();
  private final NodeEvents events = new NodeEvents() {
    @Override
    public void quietHeartbeatWaitedLong(Command.BodyCase behind) {
      slowBehind.merge(behind == null ? Command.BodyCase.BODY_NOT_SET : behind, 1, Integer::sum); // null: not known
    }
  };
  private final OffLogLiveness liveness = new OffLogLiveness(stamps, pending, events,
      new OffLogLiveness.AppliedState() {
        @Override
        public <T> T read(Function<Coordinator, T> read) {
          lockRounds.incrementAndGet();
          synchronized (coordinator) {
            return read.apply(coordinator);
          }
        }
      }, tasks::add);
  private final List<Heartbeat> quiet = new ArrayList<>();
  private long index;

  private Result apply(Command c) {
    index++;
    byte[] token = ByteBuffer.allocate(16).putLong(8, index).array(); // the leader draws random ones
    Result r = coordinator.apply(c, index, 1, new Stamp(clock.wallMs, Principals.INTERNAL, ByteString.copyFrom(token)));
    assertEquals(Code.OK, r.getCode(), r.getMessage());
    return r;
  }

  /** {@link #MEMBERS} groups of one member each, holding the topic's one partition. */
  private void setUp() {
    clock.wallMs = 1_000_000;
    apply(createTopic("t", 1));
    for (int g = 0; g < MEMBERS; g++) {
      apply(createGroup("g" + g, "t", 60_000));
      HeartbeatResult joined = apply(join("g" + g, "c")).getHeartbeat();
      quiet.add(heartbeat("g" + g, "c", joined.getSessionToken(), joined.getGrantsList()).getHeartbeat());
    }
    stamps.lead(1, clock.wallMs);
    liveness.judgeLeadershipBy(() -> 1);
  }

  private List<CompletableFuture<QueryResult>> sendAll() {
    List<CompletableFuture<QueryResult>> answers = new ArrayList<>();
    for (Heartbeat hb : quiet) {
      answers.add(liveness.answer(hb, Principals.INTERNAL));
    }
    return answers;
  }

  private void runTasks() {
    List<Runnable> now = List.copyOf(tasks);
    tasks.clear();
    now.forEach(Runnable::run);
  }

  @Test
  void R2_quietHeartbeatsReleasedByOneApplyAreAnsweredInBatchesFromTheStateThatHasIt() {
    setUp();
    long write = pending.admit(); // a write stamped before them: every answer must wait for it
    List<CompletableFuture<QueryResult>> answers = sendAll();
    assertTrue(answers.stream().noneMatch(CompletableFuture::isDone), "they wait for the write admitted before them");
    assertEquals(0, lockRounds.get());

    pending.done(write);
    assertEquals(1, tasks.size(), "one task answers them all, not one task each");
    runTasks();
    for (CompletableFuture<QueryResult> a : answers) {
      assertEquals(Code.OK, a.join().getCode(), a.join().toString());
    }
    assertTrue(lockRounds.get() <= 2, "a pass under the apply lock per batch (of up to " + OffLogLiveness.ANSWER_BATCH
        + "), not per answer: " + lockRounds.get() + " for " + MEMBERS);
    assertEquals(MEMBERS, liveness.pending(), "every member answered OK is renewed at the next tick");
    assertEquals(MEMBERS, liveness.answeredOk());
  }

  @Test
  void aSlowWaitIsCountedByTheKindOfTheOldestWritePendingWhenItBegan() {
    setUp();
    long tick = pending.admit(Command.BodyCase.TICK); // the oldest: what they wait behind
    long join = pending.admit(Command.BodyCase.HEARTBEAT);
    List<CompletableFuture<QueryResult>> answers = sendAll();
    long begun = System.nanoTime(); // after the last arrived: sending 300 can take 100 ms on a loaded machine
    await().atMost(Duration.ofSeconds(30))
        .until(() -> System.nanoTime() - begun > OffLogLiveness.SLOW_WAIT_NANOS); // slow by the wall clock
    pending.done(tick);
    pending.done(join);
    runTasks();
    assertTrue(answers.stream().allMatch(a -> a.join().getCode() == Code.OK));
    assertEquals(MEMBERS, liveness.slowWaits());
    assertEquals(java.util.Map.of(Command.BodyCase.TICK, MEMBERS), slowBehind,
        "reported (a metric, and the log line) by what they waited behind");
  }

  @Test
  void overload_heartbeatsWhoseWaitTimedOutAreShedInABatchAndTheirMembersRenewed() {
    setUp();
    pending.admit(); // never applied: each wait times out after Shedding.SHED_AGE_MS
    List<CompletableFuture<QueryResult>> answers = sendAll();
    await().atMost(Duration.ofSeconds(30)).until(() -> !tasks.isEmpty());
    await().atMost(Duration.ofSeconds(30)).until(() -> {
      runTasks();
      return answers.stream().allMatch(CompletableFuture::isDone);
    });
    for (CompletableFuture<QueryResult> a : answers) {
      QueryResult r = a.join();
      assertEquals(Code.RETRY_LATER, r.getCode(), r.toString());
      assertTrue(r.getMessage().startsWith("retry after "), r.getMessage());
    }
    assertEquals(MEMBERS, liveness.shedRenewed(), "a shed heartbeat of the current session counts as life");
    assertEquals(MEMBERS, liveness.pending());
  }

  /**
   * A leader that stopped hearing from a majority while they waited (a stall) is still the Raft
   * leader: a retry, not NEEDS_WRITE. Its quiet service saw a Raft leader and could name no other,
   * so NEEDS_WRITE sent every one of them to the log (bench heartbeat --stall-leader-ms: 1,265 of
   * them, every session lost). Their live members are renewed, as a heartbeat that finds the leader
   * not fresh is.
   */
  @Test
  void R7_aLeaderNotFreshAnyMoreWhileTheyWaitedAsksForARetryAndRenewsLiveMembers() {
    setUp();
    long write = pending.admit();
    List<CompletableFuture<QueryResult>> answers = sendAll();
    liveness.judgeLeadershipBy(new OffLogLiveness.Leadership() {
      @Override
      public long freshTerm() {
        return -1; // not heard from a majority lately
      }

      @Override
      public boolean leads() {
        return true;
      }

      @Override
      public boolean raftLeader() {
        return true;
      }
    });
    pending.done(write);
    runTasks();
    for (CompletableFuture<QueryResult> a : answers) {
      assertEquals(Code.RETRY_LATER, a.join().getCode(), a.join().getMessage());
    }
    assertEquals(MEMBERS, liveness.pending(), "their live members are renewed");
    assertFalse(liveness.answeredOk() > 0);
  }

  @Test
  void R2_aLeaderThatLostItsTermWhileTheyWaitedAnswersNoneOfThemOffTheLog() {
    setUp();
    long write = pending.admit();
    List<CompletableFuture<QueryResult>> answers = sendAll();
    liveness.judgeLeadershipBy(() -> -1);
    pending.done(write);
    runTasks();
    for (CompletableFuture<QueryResult> a : answers) {
      assertEquals(Code.NEEDS_WRITE, a.join().getCode());
      assertTrue(a.join().getMessage().contains("stopped leading"), a.join().getMessage());
    }
    assertEquals(0, liveness.pending(), "no renewal from a node that stopped leading");
    assertFalse(liveness.answeredOk() > 0);
  }
}
