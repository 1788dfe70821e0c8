package io.cohort.statemachine;

import static io.cohort.statemachine.CoordinatorTestContext.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

  /** Collects the members the coordinator reports as touched (grants, release timeouts, the rest). */
  private static final class Touched implements CoordinatorEvents {
    final java.util.Set<String> ids = new java.util.HashSet<>();

    @Override
    public void granted(String group, String topic, int partition, String consumer, long epoch, long handoffMs) {
      ids.add(consumer);
    }

    @Override
    public void releaseTimedOut(String group, String topic, int partition, String holder, long epoch) {
      ids.add(holder);
    }

    @Override
    public void memberTouched(String group, String consumerId) {
      ids.add(consumerId);
    }
  }

  /** One consumer process: its id and what it was told. */
  private record Proc(String id, CoordinatorTestContext.ConsumerView view) {}

  /**
   * The watch service looks only at reported members after heartbeats, commits, leaves and ticks:
   * any member whose view changed through another process's command (or a tick) must have been
   * reported. Random joins, renewals, restarts (takeovers), leaves, silences (expiry) and ticks.
   */
  @Test
  void R12_everyViewChangeCausedByAnotherProcessOrATickIsReported() {
    for (long seed = 1; seed <= 30; seed++) {
      java.util.Random rnd = new java.util.Random(seed);
      CoordinatorTestContext ctx = new CoordinatorTestContext().withTopic("t", 6)
          .withGroup(CoordinatorTestContext.group("g", "t").setSessionTimeoutMs(3_000).setHeartbeatIntervalMs(1_000));
      Touched touched = new Touched();
      ctx.coordinator.observe(touched);
      java.util.List<Proc> procs = new java.util.ArrayList<>();
      String[] ids = {"A", "B", "C", "D"};
      for (int step = 0; step < 300; step++) {
        java.util.Map<Proc, WatchResult> before = new java.util.HashMap<>();
        java.util.Map<Proc, ByteString> sessions = new java.util.HashMap<>();
        for (Proc p : procs) {
          sessions.put(p, p.view().session);
          before.put(p, ctx.coordinator.watch("g", p.id(), p.view().session, Principals.INTERNAL));
        }
        touched.ids.clear();
        Proc sender = null;
        int action = rnd.nextInt(10);
        if (action < 5 && !procs.isEmpty()) { // a renewal (it obeys releases)
          sender = procs.get(rnd.nextInt(procs.size()));
          var r = ctx.heartbeatResult(sender.view(), "g", sender.id());
          if (r.getCode() == Code.UNKNOWN_MEMBER || r.getCode() == Code.FENCED) {
            procs.remove(sender);
          }
        } else if (action < 7) { // a new process joins (a takeover if the id is a member)
          sender = new Proc(ids[rnd.nextInt(ids.length)], new CoordinatorTestContext.ConsumerView());
          ok(ctx.heartbeatResult(sender.view(), "g", sender.id()));
          procs.add(sender);
        } else if (action < 8 && !procs.isEmpty()) {
          sender = procs.remove(rnd.nextInt(procs.size()));
          ctx.apply(Command.newBuilder().setLeave(io.cohort.statemachine.proto.Leave.newBuilder().setGroup("g")
              .setConsumerId(sender.id()).setSessionToken(sender.view().session)));
        } else {
          ctx.advanceMs(rnd.nextInt(1_500));
          ctx.tick();
        }
        for (Proc p : before.keySet()) {
          if (sender != null && p.id().equals(sender.id()) && p.view().session.equals(sender.view().session)) {
            continue; // the sender learns its own changes from its answer
          }
          WatchResult after = ctx.coordinator.watch("g", p.id(), sessions.get(p), Principals.INTERNAL);
          WatchResult was = before.get(p);
          // only an OK view is ever parked: any other code is answered at once
          if (was.getCode() == Code.OK && (after.getCode() != Code.OK || after.getView() != was.getView())) {
            assertTrue(touched.ids.contains(p.id()), "seed " + seed + " step " + step + ": " + p.id() + " went from "
                + was.getCode() + "/" + was.getView() + " to " + after.getCode() + "/" + after.getView()
                + " unreported (reported: " + touched.ids + ")");
          }
        }
      }
    }
  }
}
