package io.cohort.statemachine;

import static io.cohort.statemachine.CoordinatorTestContext.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import com.google.protobuf.ByteString;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.DeleteGroup;
import io.cohort.statemachine.proto.GrantAccess;
import io.cohort.statemachine.proto.HeartbeatResult;
import io.cohort.statemachine.proto.Role;
import io.cohort.statemachine.proto.WatchResult;
import org.junit.jupiter.api.Test;

/** R12: the view a watch compares is the one the member's last heartbeat told it. */
class WatchViewTest {

  private static CoordinatorTestContext twoPartitionsHeldByA() {
    return new CoordinatorTestContext().withTopic("t", 2)
        .withGroup(CoordinatorTestContext.group("g", "t").setSessionTimeoutMs(3_000).setHeartbeatIntervalMs(1_000))
        .withMember("g", "A");
  }

  private static WatchResult watch(CoordinatorTestContext ctx, String consumer) {
    ByteString session = ctx.consumer("g", consumer).session;
    return ctx.coordinator.watch("g", consumer, session, Principals.INTERNAL);
  }

  private static long lastView(CoordinatorTestContext ctx, String consumer) {
    return AssignmentView.of(ctx.consumer("g", consumer).last);
  }

  @Test
  void R12_theStateAndTheLastHeartbeatAgreeWhileNothingChangesForTheMember() {
    CoordinatorTestContext ctx = twoPartitionsHeldByA();
    HeartbeatResult r = ctx.heartbeat("g", "A");
    assertEquals(2, r.getGrantsCount());
    WatchResult w = watch(ctx, "A");
    assertEquals(Code.OK, w.getCode());
    assertEquals(AssignmentView.of(r), w.getView());
    ctx.advanceMs(500);
    ctx.heartbeat("g", "A");
    ctx.tick();
    assertEquals(AssignmentView.of(r), watch(ctx, "A").getView(), "renewals and ticks change nothing it sees");
  }

  @Test
  void R12_aReleaseAskedOfTheHolderAndThenTheGrantReadyForTheNewMemberChangeTheirViews() {
    CoordinatorTestContext ctx = twoPartitionsHeldByA();
    ctx.heartbeat("g", "A");
    long aBefore = lastView(ctx, "A");
    HeartbeatResult b = ctx.heartbeat("g", "B"); // joins: nothing free, A is asked to release one
    assertEquals(0, b.getGrantsCount());
    assertNotEquals(aBefore, watch(ctx, "A").getView(), "a release asked of A");
    assertEquals(AssignmentView.of(b), watch(ctx, "B").getView(), "nothing for B yet");

    HeartbeatResult a = ctx.heartbeat("g", "A"); // told to release
    assertEquals(1, a.getReleaseCount());
    assertEquals(AssignmentView.of(a), watch(ctx, "A").getView(), "A knows now");
    ctx.heartbeat("g", "A"); // released (omitted)
    assertNotEquals(AssignmentView.of(b), watch(ctx, "B").getView(), "a grant ready for B");
    HeartbeatResult b2 = ctx.heartbeat("g", "B");
    assertEquals(1, b2.getGrantsCount());
    assertEquals(AssignmentView.of(b2), watch(ctx, "B").getView());
  }

  @Test
  void R12_aFencedSessionAnExpiredMemberAndADeletedGroupAreToldAtOnce() {
    CoordinatorTestContext ctx = twoPartitionsHeldByA();
    CoordinatorTestContext.ConsumerView old = ctx.restart("g", "A");
    assertEquals(Code.FENCED, ctx.coordinator.watch("g", "A", old.session, Principals.INTERNAL).getCode());

    ctx.advanceMs(10_000);
    ctx.tick();
    assertEquals(Code.UNKNOWN_MEMBER, watch(ctx, "A").getCode());

    ok(ctx.apply(Command.newBuilder().setDeleteGroup(DeleteGroup.newBuilder().setGroup("g").setForce(true))));
    assertEquals(Code.NOT_FOUND, watch(ctx, "A").getCode());
  }

  @Test
  void R11_aWatchOnAGroupThePrincipalMayNotConsumeIsRefused() {
    CoordinatorTestContext ctx = twoPartitionsHeldByA();
    ByteString session = ctx.consumer("g", "A").session;
    assertEquals(Code.PERMISSION_DENIED, ctx.coordinator.watch("g", "A", session, "mallory").getCode());
    ok(ctx.apply(Command.newBuilder().setGrantAccess(GrantAccess.newBuilder().setPrincipal("bob")
        .setRole(Role.CONSUMER).addGroups("other"))));
    assertEquals(Code.PERMISSION_DENIED, ctx.coordinator.watch("g", "A", session, "bob").getCode());
    ok(ctx.apply(Command.newBuilder().setGrantAccess(GrantAccess.newBuilder().setPrincipal("carol")
        .setRole(Role.CONSUMER).addGroups("g"))));
    assertEquals(Code.PERMISSION_DENIED, ctx.coordinator.watch("g", "A", session, "carol").getCode(),
        "carol may consume g but consumer id A belongs to the principal that joined with it");
  }
}
