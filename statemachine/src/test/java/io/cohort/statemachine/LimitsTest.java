package io.cohort.statemachine;

import static io.cohort.statemachine.CoordinatorTestContext.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.CreateGroup;
import io.cohort.statemachine.proto.DeleteGroup;
import io.cohort.statemachine.proto.Heartbeat;
import io.cohort.statemachine.proto.LimitsRecord;
import io.cohort.statemachine.proto.MergePartitions;
import io.cohort.statemachine.proto.PartitionRef;
import io.cohort.statemachine.proto.Result;
import io.cohort.statemachine.proto.UpdateGroup;
import org.junit.jupiter.api.Test;

/** R9: cluster-wide counts are bounded by the replicated limits, with LIMIT_EXCEEDED. */
class LimitsTest {

  private static Limits limits(LimitsRecord.Builder r) {
    return Limits.DEFAULTS.with(r.build());
  }

  private static Result createGroup(CoordinatorTestContext ctx, String group, String... topics) {
    return ctx.apply(Command.newBuilder().setCreateGroup(CreateGroup.newBuilder().setGroup(group)
        .addAllTopics(java.util.List.of(topics))));
  }

  @Test
  void R9_clusterWideSlotLimit() {
    CoordinatorTestContext ctx = new CoordinatorTestContext(limits(LimitsRecord.newBuilder().setMaxSlots(12)))
        .withTopic("t", 4).withTopic("u", 6);
    ok(createGroup(ctx, "g", "t", "u")); // 10 slots
    Result second = createGroup(ctx, "h", "t");
    assertEquals(Code.LIMIT_EXCEEDED, second.getCode(), "10 + 4 > 12");
    assertTrue(second.getMessage().contains("at most 12"), second.getMessage());
    assertEquals(10, ctx.clusterInfo().getSlots());

    ok(ctx.split("t", 0)); // +2 slots in g: 12
    assertEquals(12, ctx.clusterInfo().getSlots());
    assertEquals(Code.LIMIT_EXCEEDED, ctx.split("t", 1).getCode(), "a split past the slot limit");
    assertEquals(Code.LIMIT_EXCEEDED, ctx.apply(Command.newBuilder().setMergePartitions(MergePartitions.newBuilder()
        .setTopic("u").setPartition1(0).setPartition2(1))).getCode(), "a merge past it");
    ok(ctx.apply(Command.newBuilder().setDeleteGroup(DeleteGroup.newBuilder().setGroup("g"))));
    assertEquals(0, ctx.clusterInfo().getSlots(), "a deleted group frees its slots");
    ok(createGroup(ctx, "h", "t")); // 6 slots (t has 6 partitions now)
    Result add = ctx.apply(Command.newBuilder().setUpdateGroup(UpdateGroup.newBuilder().setGroup("h").addAddTopics("u")
        .addAddTopics("t")));
    ok(add); // 6 + 6 = 12, t already read
    assertEquals(12, ctx.clusterInfo().getSlots());
  }

  @Test
  void R9_aSplitCountsOnceForEveryGroupReadingTheTopic() {
    CoordinatorTestContext ctx = new CoordinatorTestContext(limits(LimitsRecord.newBuilder().setMaxSlots(9)))
        .withTopic("t", 3);
    ok(createGroup(ctx, "g", "t"));
    ok(createGroup(ctx, "h", "t")); // 6
    assertEquals(Code.LIMIT_EXCEEDED, ctx.split("t", 0).getCode(), "6 + 2 x 2 > 9");
    assertEquals(6, ctx.clusterInfo().getSlots());
  }

  @Test
  void R9_clusterWideMemberLimit() {
    CoordinatorTestContext ctx = new CoordinatorTestContext(limits(LimitsRecord.newBuilder().setMaxMembers(2)))
        .withTopic("t", 2).withGroup("g", "t").withGroup("h", "t");
    ctx.heartbeat("g", "A");
    ctx.heartbeat("h", "B");
    Result third = ctx.heartbeatResult("h", "C");
    assertEquals(Code.LIMIT_EXCEEDED, third.getCode());
    assertEquals(2, ctx.clusterInfo().getMembers());
    ctx.restart("g", "A"); // a takeover is not a new member
    ok(ctx.leave("h", "B"));
    ctx.heartbeat("h", "C");
    ctx.advanceMs(10_001);
    ctx.tick();
    assertEquals(0, ctx.clusterInfo().getMembers(), "expiry counts down too");
  }

