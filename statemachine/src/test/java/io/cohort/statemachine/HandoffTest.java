package io.cohort.statemachine;

import static io.cohort.statemachine.CoordinatorTestContext.entry;
import static io.cohort.statemachine.CoordinatorTestContext.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.CreateGroup;
import io.cohort.statemachine.proto.GroupPartitionView;
import io.cohort.statemachine.proto.HeartbeatResult;
import io.cohort.statemachine.proto.PartitionRef;
import io.cohort.statemachine.proto.PartitionStatus;
import io.cohort.statemachine.proto.Result;
import io.cohort.statemachine.proto.UpdateGroup;
import java.util.List;
import org.junit.jupiter.api.Test;

/** R2's release timeout, and the R4 rule that a move whose target left is cancelled. */
class HandoffTest {

  /** A holds 0 and 1 (session 3 s); B joins and 1 is to move to B. */
  private static CoordinatorTestContext moving(long releaseTimeoutMs) {
    CoordinatorTestContext ctx = new CoordinatorTestContext().withTopic("t", 2)
        .withGroup(CoordinatorTestContext.group("g", "t").setSessionTimeoutMs(3_000).setHeartbeatIntervalMs(1_000)
            .setReleaseTimeoutMs(releaseTimeoutMs))
        .withMember("g", "A");
    ctx.heartbeat("g", "B");
    assertEquals("B", ctx.partition("g", "t", 1).getTarget());
    return ctx;
  }

  /** A keeps heartbeating but keeps listing what it was told to release. */
  private static HeartbeatResult stubbornHeartbeat(CoordinatorTestContext ctx, List<Integer> claims) {
    var view = ctx.consumer("g", "A");
    claims.forEach(p -> view.held.putIfAbsent("t/" + p, ctx.grant("g", "A", "t", 0).toBuilder().setPartition(p).build()));
    return ctx.heartbeat("g", "A");
  }

  @Test
  void R2_aGrantToldOffTheLogIsReleasedByTheHeartbeatThatLeavesItOutOnceAskedBack() {
    CoordinatorTestContext ctx = new CoordinatorTestContext().withTopic("t", 6)
        .withGroup(CoordinatorTestContext.group("g", "t").setSessionTimeoutMs(10_000).setHeartbeatIntervalMs(1_000));
    ctx.heartbeat("g", "A");
    ctx.heartbeat("g", "B");
    ctx.heartbeat("g", "A"); // told to let three go
    ctx.heartbeat("g", "A"); // lets them go to B
    assertEquals(3, ok(ctx.quietHeartbeat("g", "B")).getHeartbeat().getGrantsCount(), "told off the log");
    ctx.heartbeat("g", "C"); // A and B are each asked for one
    HeartbeatResult asked = ok(ctx.quietHeartbeat("g", "B")).getHeartbeat();
    assertEquals(1, asked.getReleaseCount(), "the release is told off the log too: " + asked);
    PartitionRef back = asked.getRelease(0);
    HeartbeatResult after = ctx.heartbeat("g", "B"); // leaves it out: through the log
    assertEquals(2, after.getGrantsCount(), "released by this heartbeat, not told again: " + after);
    assertEquals(0, after.getReleaseCount());
    assertFalse(ctx.assignment("g").get("B").contains(back.getPartition()), ctx.assignment("g").toString());
  }

  @Test
  void R2_releaseTimeoutFencesAHolderThatNeverReleases() {
    CoordinatorTestContext ctx = moving(0); // 0 = the session timeout, 3 s
    assertEquals(ctx.nowMs + 3_000, ctx.partition("g", "t", 1).getReleaseDeadlineMs());
    long oldEpoch = ctx.grant("g", "A", "t", 1).getEpoch();
    for (int i = 0; i < 3; i++) {
      ctx.advanceMs(1_000);
      HeartbeatResult hb = stubbornHeartbeat(ctx, List.of(0, 1));
      assertEquals(1, hb.getReleaseCount(), "asked again every time");
      ctx.heartbeat("g", "B");
    }
    assertEquals("A", ctx.partition("g", "t", 1).getHolder(), "exactly at the timeout: not yet");
    ctx.advanceMs(1);
    ctx.tick();

    GroupPartitionView p = ctx.partition("g", "t", 1);
    assertEquals("B", p.getHolder(), "the target gets it");
    assertTrue(p.getEpoch() > oldEpoch, "with a new epoch");
    assertEquals(PartitionStatus.HELD, p.getStatus());
    Result late = ctx.commit("g", "A", entry("t", 1, oldEpoch, "99"));
    assertEquals(List.of(Code.FENCED), late.getCommit().getCodesList(), "the old holder's commits are fenced");
    HeartbeatResult a = stubbornHeartbeat(ctx, List.of(0, 1));
    assertEquals(List.of(0), a.getGrantsList().stream().map(g -> g.getPartition()).toList());
    assertEquals(1, a.getRelease(0).getPartition(), "told again to drop it");
    assertEquals(1, ctx.heartbeat("g", "B").getGrants(0).getPartition());
  }

