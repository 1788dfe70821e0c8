package io.cohort.statemachine;

import static io.cohort.statemachine.CoordinatorTestContext.ok;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.CreateTopic;
import io.cohort.statemachine.proto.MemberView;
import io.cohort.statemachine.proto.Result;
import org.junit.jupiter.api.Test;

/**
 * A group's timers (a forming's end, a takeover's end, a release timeout) fire in the first entry
 * applied once they are due, whatever it touches, and a replica rebuilt from a snapshot fires the
 * same ones in the same entry as the replica that applied the log (R8): the state's bound over all
 * groups' timers is derived, and must never be later than a group's.
 */
class TimersTest {
  private final CoordinatorTestContext ctx = new CoordinatorTestContext().withTopic("t", 4);
  private int unrelated;

  /**
   * Applies an entry of no group (a new topic) here and on a replica rebuilt from this state, and
   * checks both exports agree after it.
   */
  private void anEntryOfNoGroupOnBothReplicas() {
    Coordinator rebuilt = Coordinator.rebuild(CoordinatorTestContext.records(ctx.coordinator).iterator(),
        Limits.DEFAULTS);
    CoordinatorTestContext replica = new CoordinatorTestContext(rebuilt, ctx.term, ctx.nowMs);
    Command.Builder c = Command.newBuilder().setCreateTopic(
        CreateTopic.newBuilder().setTopic("unrelated-" + unrelated++).setPartitions(1));
    ok(ctx.apply(c));
    ok(replica.apply(c));
    assertArrayEquals(ctx.exportBytes(), replica.exportBytes(),
        "R8: the replica that applied the log and the rebuilt one differ after entry " + ctx.index);
  }

  private boolean forming(String group) {
    return ctx.describe(group).getSummary().hasFormingUntilMs();
  }

  @Test
  void formingEndsFireInTheFirstEntryOnceDueOnEveryReplica() {
    for (int i = 1; i <= 3; i++) {
      ctx.withGroup(CoordinatorTestContext.group("g" + i, "t").setInitialRebalanceDelayMs(i * 1_000L));
      ctx.heartbeat("g" + i, "A");
    }
    ctx.advanceMs(999);
    anEntryOfNoGroupOnBothReplicas();
    assertTrue(forming("g1") && forming("g2") && forming("g3"), "nothing due yet");
    for (int i = 1; i <= 3; i++) {
      ctx.advanceMs(1_000);
      anEntryOfNoGroupOnBothReplicas();
      for (int j = 1; j <= 3; j++) {
        assertEquals(j > i, forming("g" + j), "after " + i + " s: g" + j + (j > i ? " forms" : " formed"));
      }
      Result quiet = ctx.quietHeartbeat("g" + i, "A");
      assertEquals(Code.OK, quiet.getCode(), "nothing due left: off the log: " + quiet.getMessage());
      assertEquals(4, quiet.getHeartbeat().getGrantsCount());
    }
  }

  @Test
  void aTakeoversEndFiresInTheFirstEntryOnceDueOnEveryReplica() {
    ctx.withGroup("g", "t").withMember("g", "A");
    ctx.restart("g", "A"); // a second process with A's id: A's grants wait for the first one's deadline
    MemberView a = ctx.describe("g").getMembers(0);
    assertFalse(a.getReplacedSessionId().isEmpty());
    while (ctx.nowMs + 1_000 <= a.getReplacedDeadlineMs()) {
      ctx.advanceMs(1_000);
      ctx.heartbeat("g", "A"); // the new session stays alive; no Tick is applied
    }
    ctx.advanceMs(a.getReplacedDeadlineMs() + 1 - ctx.nowMs);
    assertFalse(ctx.describe("g").getMembers(0).getReplacedSessionId().isEmpty(), "no entry since it fell due");
    anEntryOfNoGroupOnBothReplicas();
    assertEquals("", ctx.describe("g").getMembers(0).getReplacedSessionId(), "the takeover ended");
    Result quiet = ctx.quietHeartbeat("g", "A");
    assertEquals(Code.OK, quiet.getCode(), quiet.getMessage());
    assertEquals(4, quiet.getHeartbeat().getGrantsCount(), "the new session is told A's grants");
  }
}
