package io.cohort.statemachine;

import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Heartbeat;
import io.cohort.statemachine.proto.HeartbeatResult;
import io.cohort.statemachine.proto.PartitionRef;
import io.cohort.statemachine.proto.Renewal;
import io.cohort.statemachine.proto.Result;
import io.cohort.statemachine.proto.Tick;
import io.cohort.statemachine.proto.TickResult;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Heartbeats off the log (step 11): which heartbeat the leader may answer from its applied state
 * (one that would change nothing but the member's liveness), and the renewals its ticks carry.
 */
final class Liveness {
  private static final Comparator<PartitionRef> BY_SLOT_ORDER =
      Comparator.comparing(PartitionRef::getTopic).thenComparingInt(PartitionRef::getPartition);

  private Liveness() {}

  /**
   * Exactly what applying {@code hb} now would answer, when that apply would change nothing but
   * the member's last heartbeat and deadline and which of its grants are marked told; else
   * NEEDS_WRITE. Reads only. The caller ran the
   * stateless, permission and ownership checks, as apply does. {@code atMs} is the leader's time of
   * the answer: past the member's deadline it must go through the log (an expiry may be in flight).
   */
  static Result quiet(CoordinatorState state, Heartbeat hb, long atMs) {
    GroupState group = state.groups.get(hb.getGroup());
    if (group == null) {
      return Results.rejected(Code.NOT_FOUND, "group '" + hb.getGroup() + "' does not exist");
    }
    if (state.nowMs >= group.timersAtMs) {
      return needsWrite("a release or takeover deadline of the group may be due");
    }
    if (hb.getSessionToken().isEmpty()) {
      return needsWrite("a join");
    }
    MemberState member = group.members.get(hb.getConsumerId());
    Result problem = Membership.checkSession(group, member, hb.getConsumerId(), hb.getSessionToken());
    if (problem != null) {
      return problem;
    }
    if (hb.getCommitsCount() > 0 || hb.getErrorsCount() > 0) {
      return needsWrite("it carries commits or reader errors");
    }
    if (group.dirty) {
      return needsWrite("the group awaits a rebalance");
    }
    if (Math.max(atMs, state.nowMs) > member.deadlineMs()) {
      return needsWrite("the session's deadline passed: only the log may say whether it expired");
    }
    if (!listsWhatItHolds(group, member, hb.getHeldList())) {
      return needsWrite("its held list leaves out a grant it was told, or lists one it does not hold");
    }
    HeartbeatResult out = Membership.describeTo(group, member, HeartbeatResult.newBuilder(), List.of(), false);
    return Result.newBuilder().setCode(Code.OK).setHeartbeat(out).build();
  }

  /**
   * {@code held} lists each grant of the current session at most once, every grant already told or
   * asked back among them, and nothing else. A new grant may be missing: the answer tells it, as the
   * apply's would (the apply also marks it told, which only decides whether leaving it out of a
   * later held list releases it). At a group's first assignment every member takes its grants this
   * way instead of with one replicated heartbeat each, all within about a second (bench heartbeat:
   * a burst the log queued for ~20 s while sessions ran out).
   */
  private static boolean listsWhatItHolds(GroupState group, MemberState member, List<PartitionRef> held) {
    if (held.size() > member.held.size()) {
      return false;
    }
    List<PartitionRef> sorted = new ArrayList<>(held);
    sorted.sort(BY_SLOT_ORDER);
    int next = 0;
    for (Slot slot : member.held) { // sorted by (topic, partition), as `sorted`
      if (slot.oldSession) {
        continue;
      }
      if (next < sorted.size() && slot.topic.equals(sorted.get(next).getTopic())
          && slot.info.id == sorted.get(next).getPartition()) {
        if (group.slot(slot.topic, slot.info.id) != slot) {
          return false;
        }
        next++;
      } else if (slot.announced || slot.releasing) {
        return false; // not listed, and told or asked back: a release, through the log
      }
    }
    return next == sorted.size(); // anything left is not (or twice) a grant of this session
  }

  /**
   * Whether {@code hb} is from its member's current session, whose deadline has not passed at
   * {@code atMs}: a heartbeat the log must carry still shows that member alive. Reads only.
   */
  static boolean live(CoordinatorState state, Heartbeat hb, long atMs) {
    GroupState group = state.groups.get(hb.getGroup());
    MemberState member = group == null ? null : group.members.get(hb.getConsumerId());
    return member != null && !hb.getSessionToken().isEmpty() && member.session.equals(hb.getSessionToken())
        && Math.max(atMs, state.nowMs) <= member.deadlineMs();
  }

  private static Result needsWrite(String why) {
    return Results.rejected(Code.NEEDS_WRITE, "send it as a replicated heartbeat: " + why);
  }

  /**
   * A tick's renewals, before its expiry check: each member that still has the renewal's session
   * counts as heard at min(seen, now), as a heartbeat applied then would renew it; others are skipped.
   */
  static void renew(CoordinatorState state, Tick tick, TickResult.Builder out) {
    int renewed = 0;
    int skipped = 0;
    for (Renewal r : tick.getRenewalsList()) {
      GroupState group = state.groups.get(r.getGroup());
      MemberState member = group == null ? null : group.members.get(r.getConsumerId());
      if (member == null || !member.session.equals(r.getSessionToken())) {
        skipped++;
        continue;
      }
      long at = Math.min(r.getSeenAtMs(), state.nowMs);
      long session = r.getSessionTimeoutMs() > 0 ? Math.min(r.getSessionTimeoutMs(), Groups.MAX_SESSION_TIMEOUT_MS)
          : group.sessionTimeoutMs;
      member.lastHeartbeatMs = Math.max(member.lastHeartbeatMs, at);
      member.setDeadline(group, Math.max(member.deadlineMs(), at + session));
      renewed++;
    }
    out.setRenewed(renewed).setRenewalsSkipped(skipped);
  }
}
