package io.cohort.statemachine;

import static io.cohort.statemachine.CoordinatorTestContext.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.CreateGroup;
import io.cohort.statemachine.proto.GroupSummary;
import io.cohort.statemachine.proto.ListGroups;
import io.cohort.statemachine.proto.Query;
import io.cohort.statemachine.proto.UpdateGroup;
import java.util.List;
import org.junit.jupiter.api.Test;

/** R7: a group with no members for its retention is deleted with its checkpoints by the tick. */
class RetentionTest {
  private final CoordinatorTestContext ctx = new CoordinatorTestContext().withTopic("t", 2);

  private void group(String name, Long retentionMs) {
    CreateGroup.Builder g = CoordinatorTestContext.group(name, "t");
    if (retentionMs != null) {
      g.setRetentionMs(retentionMs);
    }
    ctx.withGroup(g);
  }

  private boolean exists(String group) {
    return ctx.coordinator.state().groups.containsKey(group);
  }

  private GroupSummary summary(String group) {
    return ctx.coordinator.query(Query.newBuilder().setListGroups(ListGroups.getDefaultInstance()).build(), Principals.INTERNAL)
        .getGroups().getGroupsList().stream().filter(g -> g.getGroup().equals(group)).findFirst().orElseThrow();
  }

  @Test
  void R7_anEmptyGroupGoesAfterItsRetentionAndNotBefore() {
    group("g", 5_000L);
    long created = ctx.nowMs;
    GroupSummary s = summary("g");
    assertEquals(created, s.getEmptySinceMs());
    assertEquals(created + 5_000, s.getDeleteAtMs(), "describe and list say when it goes");
    ctx.advanceMs(5_000);
    ok(ctx.tick());
    assertTrue(exists("g"), "empty-since + retention is not before now yet");
    ctx.advanceMs(1);
    var tick = ok(ctx.tick()).getTick();
    assertFalse(exists("g"));
    assertEquals(List.of("g"), tick.getDeletedGroupsList());
    assertEquals(0, ctx.clusterInfo().getSlots(), "its slots no longer count (R9)");
  }

  @Test
  void R7_aGroupWithMembersIsNeverDeletedAndItsCountStartsWhenTheLastOneLeaves() {
    group("g", 2_000L);
    ctx.withMember("g", "A").withMember("g", "B");
    assertFalse(summary("g").hasEmptySinceMs(), "members: not counting");
    for (int i = 0; i < 5; i++) {
      ctx.advanceMs(1_000);
      ctx.heartbeat("g", "A");
      ctx.heartbeat("g", "B");
      ok(ctx.tick());
    }
    assertTrue(exists("g"));
    ok(ctx.leave("g", "A"));
    ctx.advanceMs(3_000);
    ctx.heartbeat("g", "B");
    ok(ctx.tick());
    assertTrue(exists("g"), "one member is left");
    ok(ctx.leave("g", "B"));
    long emptied = ctx.nowMs;
    assertEquals(emptied, summary("g").getEmptySinceMs());
    ctx.advanceMs(1_000);
    ctx.heartbeat("g", "C"); // joins again: the count stops
    ctx.advanceMs(1_500);
    ok(ctx.tick());
    assertTrue(exists("g"));
    assertFalse(summary("g").hasEmptySinceMs());
  }

  @Test
  void R7_anExpiredLastMemberStartsTheCountAtItsExpiry() {
    group("g", 20_000L);
    ctx.withMember("g", "A");
    ctx.advanceMs(10_001); // past the session timeout
    var tick = ok(ctx.tick()).getTick();
    assertEquals(List.of("g/A"), tick.getExpiredList());
    assertEquals(ctx.nowMs, summary("g").getEmptySinceMs());
    ctx.advanceMs(20_001);
    assertEquals(List.of("g"), ok(ctx.tick()).getTick().getDeletedGroupsList());
  }

  @Test
  void R7_retentionZeroKeepsItForeverAndTheDefaultIsSevenDays() {
    group("forever", 0L);
    group("weekly", null);
    assertEquals(Groups.DEFAULT_RETENTION_MS, summary("weekly").getRetentionMs());
    assertFalse(summary("forever").hasDeleteAtMs());
    ctx.advanceMs(Groups.DEFAULT_RETENTION_MS);
    ok(ctx.tick());
    assertTrue(exists("weekly") && exists("forever"));
    ctx.advanceMs(1);
    ok(ctx.tick());
    assertFalse(exists("weekly"));
    assertTrue(exists("forever"));
  }

  @Test
  void R7_updateChangesTheRetentionOfAnEmptyGroup() {
    group("g", 0L);
    ctx.advanceMs(10_000);
    ok(ctx.apply(Command.newBuilder().setUpdateGroup(UpdateGroup.newBuilder().setGroup("g").setRetentionMs(5_000))));
    ok(ctx.tick());
    assertFalse(exists("g"), "empty for 10 s already, retention now 5 s");
  }

  @Test
  void R8_aRetentionOutOfRangeIsRefusedAndChangesNothing() {
    var r = ctx.apply(Command.newBuilder().setCreateGroup(CoordinatorTestContext.group("g", "t").setRetentionMs(999)));
    assertEquals(Code.INVALID_ARGUMENT, r.getCode(), r.getMessage());
    assertFalse(exists("g"));
    group("g", 0L);
    r = ctx.apply(Command.newBuilder().setUpdateGroup(UpdateGroup.newBuilder().setGroup("g").setRetentionMs(-1)));
    assertEquals(Code.INVALID_ARGUMENT, r.getCode(), r.getMessage());
    assertEquals(0, summary("g").getRetentionMs());
  }

  @Test
  void R7_theTickerIsWantedOnlyWhenSomeoneCanExpireOrAGroupIsDue() {
    assertEquals(Long.MAX_VALUE, ctx.coordinator.tickWantedAtMs(), "no groups");
    group("g", 5_000L);
    long created = ctx.nowMs;
    assertEquals(created + 5_001, ctx.coordinator.tickWantedAtMs());
    ctx.withMember("g", "A");
    assertEquals(Long.MIN_VALUE, ctx.coordinator.tickWantedAtMs(), "a member: tick to expire it");
  }
}
