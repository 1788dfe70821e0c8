package io.cohort.server;

import static io.cohort.server.CohortStateMachineTest.applyOnLeader;
import static io.cohort.server.CohortStateMachineTest.request;
import static io.cohort.server.Commands.createGroup;
import static io.cohort.server.Commands.createTopic;
import static io.cohort.server.Commands.heartbeat;
import static io.cohort.server.Commands.join;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cohort.statemachine.Principals;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Heartbeat;
import io.cohort.statemachine.proto.HeartbeatResult;
import io.cohort.statemachine.proto.Query;
import io.cohort.statemachine.proto.QueryResult;
import io.cohort.statemachine.proto.Result;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.statemachine.TransactionContext;
import org.junit.jupiter.api.Test;

/**
 * Step 11 on the state machine's callbacks: a quiet heartbeat waits for the writes its leader
 * admitted before it (instead of refusing while any is in flight), and a saturated leader sheds
 * quiet and replicated heartbeats alike by the age of its oldest unapplied write.
 */
class QuietHeartbeatWaitTest {
  private final CohortStateMachineTest.ManualClock clock = new CohortStateMachineTest.ManualClock();
  private final CohortStateMachine leader = new CohortStateMachine(CohortStateMachine.Settings.DEFAULTS, clock);
  private long index;

  private HeartbeatResult setUp() throws Exception {
    clock.wallMs = 1_000_000;
    leader.leaderReady(1);
    leader.judgeLeadershipWith(() -> 1);
    write(createTopic("t", 2).toByteArray());
    write(createGroup("g", "t", 10_000).toByteArray());
    Result a = write(join("g", "A").toByteArray());
    assertEquals(2, a.getHeartbeat().getGrantsCount(), a.toString());
    return a.getHeartbeat();
  }

  private Result write(byte[] command) throws Exception {
    Result r = applyOnLeader(leader, leader.startTransaction(request(command), 1, true), 1, ++index);
    assertEquals(Code.OK, r.getCode(), r.getMessage());
    return r;
  }

  private CompletableFuture<Message> quiet(HeartbeatResult of) {
    byte[] q = Query.newBuilder().setQuietHeartbeat(heartbeat("g", "A", of.getSessionToken(), of.getGrantsList())
        .getHeartbeat()).build().toByteArray();
    return leader.query(Message.valueOf(Envelopes.internal(q)));
  }

  private static QueryResult result(CompletableFuture<Message> f) throws Exception {
    return QueryResult.parseFrom(Messages.bytes(f.get(30, TimeUnit.SECONDS)));
  }

  @Test
  void R2_aQuietHeartbeatWaitsForAJoinStampedBeforeIt_andAnswersFromTheStateThatHasIt() throws Exception {
    HeartbeatResult a = setUp();
    assertEquals(Code.OK, result(quiet(a)).getCode(), "nothing pending: answered at once");

    TransactionContext joinB = leader.startTransaction(request(join("g", "B").toByteArray()), 1, true);
    CompletableFuture<Message> waiting = quiet(a);
    assertFalse(waiting.isDone(), "B's join was stamped before it and is not applied: A must not hear 'keep both'");
    assertEquals(1, leader.quietHeartbeatsWaited());
    await().during(Duration.ofMillis(OffLogLiveness.SLOW_WAIT_NANOS / 1_000_000 + 50)).atMost(Duration.ofSeconds(5))
        .until(() -> !waiting.isDone());
    applyOnLeader(leader, joinB, 1, ++index);
    QueryResult r = result(waiting);
    assertEquals(Code.OK, r.getCode(), r.toString());
    assertEquals(1, r.getHeartbeat().getReleaseCount(), "A hears that it must release a partition to B: " + r);
    assertEquals(1, leader.quietHeartbeatsSlow(), "its answer came over 200 ms after it arrived: counted (and logged)");
  }

