package io.cohort.statemachine;

import static io.cohort.statemachine.CoordinatorTestContext.finished;
import static io.cohort.statemachine.CoordinatorTestContext.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cohort.statemachine.proto.CheckpointReset;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.GroupPartitionView;
import io.cohort.statemachine.proto.PartitionStatus;
import io.cohort.statemachine.proto.ResetCheckpoints;
import java.util.List;
import org.junit.jupiter.api.Test;

/** R5 with resets: a reset parent is never read beside its descendants. */
class LineageTest {

  /** order=true; 0 split into 1 and 2, 0 read to its end, 1 held by A and 2 by B. */
  private static CoordinatorTestContext childrenHeld() {
    CoordinatorTestContext ctx = new CoordinatorTestContext().withTopic("t", 1).withOrderedGroup("g", "t")
        .withMember("g", "A").withMember("g", "B");
    ok(ctx.split("t", 0));
    ctx.settle("g");
    ok(ctx.commit("g", "A", finished("t", 0, ctx.grant("g", "A", "t", 0).getEpoch(), "end")));
    ctx.settle("g");
    assertEquals("{A=[1], B=[2]}", ctx.assignment("g").toString());
    return ctx;
  }

  @Test
  void R5_aResetParentWaitsUntilNoDescendantIsHeld() {
    CoordinatorTestContext ctx = childrenHeld();
    ok(ctx.reset("g", "t", 0, "0"));

    GroupPartitionView parent = ctx.partition("g", "t", 0);
    assertFalse(parent.hasHolder(), "not granted while its children are read");
    assertEquals(PartitionStatus.WAITING_CHILDREN, parent.getStatus());
    assertEquals(List.of(1, 2), parent.getWaitingForList());
    for (int child : List.of(1, 2)) {
      GroupPartitionView p = ctx.partition("g", "t", child);
      assertEquals(PartitionStatus.RELEASING, p.getStatus(), "its holder is told to release");
      assertEquals(List.of(0), p.getWaitingForList());
    }

    assertEquals(1, ctx.heartbeat("g", "A").getReleaseCount());
    ctx.heartbeat("g", "A"); // A released 1; 2 is still read by B
    assertFalse(ctx.partition("g", "t", 0).hasHolder());
    assertEquals(List.of(2), ctx.partition("g", "t", 0).getWaitingForList());
    ctx.heartbeat("g", "B");
    ctx.heartbeat("g", "B"); // B released 2: the parent is granted on this very command
    assertTrue(ctx.partition("g", "t", 0).hasHolder());
    assertEquals(PartitionStatus.WAITING_PARENTS, ctx.partition("g", "t", 1).getStatus());
    ctx.settle("g");
    assertEquals(1, ctx.assignment("g").values().stream().mapToInt(s -> s.size()).sum(), ctx.assignment("g").toString());
  }

  @Test
  void R5_aBulkResetToTheEndOrDeleteWaitsForTheDescendantsToo() {
    for (CheckpointReset.Builder target : List.of(CheckpointReset.newBuilder().setToEnd(true),
        CheckpointReset.newBuilder().setDelete(true))) {
      CoordinatorTestContext ctx = childrenHeld();
      ok(ctx.apply(Command.newBuilder().setResetCheckpoints(ResetCheckpoints.newBuilder().setGroup("g")
          .addEntries(target.clone().setTopic("t").setPartition(0)))));
      assertEquals(PartitionStatus.WAITING_CHILDREN, ctx.partition("g", "t", 0).getStatus(), target.toString());
      ctx.settle("g");
      assertTrue(ctx.partition("g", "t", 0).hasHolder());
      assertFalse(ctx.partition("g", "t", 1).hasHolder());
      assertFalse(ctx.partition("g", "t", 2).hasHolder());
    }
  }

  @Test
  void R5_aResetGrandparentStopsItsGrandchildren() {
    CoordinatorTestContext ctx = childrenHeld();
    ok(ctx.split("t", 1)); // 1 -> 3, 4
    ctx.settle("g");
    ok(ctx.commit("g", "A", finished("t", 1, ctx.grant("g", "A", "t", 1).getEpoch(), "end")));
    ctx.settle("g");
    assertTrue(ctx.partition("g", "t", 3).hasHolder());
    ok(ctx.reset("g", "t", 0, "0"));
    for (int p : List.of(2, 3, 4)) {
      assertEquals(PartitionStatus.RELEASING, ctx.partition("g", "t", p).getStatus(), "partition " + p);
    }
    assertEquals(List.of(0), ctx.partition("g", "t", 3).getWaitingForList(), "the nearest unfinished ancestor");
    assertEquals(PartitionStatus.FINISHED, ctx.partition("g", "t", 1).getStatus());
    assertEquals(List.of(2, 3, 4), ctx.partition("g", "t", 0).getWaitingForList());
    ctx.settle("g");
    assertTrue(ctx.partition("g", "t", 0).hasHolder());
    for (int p : List.of(2, 3, 4)) {
      assertFalse(ctx.partition("g", "t", p).hasHolder(), "partition " + p);
    }
  }

  @Test
  void R5_aChildWhoseHolderNeverReleasesLosesItAfterTheReleaseTimeout() {
    CoordinatorTestContext ctx = childrenHeld();
    ok(ctx.reset("g", "t", 0, "0"));
    ctx.advanceMs(10_001);
    ctx.tick(); // A and B never heartbeat again... and their sessions ran out too: either way
    assertTrue(ctx.partition("g", "t", 0).hasHolder() || ctx.members("g").isEmpty());
    assertFalse(ctx.partition("g", "t", 1).hasHolder());
    assertFalse(ctx.partition("g", "t", 2).hasHolder());
  }
}
