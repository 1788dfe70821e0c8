package io.cohort.statemachine;

import static io.cohort.statemachine.CoordinatorTestContext.entry;
import static io.cohort.statemachine.CoordinatorTestContext.ok;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cohort.statemachine.CoordinatorTestContext.ConsumerView;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Grant;
import io.cohort.statemachine.proto.GroupPartitionView;
import io.cohort.statemachine.proto.HeartbeatResult;
import io.cohort.statemachine.proto.MemberView;
import io.cohort.statemachine.proto.PartitionStatus;
import io.cohort.statemachine.proto.Result;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * R2 with static membership (DESIGN §1 "Consumer"): a second process with a live consumer id
 * replaces the first at once, but never reads beside it.
 */
class TakeoverTest {

  /** A holds 0 and 1, B holds 2 and 3; a second A process joins. Returns the old A's view. */
  private static ConsumerView takenOver(CoordinatorTestContext ctx) {
    return ctx.restart("g", "A");
  }

  private static CoordinatorTestContext group() {
    return RulesTest.twoConsumersOnFourPartitions();
  }

  @Test
  void R2_aTakeoverFencesTheOldSessionButGrantsNothingWhileItMayRead() {
    CoordinatorTestContext ctx = group();
    long oldEpoch = ctx.grant("g", "A", "t", 0).getEpoch();
    ConsumerView old = takenOver(ctx);

    HeartbeatResult joined = ctx.consumer("g", "A").last;
    assertEquals(0, joined.getGrantsCount(), "the new process must not read 0 and 1 yet");
    assertEquals(Membership.HANDOFF_INTERVAL_MS, joined.getNextHeartbeatMs(), "it waits for a handover");
    assertEquals(Code.FENCED, ctx.heartbeatResult(old, "g", "A").getCode(), "the old session's heartbeats");

    for (int p : List.of(0, 1)) {
      GroupPartitionView view = ctx.partition("g", "t", p);
      assertEquals("A", view.getHolder());
      assertEquals(PartitionStatus.RELEASING, view.getStatus(), "describe says why");
      assertEquals("A", view.getTarget(), "to the member's new session");
      assertEquals(SessionIds.of(old.session), view.getHeldByReplacedSessionId());
      assertEquals(oldEpoch, view.getEpoch());
    }
    MemberView a = ctx.describe("g").getMembers(0);
    assertEquals(SessionIds.of(old.session), a.getReplacedSessionId());
    assertTrue(a.getReplacedDeadlineMs() > ctx.nowMs);
    assertEquals(0, a.getGrantsCount());

    // The old process's commits still count (no repeat consumption); the new one's are fenced.
    assertEquals(List.of(Code.OK), ctx.commit(old, "g", "A", entry("t", 0, oldEpoch, "40")).getCommit().getCodesList());
    assertEquals(List.of(Code.FENCED), ctx.commit("g", "A", entry("t", 0, oldEpoch, "41")).getCommit().getCodesList());
    assertEquals(List.of(Code.FENCED), ctx.commit(old, "g", "A", entry("t", 2,
        ctx.grant("g", "B", "t", 2).getEpoch(), "1")).getCommit().getCodesList(), "only what it held");
    assertEquals("40", ctx.partition("g", "t", 0).getCheckpoint().getCursor());
  }

  @Test
  void R2_aTakeoverMovesNothingElse() {
    CoordinatorTestContext ctx = group();
    takenOver(ctx);
    for (int i = 0; i < 3; i++) {
      ctx.heartbeat("g", "A");
      ctx.heartbeat("g", "B");
    }
    assertEquals("{A=[0, 1], B=[2, 3]}", ctx.assignment("g").toString());
    assertEquals(0, ctx.heartbeat("g", "B").getReleaseCount());
    assertEquals(PartitionStatus.HELD, ctx.partition("g", "t", 2).getStatus());
  }