  @Test
  void aWriteAdmittedAfterTheQuietHeartbeatArrivedDoesNotHoldItsAnswer() throws Exception {
    HeartbeatResult a = setUp();
    TransactionContext topic = leader.startTransaction(request(createTopic("u", 1).toByteArray()), 1, true);
    CompletableFuture<Message> waiting = quiet(a);
    TransactionContext later = leader.startTransaction(request(createTopic("v", 1).toByteArray()), 1, true);
    applyOnLeader(leader, topic, 1, ++index);
    QueryResult r = result(waiting);
    assertEquals(Code.OK, r.getCode(), r.toString());
    assertEquals(a.getGrantsList(), r.getHeartbeat().getGrantsList());
    assertEquals(1, leader.pendingRenewals(), "A's liveness waits for the next tick");
    applyOnLeader(leader, later, 1, ++index);
  }

  @Test
  void overload_aLeaderWhoseOldestWriteIsOverASecondOldShedsQuietAndReplicatedHeartbeatsAndRenewsTheirMembers()
      throws Exception {
    HeartbeatResult a = setUp();
    TransactionContext stuck = leader.startTransaction(request(createTopic("u", 1).toByteArray()), 1, true);
    clock.advanceMs(1_500);
    QueryResult shed = result(quiet(a));
    assertEquals(Code.RETRY_LATER, shed.getCode(), shed.toString());
    assertTrue(shed.getMessage().startsWith("retry after 1500 ms: "), shed.getMessage());
    assertEquals(1, leader.pendingRenewals(), "a shed heartbeat of the current session counts as life");

    TransactionContext replicated = leader.startTransaction(request(heartbeat("g", "A", a.getSessionToken(),
        a.getGrantsList()).toByteArray()), 1, true);
    assertNotNull(replicated.getException(), "a replicated heartbeat is shed too");
    assertTrue(replicated.getException().getMessage().startsWith("RETRY_LATER: retry after 1500 ms: "),
        replicated.getException().getMessage());
    assertEquals(1, leader.writesInFlight(), "the shed heartbeat is not pending; the stuck write is");

    applyOnLeader(leader, stuck, 1, ++index);
    assertEquals(Code.OK, result(quiet(a)).getCode(), "applied: answered again");
  }

  @Test
  void R2_aNodeThatIsNotAFreshLeaderNeverAnswersOffTheLog() throws Exception {
    HeartbeatResult a = setUp();
    leader.judgeLeadershipWith(() -> -1);
    QueryResult r = result(quiet(a));
    assertEquals(Code.NEEDS_WRITE, r.getCode());
    assertEquals(0, leader.pendingRenewals());
  }
  @Test
  void aRaftLeaderNotReadyYetAsksForARetry_notTheLog_andRenewsNothing() throws Exception {
    HeartbeatResult a = setUp();
    leader.judgeLeadershipWith(new OffLogLiveness.Leadership() {
      @Override
      public long freshTerm() {
        return -1; // elected, its term's first entry not applied yet
      }

      @Override
      public boolean raftLeader() {
        return true;
      }
    });
    QueryResult r = result(quiet(a));
    assertEquals(Code.RETRY_LATER, r.getCode(), r.toString());
    assertTrue(r.getMessage().startsWith("retry after " + OffLogLiveness.NOT_YET_RETRY_MS + " ms"), r.getMessage());
    assertFalse(r.hasHeartbeat(), "R2: nothing to read by");
    assertEquals(0, leader.pendingRenewals(), "a new leader gives every member a full session from its election");
  }

  @Test
  void R7_aLeaderThatHeardFromNoMajorityLatelyAsksForARetry_butCountsALiveMemberAlive() throws Exception {
    HeartbeatResult a = setUp();
    leader.judgeLeadershipWith(new OffLogLiveness.Leadership() {
      @Override
      public long freshTerm() {
        return -1; // saturated: no follower answered within the election timeout's minimum
      }

      @Override
      public boolean leads() {
        return true;
      }
    });
    QueryResult r = result(quiet(a));
    assertEquals(Code.RETRY_LATER, r.getCode(), r.toString());
    assertFalse(r.hasHeartbeat(), "R2: nothing to read by");
    assertEquals(1, leader.unfreshRenewed());
    assertEquals(1, leader.pendingRenewals(), "the next tick renews A while it waits to retry");

    QueryResult other = result(quietHolding(com.google.protobuf.ByteString.copyFrom(new byte[16]), a.getGrantsList()));
    assertTrue(other.getCode() != Code.OK, other.toString());
    assertEquals(1, leader.unfreshRenewed(), "another session's heartbeat shows nothing about A");
    clock.wallMs += 20_000; // past A's 10 s deadline: only the log may say whether it expired
    clock.monotonicNanos += 20_000_000_000L;
    result(quiet(a));
    assertEquals(1, leader.unfreshRenewed(), "a heartbeat past its deadline renews nothing");
  }

