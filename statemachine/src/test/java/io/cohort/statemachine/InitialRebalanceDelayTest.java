package io.cohort.statemachine;

import static io.cohort.statemachine.CoordinatorTestContext.ok;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.CreateGroup;
import io.cohort.statemachine.proto.GroupPartitionView;
import io.cohort.statemachine.proto.Heartbeat;
import io.cohort.statemachine.proto.PartitionStatus;
import io.cohort.statemachine.proto.Result;
import io.cohort.statemachine.proto.UpdateGroup;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * R4 with an initial rebalance delay (as Kafka's {@code group.initial.rebalance.delay.ms}): members
 * that join an empty group are assigned together once no join came for the delay, so a cold start
 * hands nothing over; a join into a group that assigned is handed its share at once, as before.
 */
class InitialRebalanceDelayTest {
  private final CoordinatorTestContext ctx = new CoordinatorTestContext().withTopic("t", 6);

  private void group(long delayMs) {
    ctx.withGroup(CoordinatorTestContext.group("g", "t").setInitialRebalanceDelayMs(delayMs));
  }

  private int held() {
    return (int) ctx.describe("g").getPartitionsList().stream().filter(GroupPartitionView::hasHolder).count();
  }

  private boolean anyReleasing() {
    return ctx.describe("g").getPartitionsList().stream().anyMatch(p -> p.getStatus() == PartitionStatus.RELEASING);
  }

  @Test
  void R4_joinsIntoAnEmptyGroupAreAssignedTogetherAfterTheDelayWithNoHandoff() {
    group(3_000);
    long first = ctx.nowMs;
    assertEquals(0, ctx.heartbeat("g", "A").getGrantsCount(), "the group forms: nothing yet");
    assertEquals(first + 3_000, ctx.describe("g").getSummary().getFormingUntilMs());
    ctx.advanceMs(1_000);
    assertEquals(0, ctx.heartbeat("g", "B").getGrantsCount());
    assertEquals(first + 4_000, ctx.describe("g").getSummary().getFormingUntilMs(), "each join waits the delay again");
    ctx.advanceMs(2_999);
    ok(ctx.tick());
    assertEquals(0, held(), "1 ms before the end nothing is assigned");
    assertEquals(0, ctx.heartbeat("g", "A").getGrantsCount());
    ctx.advanceMs(1);
    ok(ctx.tick());
    assertFalse(ctx.describe("g").getSummary().hasFormingUntilMs(), "formed");
    assertEquals(6, held(), "the tick assigns everything at once");
    assertFalse(anyReleasing(), "and nothing is handed over");
    assertEquals(3, ctx.heartbeat("g", "A").getGrantsCount());
    assertEquals(3, ctx.heartbeat("g", "B").getGrantsCount());
  }

  @Test
  void R4_aDueFormingEndFiresWithTheNextCommandOfAnyGroupSoItsMembersHeartbeatOffTheLog() {
    group(1_000);
    ctx.withGroup("other", "t");
    ctx.heartbeat("g", "A");
    ctx.advanceMs(1_000);
    ok(ctx.apply(Command.newBuilder().setCreateTopic(
        io.cohort.statemachine.proto.CreateTopic.newBuilder().setTopic("u").setPartitions(1))));
    assertFalse(ctx.describe("g").getSummary().hasFormingUntilMs(), "formed by a command of no member of g");
    assertEquals(6, held());
    Result quiet = ctx.quietHeartbeat("g", "A");
    assertEquals(Code.OK, quiet.getCode(), "no timer left due: answered off the log: " + quiet.getMessage());
    assertEquals(6, quiet.getHeartbeat().getGrantsCount(), "and told its grants there");
  }

  @Test
  void R4_aJoinAfterTheGroupAssignedIsHandedItsShareAtOnce() {
    group(1_000);
    ctx.heartbeat("g", "A");
    ctx.advanceMs(1_000);
    ok(ctx.tick());
    assertEquals(6, ctx.heartbeat("g", "A").getGrantsCount());
    ctx.heartbeat("g", "B");
    assertFalse(ctx.describe("g").getSummary().hasFormingUntilMs(), "the group has members: no forming");
    assertTrue(anyReleasing(), "B's share is asked of A at once");
    ctx.settle("g");
    Map<String, TreeSet<Integer>> a = ctx.assignment("g");
    assertEquals(3, a.get("A").size());
    assertEquals(3, a.get("B").size());
  }

  @Test
  void R4_theWaitNeverExceedsAMinuteAfterTheFirstJoin() {
    ctx.withTopic("wide", 100);
    ctx.withGroup(CoordinatorTestContext.group("w", "wide").setInitialRebalanceDelayMs(1_000));
    long first = ctx.nowMs;
    for (int i = 0; i < 70; i++) {
      ctx.heartbeat("w", "C" + i);
      ctx.advanceMs(900);
      ok(ctx.tick());
      long assigned = ctx.describe("w").getPartitionsList().stream().filter(GroupPartitionView::hasHolder).count();
      if (ctx.nowMs < first + GroupState.MAX_FORMING_MS) {
        assertEquals(0, assigned, "joins keep coming within the delay: it forms, at " + (ctx.nowMs - first) + " ms");
      } else {
        assertEquals(100, assigned, "assigned at the cap, though joins kept coming, at " + (ctx.nowMs - first) + " ms");
      }
    }
  }

  @Test
  void R4_anEmptiedGroupFormsAgainAndADelayOfZeroEndsTheWait() {
    group(2_000);
    ctx.heartbeat("g", "A");
    ctx.advanceMs(2_000);
    ok(ctx.tick());
    assertEquals(6, held());
    ok(ctx.leave("g", "A"));
    ctx.advanceMs(10);
    assertEquals(0, ctx.heartbeat("g", "B").getGrantsCount(), "empty again: a new join forms the group anew");
    assertTrue(ctx.describe("g").getSummary().hasFormingUntilMs());
    ok(ctx.apply(Command.newBuilder().setUpdateGroup(UpdateGroup.newBuilder().setGroup("g").setInitialRebalanceDelayMs(0))));
    assertFalse(ctx.describe("g").getSummary().hasFormingUntilMs());
    assertEquals(6, held(), "no delay any more: assigned by the update itself");
    assertEquals(6, ctx.heartbeat("g", "B").getGrantsCount());
  }

  @Test
  void R1_whileTheGroupFormsAndWhenItAssignsHeartbeatsAreAnsweredOffTheLog() {
    group(3_000);
    ctx.heartbeat("g", "A");
    ctx.advanceMs(500);
    Heartbeat hb = Heartbeat.newBuilder().setGroup("g").setConsumerId("A")
        .setSessionToken(ctx.consumer("g", "A").session).build();
    Result quiet = ctx.coordinator.quietHeartbeat(hb, Principals.INTERNAL, ctx.nowMs);
    assertEquals(Code.OK, quiet.getCode(), quiet.getMessage());
    assertEquals(0, quiet.getHeartbeat().getGrantsCount());
    ctx.advanceMs(2_500);
    Result due = ctx.coordinator.quietHeartbeat(hb, Principals.INTERNAL, ctx.nowMs);
    assertEquals(Code.OK, due.getCode(), "the applied state has not reached the end yet: " + due.getMessage());
    ok(ctx.tick());
    Result after = ctx.coordinator.quietHeartbeat(hb, Principals.INTERNAL, ctx.nowMs);
    assertEquals(Code.OK, after.getCode(), "the first grants are told off the log: " + after.getMessage());
    assertTrue(held() > 0);
    assertEquals(held(), after.getHeartbeat().getGrantsCount(), "every grant, the only member");
  }

  @Test
  void R8_aRebuiltReplicaFormsUntilTheSameTime() {
    group(3_000);
    ctx.heartbeat("g", "A");
    ctx.advanceMs(1_000);
    ctx.heartbeat("g", "B");
    Coordinator rebuilt = Coordinator.rebuild(CoordinatorTestContext.records(ctx.coordinator).iterator(), Limits.DEFAULTS);
    assertArrayEquals(ctx.exportBytes(), CoordinatorTestContext.exportBytes(rebuilt));
    CoordinatorTestContext copy = new CoordinatorTestContext(rebuilt, ctx.term, ctx.nowMs);
    for (CoordinatorTestContext c : new CoordinatorTestContext[] {ctx, copy}) {
      c.advanceMs(2_999);
      ok(c.tick());
      assertEquals(0, c.describe("g").getPartitionsList().stream().filter(GroupPartitionView::hasHolder).count());
      c.advanceMs(1);
      ok(c.tick());
      assertEquals(6, c.describe("g").getPartitionsList().stream().filter(GroupPartitionView::hasHolder).count());
    }
    assertEquals(ctx.coordinator.digest(), rebuilt.digest());
  }

  @Test
  void R8_aDelayOutOfRangeIsRefusedAndChangesNothing() {
    for (long bad : new long[] {-1, Groups.MAX_INITIAL_REBALANCE_DELAY_MS + 1}) {
      CreateGroup.Builder g = CoordinatorTestContext.group("bad", "t").setInitialRebalanceDelayMs(bad);
      Result r = ctx.apply(Command.newBuilder().setCreateGroup(g));
      assertEquals(Code.INVALID_ARGUMENT, r.getCode(), r.getMessage());
      assertFalse(ctx.coordinator.state().groups.containsKey("bad"));
    }
    group(0);
    Result r = ctx.apply(Command.newBuilder().setUpdateGroup(UpdateGroup.newBuilder().setGroup("g")
        .setInitialRebalanceDelayMs(Groups.MAX_INITIAL_REBALANCE_DELAY_MS + 1)));
    assertEquals(Code.INVALID_ARGUMENT, r.getCode(), r.getMessage());
    assertEquals(0, ctx.describe("g").getSummary().getInitialRebalanceDelayMs());
    assertEquals(6, ctx.heartbeat("g", "A").getGrantsCount(), "no delay: assigned on the join, as always");
  }
}