  @Test
  void R9_aHeartbeatListsAtMostMaxHeldPartitions() {
    CoordinatorTestContext ctx = new CoordinatorTestContext(limits(LimitsRecord.newBuilder().setMaxHeldPerHeartbeat(2)))
        .withTopic("t", 3).withGroup("g", "t");
    Heartbeat.Builder hb = Heartbeat.newBuilder().setGroup("g").setConsumerId("A");
    for (int p = 0; p < 3; p++) {
      hb.addHeld(PartitionRef.newBuilder().setTopic("t").setPartition(p));
    }
    Command c = Command.newBuilder().setHeartbeat(hb).build();
    Result refused = Coordinator.validate(c, c.getSerializedSize(), ctx.coordinator.limits());
    assertEquals(Code.LIMIT_EXCEEDED, refused.getCode(), "refused before the log");
    assertEquals(Code.LIMIT_EXCEEDED, ctx.apply(c.toBuilder()).getCode(), "and by apply");
    assertTrue(ctx.members("g").isEmpty());
  }

  /**
   * Apply checks the command's size as it was logged (what the leader measured before appending),
   * not as it would encode again: bytes a client padded with a repeated field count, on every
   * replica alike.
   */
  @Test
  void R9_applyMeasuresTheCommandAsLogged() {
    CoordinatorTestContext ctx = new CoordinatorTestContext().withTopic("t", 2);
    int max = ctx.coordinator.limits().maxCommandBytes();
    Command c = Command.newBuilder().setCreateGroup(CreateGroup.newBuilder().setGroup("g").addTopics("t")).build();
    assertTrue(c.getSerializedSize() < 100);
    Result refused = ctx.coordinator.apply(c, max + 1, ++ctx.index, ctx.term,
        TestStamps.as(Principals.INTERNAL, ctx.nowMs, ctx.index));
    assertEquals(Code.LIMIT_EXCEEDED, refused.getCode(), refused.getMessage());
    // created now, so the refusal created nothing (else ALREADY_EXISTS)
    ok(ctx.coordinator.apply(c, max, ++ctx.index, ctx.term, TestStamps.as(Principals.INTERNAL, ctx.nowMs, ctx.index)));
  }

  /**
   * The leader's apply skips the stateless checks only under the very limits its admission passed;
   * a command admitted before the limits changed is checked again, and refused like on followers.
   */
  @Test
  void R9_aCommandAdmittedUnderOlderLimitsIsCheckedAgainByApply() {
    CoordinatorTestContext ctx = new CoordinatorTestContext().withTopic("t", 2);
    Limits admittedUnder = ctx.coordinator.limits();
    Heartbeat.Builder hb = Heartbeat.newBuilder().setGroup("g").setConsumerId("A");
    for (int p = 0; p < 2; p++) {
      hb.addHeld(PartitionRef.newBuilder().setTopic("t").setPartition(p));
    }
    Command c = Command.newBuilder().setHeartbeat(hb).build();
    assertEquals(null, Coordinator.validate(c, c.getSerializedSize(), admittedUnder), "valid when admitted");
    ok(createGroup(ctx, "g", "t"));
    ok(ctx.apply(Command.newBuilder().setSetLimits(io.cohort.statemachine.proto.SetLimits.newBuilder()
        .setLimits(LimitsRecord.newBuilder().setMaxHeldPerHeartbeat(1)))));
    Result r = ctx.coordinator.apply(c, c.getSerializedSize(), admittedUnder, ++ctx.index, ctx.term,
        TestStamps.as(Principals.INTERNAL, ctx.nowMs, ctx.index));
    assertEquals(Code.LIMIT_EXCEEDED, r.getCode(), r.getMessage());
    assertTrue(ctx.members("g").isEmpty(), "nothing applied");
  }

  @Test
  void R9_countsAreDerivedAgainOnRebuild() {
    CoordinatorTestContext ctx = new CoordinatorTestContext().withTopic("t", 5).withTopic("u", 3)
        .withGroup("g", "t", "u").withOrderedGroup("h", "t").withMember("g", "A").withMember("h", "B");
    ok(ctx.split("t", 2));
    Coordinator rebuilt = Coordinator.rebuild(CoordinatorTestContext.records(ctx.coordinator).iterator(),
        Limits.DEFAULTS);
    var info = ctx.clusterInfo();
    assertEquals(8 + 2 + 5 + 2, info.getSlots());
    assertEquals(2, info.getMembers());
    assertEquals(2, info.getGroups());
    assertEquals(info, rebuilt.query(io.cohort.statemachine.proto.Query.newBuilder().setClusterInfo(
        io.cohort.statemachine.proto.ClusterInfoQuery.getDefaultInstance()).build(), Principals.INTERNAL).getClusterInfo());
  }
}