  private CompletableFuture<Message> quietHolding(com.google.protobuf.ByteString session,
      java.util.List<io.cohort.statemachine.proto.Grant> held) {
    byte[] q = Query.newBuilder().setQuietHeartbeat(heartbeat("g", "A", session, held).getHeartbeat()).build()
        .toByteArray();
    return leader.query(Message.valueOf(Envelopes.internal(q)));
  }

  @Test
  void R7_aQuietHeartbeatTheLogMustCarryStillShowsItsLiveMemberAlive_butNotAnotherSessionOrOnePastItsDeadline()
      throws Exception {
    HeartbeatResult a = setUp();
    // holding none of its two grants: the change must go through the log, while A is plainly alive
    QueryResult r = result(quietHolding(a.getSessionToken(), java.util.List.of()));
    assertEquals(Code.NEEDS_WRITE, r.getCode(), r.toString());
    assertEquals(1, leader.needsWriteRenewed());
    assertEquals(1, leader.pendingRenewals(), "the next tick renews A while its replicated heartbeat waits");

    QueryResult other = result(quietHolding(com.google.protobuf.ByteString.copyFrom(new byte[16]), a.getGrantsList()));
    assertTrue(other.getCode() != Code.OK, other.toString());
    assertEquals(1, leader.needsWriteRenewed(), "another session's heartbeat shows nothing about A");

    clock.wallMs += 20_000; // past A's 10 s deadline: only the log may say whether it expired
    clock.monotonicNanos += 20_000_000_000L;
    QueryResult late = result(quietHolding(a.getSessionToken(), java.util.List.of()));
    assertEquals(Code.NEEDS_WRITE, late.getCode(), late.toString());
    assertEquals(1, leader.needsWriteRenewed(), "a heartbeat past its deadline renews nothing");
  }

  @Test
  void aQuietHeartbeatThatFindsTheStateHeldDoesNotHoldUpTheTransportThread_itIsAnsweredOnceTheStateIsFree()
      throws Exception {
    answeredOnceFree(leader::holdingAppliedState);
  }

  @Test
  void aQuietHeartbeatThatFindsTheRenewalsHeldDoesNotHoldUpTheTransportThread_either() throws Exception {
    answeredOnceFree(leader::holdingRenewals);
  }

  /** {@code hold} runs its argument holding a lock a quiet answer takes. */
  private void answeredOnceFree(java.util.function.Consumer<Runnable> hold) throws Exception {
    HeartbeatResult a = setUp();
    ExecutorService quietThread = Executors.newSingleThreadExecutor();
    ExecutorService transportThread = Executors.newSingleThreadExecutor();
    CountDownLatch held = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    Thread holder = new Thread(() -> hold.accept(() -> {
      held.countDown();
      try {
        release.await(60, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }));
    try {
      leader.quietAnswersOn(quietThread);
      holder.start();
      assertTrue(held.await(30, TimeUnit.SECONDS));
      Heartbeat hb = heartbeat("g", "A", a.getSessionToken(), a.getGrantsList()).getHeartbeat();
      CompletableFuture<QueryResult> answer = CompletableFuture
          .supplyAsync(() -> leader.quietHeartbeat(hb, Principals.INTERNAL), transportThread)
          .get(10, TimeUnit.SECONDS); // the transport thread got its future back: it did not wait for the state
      assertFalse(answer.isDone(), "nothing can answer while the state is held");
      release.countDown();
      QueryResult r = answer.get(30, TimeUnit.SECONDS);
      assertEquals(Code.OK, r.getCode(), r.toString());
      assertEquals(a.getGrantsList(), r.getHeartbeat().getGrantsList());
    } finally {
      release.countDown();
      holder.join(60_000);
      quietThread.shutdownNow();
      transportThread.shutdownNow();
    }
  }
}
