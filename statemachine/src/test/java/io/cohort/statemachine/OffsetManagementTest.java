package io.cohort.statemachine;

import static io.cohort.statemachine.CoordinatorTestContext.entry;
import static io.cohort.statemachine.CoordinatorTestContext.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cohort.statemachine.proto.CheckpointReset;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.Grant;
import io.cohort.statemachine.proto.HeartbeatResult;
import io.cohort.statemachine.proto.LimitsRecord;
import io.cohort.statemachine.proto.Query;
import io.cohort.statemachine.proto.ClusterInfoQuery;
import io.cohort.statemachine.proto.ResetCheckpoints;
import io.cohort.statemachine.proto.Result;
import io.cohort.statemachine.proto.SetLimits;
import io.cohort.statemachine.proto.StartFrom;
import org.junit.jupiter.api.Test;

/** Step 7's bulk reset and delete (R3, all or none) and R9's replicated limits. */
class OffsetManagementTest {

  private static CheckpointReset.Builder at(String topic, int partition) {
    return CheckpointReset.newBuilder().setTopic(topic).setPartition(partition);
  }

  private static Result resetAll(CoordinatorTestContext ctx, String group, CheckpointReset.Builder... entries) {
    ResetCheckpoints.Builder r = ResetCheckpoints.newBuilder().setGroup(group);
    for (CheckpointReset.Builder e : entries) {
      r.addEntries(e);
    }
    return ctx.apply(Command.newBuilder().setResetCheckpoints(r));
  }

  private static Grant grant(HeartbeatResult hb, int partition) {
    return hb.getGrantsList().stream().filter(g -> g.getPartition() == partition).findFirst().orElseThrow();
  }

  @Test
  void R3_bulkResetFencesEveryHolderAndTheyRestartFromTheNewPositions() {
    CoordinatorTestContext ctx = new CoordinatorTestContext().withTopic("t", 3).withGroup("g", "t")
        .withMember("g", "A");
    HeartbeatResult before = ctx.heartbeat("g", "A");
    long oldEpoch = grant(before, 0).getEpoch();
    ok(ctx.commit("g", "A", "t", 0, "10"));
    ok(ctx.commit("g", "A", "t", 1, "20"));

    Result r = ok(resetAll(ctx, "g", at("t", 0).setCursor("\"5\""), at("t", 1).setDelete(true),
        at("t", 2).setToEnd(true)));
    assertEquals(3, r.getReset().getEpochsCount());
    long epoch = r.getReset().getEpochs(0);
    assertTrue(epoch > oldEpoch);

    // The old epoch is fenced: a late commit from before the reset changes nothing.
    Result late = ctx.commit("g", "A", entry("t", 0, oldEpoch, "11"));
    assertEquals(Code.FENCED, late.getCommit().getCodes(0));

    HeartbeatResult after = ctx.heartbeat("g", "A");
    assertEquals("\"5\"", grant(after, 0).getCursor(), "the cursor is stored byte for byte");
    assertEquals(epoch, grant(after, 0).getEpoch());
    assertFalse(grant(after, 1).hasCursor(), "deleted: the group's start position");
    assertEquals(StartFrom.BEGIN, grant(after, 1).getStartFrom());
    assertFalse(grant(after, 2).hasCursor(), "to the end: no cursor");
    assertEquals(StartFrom.END, grant(after, 2).getStartFrom());
    assertTrue(ctx.partition("g", "t", 2).getCheckpoint().getAtEnd());
  }

  @Test
  void R3_aBulkResetWithOneUnknownPartitionChangesNothing() {
    CoordinatorTestContext ctx = new CoordinatorTestContext().withTopic("t", 2).withGroup("g", "t")
        .withMember("g", "A");
    ctx.heartbeat("g", "A");
    ok(ctx.commit("g", "A", "t", 0, "10"));
    var before = CoordinatorTestContext.records(ctx.coordinator);

    Result r = resetAll(ctx, "g", at("t", 0).setCursor("0"), at("t", 7).setCursor("0"));
    assertEquals(Code.NOT_FOUND, r.getCode());
    assertTrue(r.getMessage().contains("t/7"), r.getMessage());
    Result twice = resetAll(ctx, "g", at("t", 0).setCursor("0"), at("t", 0).setDelete(true));
    assertEquals(Code.INVALID_ARGUMENT, twice.getCode());
    Result noTarget = resetAll(ctx, "g", at("t", 0));
    assertEquals(Code.INVALID_ARGUMENT, noTarget.getCode());

    // The header carries the applied index, which moves with every command, refused or not.
    var after = CoordinatorTestContext.records(ctx.coordinator);
    assertEquals(before.subList(1, before.size()), after.subList(1, after.size()), "nothing changed");
  }

  @Test
  void R9_limitsAreReplicatedStateChangedOnlyBySetLimitsAndSurviveASnapshot() {
    CoordinatorTestContext ctx = new CoordinatorTestContext();
    assertFalse(ctx.coordinator.limitsExplicit());
    ok(ctx.apply(Command.newBuilder().setSetLimits(SetLimits.newBuilder()
        .setLimits(LimitsRecord.newBuilder().setMaxGroups(1)))));
    assertTrue(ctx.coordinator.limitsExplicit());
    assertEquals(1, ctx.coordinator.limits().maxGroups());
    assertEquals(Limits.DEFAULTS.maxTopics(), ctx.coordinator.limits().maxTopics(), "unset fields keep their values");

    ctx.withTopic("t", 1).withGroup("g", "t");
    Result second = ctx.apply(Command.newBuilder().setCreateGroup(CoordinatorTestContext.group("h", "t")));
    assertEquals(Code.LIMIT_EXCEEDED, second.getCode());

    Coordinator rebuilt = Coordinator.rebuild(CoordinatorTestContext.records(ctx.coordinator).iterator(),
        Limits.DEFAULTS);
    assertEquals(ctx.coordinator.limits(), rebuilt.limits());
    assertTrue(rebuilt.limitsExplicit());
    assertEquals(1, rebuilt.query(Query.newBuilder().setClusterInfo(ClusterInfoQuery.getDefaultInstance())
        .build(), Principals.INTERNAL).getClusterInfo().getLimits().getMaxGroups());
  }

  @Test
  void R9_invalidLimitsAreRefusedAndChangeNothing() {
    CoordinatorTestContext ctx = new CoordinatorTestContext();
    Result zero = ctx.apply(Command.newBuilder().setSetLimits(SetLimits.newBuilder()
        .setLimits(LimitsRecord.newBuilder().setMaxGroups(0))));
    assertEquals(Code.INVALID_ARGUMENT, zero.getCode());
    Result tiny = ctx.apply(Command.newBuilder().setSetLimits(SetLimits.newBuilder()
        .setLimits(LimitsRecord.newBuilder().setMaxCommandBytes(100))));
    assertEquals(Code.INVALID_ARGUMENT, tiny.getCode());
    assertEquals(Limits.DEFAULTS, ctx.coordinator.limits());
    assertFalse(ctx.coordinator.limitsExplicit());
  }
}
