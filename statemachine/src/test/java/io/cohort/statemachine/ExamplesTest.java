package io.cohort.statemachine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cohort.statemachine.proto.CheckpointEntry;
import io.cohort.statemachine.proto.GroupPartitionView;
import io.cohort.statemachine.proto.PartitionStatus;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** The seed's three examples (DESIGN.md E1–E3), with their exact outcomes. */
class ExamplesTest {

  private static Map<String, TreeSet<Integer>> of(Object... pairs) {
    Map<String, TreeSet<Integer>> out = new java.util.LinkedHashMap<>();
    for (int i = 0; i < pairs.length; i += 2) {
      out.put((String) pairs[i], new TreeSet<>((List<Integer>) pairs[i + 1]));
    }
    return out;
  }

  @Test
  void E1_splitChildGoesToParentHolderAndBalanceGivesTheOtherToA() {
    CoordinatorTestContext ctx = new CoordinatorTestContext().withTopic("logs", 4).withGroup("g", "logs")
        .withMember("g", "A").withMember("g", "B");
    assertEquals(of("A", List.of(0, 1), "B", List.of(2, 3)), ctx.assignment("g"));

    CoordinatorTestContext.ok(ctx.split("logs", 3));
    ctx.settle("g");

    // B keeps its two and receives one child; A receives the other: three each.
    assertEquals(of("A", List.of(0, 1, 5), "B", List.of(2, 3, 4)), ctx.assignment("g"));
  }

  @Test
  void E2_newConsumerTakesExactlyOnePartitionFromEach() {
    CoordinatorTestContext ctx = new CoordinatorTestContext().withTopic("logs", 6).withGroup("g", "logs")
        .withMember("g", "A").withMember("g", "B");
    assertEquals(of("A", List.of(0, 1, 2), "B", List.of(3, 4, 5)), ctx.assignment("g"));

    ctx.heartbeat("g", "C");
    // C waits while A and B are asked to hand over one partition each (R2): nothing granted yet.
    assertEquals(Set.of(), ctx.assignment("g").get("C"));
    assertEquals("C", ctx.partition("g", "logs", 2).getTarget());
    assertEquals("C", ctx.partition("g", "logs", 3).getTarget());
    ctx.settle("g");

    // The seed, numbering from 1, shows partitions 3 and 4 moving to C.
    assertEquals(of("A", List.of(0, 1), "B", List.of(4, 5), "C", List.of(2, 3)), ctx.assignment("g"));
  }

  @Test
  void E3_orderedChildrenWaitForTheirParentThenAreReadInParallel() {
    CoordinatorTestContext ctx = new CoordinatorTestContext().withTopic("logs", 3)
        .withOrderedGroup("g", "logs").withMember("g", "A").withMember("g", "B");
    assertEquals(of("A", List.of(0, 1), "B", List.of(2)), ctx.assignment("g"));

    CoordinatorTestContext.ok(ctx.split("logs", 2));
    ctx.settle("g");
    for (int child : List.of(3, 4)) {
      GroupPartitionView p = ctx.partition("g", "logs", child);
      assertFalse(p.hasHolder(), "child " + child + " granted before its parent finished");
      assertEquals(PartitionStatus.WAITING_PARENTS, p.getStatus());
      assertEquals(List.of(2), p.getWaitingForList());
    }

    long epoch = ctx.consumer("g", "B").held.get("logs/2").getEpoch();
    CoordinatorTestContext.ok(ctx.commit("g", "B", CheckpointEntry.newBuilder().setTopic("logs")
        .setPartition(2).setEpoch(epoch).setCursor("end").setFinished(true).build()));

    // Granted on the very command that finished the parent, both at once.
    assertEquals(PartitionStatus.FINISHED, ctx.partition("g", "logs", 2).getStatus());
    assertTrue(ctx.partition("g", "logs", 3).hasHolder());
    assertTrue(ctx.partition("g", "logs", 4).hasHolder());
    ctx.settle("g");
    assertEquals(of("A", List.of(0, 1), "B", List.of(3, 4)), ctx.assignment("g"));
  }
}