  @Test
  void R2_anyCommandTouchingTheGroupEnforcesTheReleaseTimeout() {
    CoordinatorTestContext ctx = moving(5_000);
    assertEquals(5_000, ctx.describe("g").getSummary().getReleaseTimeoutMs());
    for (int i = 0; i < 5; i++) {
      ctx.advanceMs(1_000);
      ctx.heartbeat("g", "B"); // B waits, alive; A neither releases nor heartbeats (its session is 3 s)...
    }
    assertEquals("A", ctx.partition("g", "t", 1).getHolder());
    ctx.advanceMs(1);
    ok(ctx.commit("g", "A", "t", 0, "7")); // ...but commits: not a tick, a commit of another partition
    assertEquals("B", ctx.partition("g", "t", 1).getHolder());
  }

  @Test
  void R2_aHolderThatReleasesInTimeKeepsTheHandoffNormal() {
    CoordinatorTestContext ctx = moving(0);
    long epoch = ctx.grant("g", "A", "t", 1).getEpoch();
    ctx.advanceMs(2_000);
    ctx.heartbeat("g", "A"); // told to release: the context's consumer obeys
    ok(ctx.commit("g", "A", entry("t", 0, ctx.grant("g", "A", "t", 0).getEpoch(), "1")));
    ctx.heartbeat("g", "A"); // omits 1
    assertEquals("B", ctx.partition("g", "t", 1).getHolder());
    assertEquals(0, ctx.partition("g", "t", 1).getReleaseDeadlineMs(), "no timer left");
    ctx.advanceMs(10_000);
    ctx.heartbeat("g", "A");
    ctx.heartbeat("g", "B");
    assertTrue(ctx.partition("g", "t", 1).getEpoch() > epoch);
    assertEquals("{A=[0], B=[1]}", ctx.assignment("g").toString());
  }

  @Test
  void R2_releaseTimeoutIsAtLeastTheSessionTimeoutAndCanBeChanged() {
    CoordinatorTestContext ctx = new CoordinatorTestContext().withTopic("t", 1);
    Result shorter = ctx.apply(Command.newBuilder().setCreateGroup(CreateGroup.newBuilder().setGroup("g")
        .addTopics("t").setSessionTimeoutMs(10_000).setReleaseTimeoutMs(5_000)));
    assertEquals(Code.INVALID_ARGUMENT, shorter.getCode());
    assertTrue(shorter.getMessage().contains("at least the session timeout"), shorter.getMessage());
    ctx.withGroup("g", "t");
    assertEquals(10_000, ctx.describe("g").getSummary().getReleaseTimeoutMs(), "0 = the session timeout");
    ok(ctx.apply(Command.newBuilder().setUpdateGroup(UpdateGroup.newBuilder().setGroup("g").setReleaseTimeoutMs(60_000))));
    assertEquals(60_000, ctx.describe("g").getSummary().getReleaseTimeoutMs());
    Result raiseSession = ctx.apply(Command.newBuilder().setUpdateGroup(UpdateGroup.newBuilder().setGroup("g")
        .setSessionTimeoutMs(120_000)));
    assertEquals(Code.INVALID_ARGUMENT, raiseSession.getCode(), "the release timeout would fall below it");
  }

  @Test
  void R2_aLoweredSessionTimeoutNeverTakesAGrantBeforeItsHoldersOwnDeadline() {
    CoordinatorTestContext ctx = new CoordinatorTestContext().withTopic("t", 2).withGroup("g", "t")
        .withMember("g", "A"); // session 10 s: A may read until 10 s after its last heartbeat
    ok(ctx.apply(Command.newBuilder().setUpdateGroup(UpdateGroup.newBuilder().setGroup("g").setSessionTimeoutMs(3_000)
        .setHeartbeatIntervalMs(1_000))));
    ctx.heartbeat("g", "B"); // 1 is to move to B; A has not heard since, and still counts 10 s
    assertEquals(ctx.nowMs + 10_000, ctx.partition("g", "t", 1).getReleaseDeadlineMs());
    for (int i = 0; i < 9; i++) {
      ctx.advanceMs(1_000);
      ctx.heartbeat("g", "B");
    }
    assertEquals("A", ctx.partition("g", "t", 1).getHolder(), "9 s: A may still read");
    ctx.advanceMs(1_001);
    ctx.heartbeat("g", "B");
    assertEquals("B", ctx.heartbeat("g", "B").getGrantsList().stream().anyMatch(g -> g.getPartition() == 1) ? "B" : "-");
  }