  @Test
  void R2_theOldSessionsLeaveHandsItsGrantsToTheNewSessionWithNewEpochs() {
    CoordinatorTestContext ctx = group();
    long oldEpoch = ctx.grant("g", "A", "t", 0).getEpoch();
    ConsumerView old = takenOver(ctx);
    assertEquals(Code.FENCED, ctx.heartbeatResult(old, "g", "A").getCode());
    // The client half of the contract: on FENCED it stops its readers, then leaves with its old session.
    Result left = ok(ctx.leave(old, "g", "A", entry("t", 0, oldEpoch, "50"), entry("t", 1, oldEpoch, "60")));
    assertEquals(List.of(Code.OK, Code.OK), left.getCommit().getCodesList());
    assertEquals(List.of("A", "B"), ctx.members("g"), "the member stays: it is the new session");

    HeartbeatResult hb = ctx.heartbeat("g", "A");
    assertEquals(2, hb.getGrantsCount());
    for (Grant g : hb.getGrantsList()) {
      assertTrue(g.getEpoch() > oldEpoch, "a new epoch");
    }
    assertEquals("50", hb.getGrants(0).getCursor(), "resumes where the old process stopped");
    assertEquals("60", hb.getGrants(1).getCursor());
    assertEquals("", ctx.describe("g").getMembers(0).getReplacedSessionId());
    assertEquals(Code.FENCED, ctx.commit(old, "g", "A", entry("t", 0, oldEpoch, "51")).getCode(), "its session is over");
    assertEquals(Code.FENCED, ctx.leave(old, "g", "A").getCode());
  }

  @Test
  void R2_theOldSessionsDeadlineHandsItsGrantsOver() {
    CoordinatorTestContext ctx = group();
    takenOver(ctx);
    for (int i = 0; i < 10; i++) {
      ctx.advanceMs(1_000);
      ctx.heartbeat("g", "A");
      ctx.heartbeat("g", "B");
    }
    assertEquals(0, ctx.consumer("g", "A").last.getGrantsCount(), "at the old deadline exactly: not yet");
    ctx.advanceMs(1);
    ctx.tick();
    assertEquals(2, ctx.heartbeat("g", "A").getGrantsCount());
  }

  @Test
  void R2_aMoveOfTheOldSessionWaitsForItToEnd() {
    // Old A was asked to hand 1 to C; it never heard (no heartbeat since). A new A takes over: 1 must
    // not go to C while the old A may still read it.
    CoordinatorTestContext ctx = group();
    ctx.heartbeat("g", "C");
    assertEquals("C", ctx.partition("g", "t", 1).getTarget());
    ConsumerView old = takenOver(ctx);
    ctx.heartbeat("g", "B");
    ctx.heartbeat("g", "C");
    assertEquals("A", ctx.partition("g", "t", 1).getHolder());
    assertEquals("C", ctx.partition("g", "t", 1).getTarget());
    assertEquals(SessionIds.of(old.session), ctx.partition("g", "t", 1).getHeldByReplacedSessionId());
    ok(ctx.leave(old, "g", "A"));
    assertEquals("C", ctx.partition("g", "t", 1).getHolder(), "released with the old session");
  }

  @Test
  void R2_theNewSessionLeavingFirstGivesTheMemberBackToTheOldOne() {
    CoordinatorTestContext ctx = group();
    long oldEpoch = ctx.grant("g", "A", "t", 0).getEpoch();
    ConsumerView old = takenOver(ctx);
    ok(ctx.leave("g", "A")); // the new process gives up at once
    assertEquals(List.of("A", "B"), ctx.members("g"), "the old process may still read: A stays");
    HeartbeatResult hb = ok(ctx.heartbeatResult(old, "g", "A")).getHeartbeat();
    assertEquals(2, hb.getGrantsCount());
    assertEquals(oldEpoch, hb.getGrants(0).getEpoch(), "nothing was handed over: same epochs");
    assertEquals(PartitionStatus.HELD, ctx.partition("g", "t", 0).getStatus());
  }