  @Test
  void R6_aNewTermRestartsTheReleaseTimer() {
    CoordinatorTestContext ctx = moving(0);
    ctx.advanceMs(2_000);
    ctx.term = 2;
    ctx.advanceMs(30_000); // a new leader whose clock is 30 s ahead
    ctx.tick();
    assertEquals("A", ctx.partition("g", "t", 1).getHolder(), "a clock jump takes nothing from anyone");
    ctx.advanceMs(2_000);
    ctx.heartbeat("g", "B");
    ctx.advanceMs(1_001);
    stubbornHeartbeat(ctx, List.of(0, 1));
    assertEquals("B", ctx.partition("g", "t", 1).getHolder(), "a full timeout after the term began");
  }

  @Test
  void R4_aMoveWhoseTargetLeftIsCancelled() {
    // The case: Z{0,1}, Y{2}; X joins and leaves before anyone heartbeats.
    CoordinatorTestContext ctx = new CoordinatorTestContext().withTopic("t", 3).withGroup("g", "t")
        .withMember("g", "Z").withMember("g", "Y");
    assertEquals("{Y=[2], Z=[0, 1]}", ctx.assignment("g").toString());
    long epoch = ctx.grant("g", "Z", "t", 1).getEpoch();
    ctx.heartbeat("g", "X");
    assertEquals("X", ctx.partition("g", "t", 1).getTarget());
    ok(ctx.leave("g", "X"));

    GroupPartitionView p = ctx.partition("g", "t", 1);
    assertEquals(PartitionStatus.HELD, p.getStatus(), "the move is cancelled at once");
    assertEquals("Z", p.getHolder());
    assertFalse(p.hasTarget());
    assertEquals(0, ctx.heartbeat("g", "Z").getReleaseCount(), "Z keeps reading");
    ctx.settle("g");
    assertEquals("{Y=[2], Z=[0, 1]}", ctx.assignment("g").toString(), "nothing moved");
    assertEquals(epoch, ctx.grant("g", "Z", "t", 1).getEpoch(), "not even a new epoch");
  }

  /** X joins and never heartbeats; Z is slow to release. X's session runs out at the same time as Z's release timeout. */
  @Test
  void R4_aMoveWhoseTargetExpiredIsCancelledToo() {
    CoordinatorTestContext ctx = new CoordinatorTestContext().withTopic("t", 3).withGroup("g", "t")
        .withMember("g", "Z").withMember("g", "Y");
    ctx.heartbeat("g", "X");
    ctx.advanceMs(6_000);
    ctx.heartbeat("g", "Y");
    ctx.heartbeat("g", "Z"); // told to release 1 to X; the context's consumer would obey next time
    ctx.consumer("g", "Z").held.put("t/1", ctx.consumer("g", "Z").held.get("t/0").toBuilder().setPartition(1).build());
    ctx.advanceMs(4_001);
    ctx.heartbeat("g", "Y");
    ctx.heartbeat("g", "Z");
    assertEquals(List.of("g/X"), ctx.tick().getTick().getExpiredList());
    assertEquals("Z", ctx.partition("g", "t", 1).getHolder());
    assertEquals(PartitionStatus.HELD, ctx.partition("g", "t", 1).getStatus());
  }

  @Test
  void R4_aCancelledMoveStillFollowsBalance() {
    // A held everything; B and C joined (B was to get 3..5, C 2 from A and 3 from B); B leaves: what
    // was moving to B is A's again only as far as balance allows, so C still gets a third.
    CoordinatorTestContext ctx = new CoordinatorTestContext().withTopic("t", 6).withGroup("g", "t")
        .withMember("g", "A");
    ctx.heartbeat("g", "B");
    ctx.heartbeat("g", "C");
    ok(ctx.leave("g", "B"));
    ctx.settle("g");
    assertEquals("{A=[0, 1, 5], C=[2, 3, 4]}", ctx.assignment("g").toString());
  }

  @Test
  void R1_aHeartbeatThatChangesNothingDoesNotRebalance() {
    CoordinatorTestContext ctx = new CoordinatorTestContext().withTopic("t", 4).withGroup("g", "t")
        .withMember("g", "A").withMember("g", "B");
    GroupState g = ctx.coordinator.state().groups.get("g");
    // A marker only the assignor clears: if a heartbeat rebalanced, it would be gone.
    Slot slot = g.slot("t", 0);
    slot.owner = g.members.get("B");
    ctx.heartbeat("g", "A");
    ctx.heartbeat("g", "B");
    assertEquals(g.members.get("B"), slot.owner);
  }
}