  @Test
  void R2_aSecondTakeoverWaitsForTheDeadlineOfBothOldSessions() {
    CoordinatorTestContext ctx = group();
    ConsumerView first = takenOver(ctx);
    ConsumerView second = takenOver(ctx);
    assertEquals(Code.FENCED, ctx.heartbeatResult(first, "g", "A").getCode());
    assertEquals(Code.FENCED, ctx.heartbeatResult(second, "g", "A").getCode());
    ok(ctx.leave(second, "g", "A")); // the first may still read: not enough
    assertEquals(0, ctx.heartbeat("g", "A").getGrantsCount());
    ctx.advanceMs(10_001);
    ctx.heartbeat("g", "B");
    assertEquals(2, ctx.heartbeat("g", "A").getGrantsCount());
  }

  @Test
  void R2_theNewestSessionLeavingAfterTwoTakeoversHandsTheFirstSessionsGrantsToNobody() {
    CoordinatorTestContext ctx = group();
    long oldEpoch = ctx.grant("g", "A", "t", 0).getEpoch();
    takenOver(ctx); // the first process, still reading 0 and 1
    ConsumerView middle = takenOver(ctx);
    ok(ctx.leave("g", "A")); // the newest process gives up at once: the middle session is current again
    for (int i = 0; i < 3; i++) { // asked again, as a consumer would poll
      HeartbeatResult hb = ok(ctx.heartbeatResult(middle, "g", "A")).getHeartbeat();
      assertEquals(0, hb.getGrantsCount(), "the first process may still read 0 and 1: " + hb);
      ctx.heartbeat("g", "B");
      for (int p : List.of(0, 1)) {
        assertEquals(oldEpoch, ctx.partition("g", "t", p).getEpoch(), "nobody else was granted " + p);
      }
    }
    ctx.advanceMs(10_001);
    ctx.heartbeat("g", "B");
    assertEquals(2, ok(ctx.heartbeatResult(middle, "g", "A")).getHeartbeat().getGrantsCount(),
        "after both replaced sessions' deadline");
  }

  @Test
  void R6_aNewTermPushesTheOldSessionsDeadline() {
    CoordinatorTestContext ctx = group();
    takenOver(ctx);
    ctx.term = 2;
    ctx.advanceMs(30_000); // a new leader whose clock is ahead
    ctx.tick();
    assertEquals(0, ctx.heartbeat("g", "A").getGrantsCount(), "a clock jump ends nobody's session");
    ctx.advanceMs(10_001);
    ctx.heartbeat("g", "B");
    assertEquals(2, ctx.heartbeat("g", "A").getGrantsCount());
  }

  @Test
  void R2_aPendingTakeoverSurvivesASnapshot() {
    CoordinatorTestContext ctx = group();
    ConsumerView old = takenOver(ctx);
    Coordinator rebuilt = Coordinator.rebuild(CoordinatorTestContext.records(ctx.coordinator).iterator(),
        Limits.DEFAULTS);
    assertArrayEquals(ctx.exportBytes(), CoordinatorTestContext.exportBytes(rebuilt));
    // The same command on both gives the same answer: the old session still commits.
    var commit = io.cohort.statemachine.proto.Command.newBuilder().setCommitCheckpoints(
        io.cohort.statemachine.proto.CommitCheckpoints.newBuilder().setGroup("g").setConsumerId("A")
            .setSessionToken(old.session).addEntries(entry("t", 0, old.held.get("t/0").getEpoch(), "9"))).build();
    Result a = ctx.coordinator.apply(commit, ctx.index + 1, ctx.term, TestStamps.at(ctx.nowMs, ctx.index + 1));
    Result b = rebuilt.apply(commit, ctx.index + 1, ctx.term, TestStamps.at(ctx.nowMs, ctx.index + 1));
    assertEquals(a, b);
    assertEquals(List.of(Code.OK), a.getCommit().getCodesList());
    assertFalse(ctx.describe("g").getMembers(0).getReplacedSessionId().isEmpty());
  }
}
