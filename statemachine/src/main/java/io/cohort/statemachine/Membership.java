package io.cohort.statemachine;

import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Grant;
import io.cohort.statemachine.proto.Heartbeat;
import io.cohort.statemachine.proto.HeartbeatResult;
import io.cohort.statemachine.proto.Leave;
import io.cohort.statemachine.proto.PartitionRef;
import io.cohort.statemachine.proto.Result;
import io.cohort.statemachine.proto.TickResult;
import java.util.ArrayList;
import java.util.List;

/** Join, renew, take over, leave and expire members (R1, R6, R7), and what a heartbeat returns. */
final class Membership {
  /** The interval suggested while a handoff involves the member (R1). */
  static final long HANDOFF_INTERVAL_MS = 100;

  private final CoordinatorState state;
  private final Checkpoints checkpoints;

  Membership(CoordinatorState state, Checkpoints checkpoints) {
    this.state = state;
    this.checkpoints = checkpoints;
  }

  /** Null when the session is the member's current one, else the rejection. */
  static Result checkSession(GroupState group, MemberState member, String consumerId, long session) {
    if (member == null) {
      return Results.rejected(Code.UNKNOWN_MEMBER, "consumer '" + consumerId + "' is not a member of group '"
          + group.name + "' (expired or left): join again");
    }
    if (member.session != session) {
      return Results.rejected(Code.FENCED, "session " + session + " of consumer '" + consumerId
          + "' was replaced by session " + member.session);
    }
    return null;
  }

  Result heartbeat(Heartbeat hb, long index) {
    GroupState group = state.groups.get(hb.getGroup());
    if (group == null) {
      return Results.rejected(Code.NOT_FOUND, "group '" + hb.getGroup() + "' does not exist");
    }
    if (hb.getCommitsCount() > state.limits.maxEntriesPerCommand()) {
      return Results.rejected(Code.LIMIT_EXCEEDED, "a heartbeat carries at most "
          + state.limits.maxEntriesPerCommand() + " commits, got " + hb.getCommitsCount());
    }
    String consumerId = hb.getConsumerId();
    MemberState member = group.members.get(consumerId);
    boolean joining = hb.getSession() == 0;
    if (joining) {
      String problem = Names.problem("consumer", consumerId);
      if (problem != null) {
        return Results.rejected(Code.INVALID_ARGUMENT, problem);
      }
      if (member == null && group.members.size() >= state.limits.maxMembersPerGroup()) {
        return Results.rejected(Code.LIMIT_EXCEEDED, "group '" + group.name + "' has the maximum of "
            + state.limits.maxMembersPerGroup() + " members");
      }
      member = member == null ? join(group, consumerId, index) : takeOver(group, member, index);
    } else {
      Result problem = checkSession(group, member, consumerId, hb.getSession());
      if (problem != null) {
        return problem;
      }
    }

    HeartbeatResult.Builder out = HeartbeatResult.newBuilder();
    checkpoints.applyAll(group, member, hb.getCommitsList(), out::addCommitCodes);
    renew(group, member);
    List<PartitionRef> notHeld = reconcileHeld(group, member, hb.getHeldList(), joining);
    if (group.dirty) {
      Assignor.rebalance(group, index);
    }
    return Result.newBuilder().setCode(Code.OK)
        .setHeartbeat(describeTo(group, member, out, notHeld)).build();
  }

  private MemberState join(GroupState group, String consumerId, long index) {
    MemberState member = new MemberState(consumerId);
    member.session = index;
    group.members.put(consumerId, member);
    group.dirty = true;
    return member;
  }

  /** Static membership: the newer session fences the older and keeps its grants, with new epochs. */
  private MemberState takeOver(GroupState group, MemberState member, long index) {
    member.session = index;
    for (Slot slot : new ArrayList<>(member.held)) {
      if (slot.releasing) {
        group.clearHolder(slot); // it was leaving this member anyway; the new process never read it
      } else {
        slot.epoch = index;
        slot.cachedGrant = null;
        slot.announced = false;
      }
    }
    group.dirty = true;
    return member;
  }

  private void renew(GroupState group, MemberState member) {
    member.lastHeartbeatMs = state.nowMs;
    member.deadlineMs = state.nowMs + group.sessionTimeoutMs;
  }

  /**
   * A grant the member was told about and now omits is released (R2). Claimed partitions it does
   * not hold are returned, so the result tells it to drop them.
   */
  private List<PartitionRef> reconcileHeld(GroupState group, MemberState member,
      List<PartitionRef> held, boolean joining) {
    List<PartitionRef> notHeld = null;
    int matched = 0;
    for (int i = 0, n = held.size(); i < n; i++) {
      PartitionRef ref = held.get(i);
      Slot slot = group.slot(ref.getTopic(), ref.getPartition());
      if (slot != null && slot.holder == member) {
        matched++;
      } else {
        if (notHeld == null) {
          notHeld = new ArrayList<>();
        }
        notHeld.add(ref);
      }
    }
    if (!joining && matched < member.held.size()) {
      for (Slot slot : new ArrayList<>(member.held)) {
        if (slot.announced && !contains(held, slot)) {
          group.clearHolder(slot);
        }
      }
    }
    return notHeld == null ? List.of() : notHeld;
  }

  private static boolean contains(List<PartitionRef> refs, Slot slot) {
    for (int i = 0, n = refs.size(); i < n; i++) {
      PartitionRef ref = refs.get(i);
      if (ref.getPartition() == slot.info.id && ref.getTopic().equals(slot.topic)) {
        return true;
      }
    }
    return false;
  }

  private HeartbeatResult describeTo(GroupState group, MemberState member,
      HeartbeatResult.Builder out, List<PartitionRef> notHeld) {
    boolean handoff = member.incoming > 0;
    for (int i = 0, n = member.held.size(); i < n; i++) {
      Slot slot = member.held.get(i);
      out.addGrants(grantOf(group, slot));
      slot.announced = true;
      if (slot.releasing) {
        out.addRelease(PartitionRef.newBuilder().setTopic(slot.topic).setPartition(slot.info.id));
        handoff = true;
      }
    }
    for (PartitionRef ref : notHeld) {
      out.addRelease(ref);
    }
    long interval = handoff ? Math.min(HANDOFF_INTERVAL_MS, group.heartbeatIntervalMs)
        : group.heartbeatIntervalMs;
    return out.setSession(member.session).setNextHeartbeatMs(interval)
        .setSessionTimeoutMs(group.sessionTimeoutMs).build();
  }

  static Grant grantOf(GroupState group, Slot slot) {
    Grant grant = slot.cachedGrant;
    if (grant == null) {
      Grant.Builder b = Grant.newBuilder().setTopic(slot.topic).setPartition(slot.info.id)
          .setEpoch(slot.epoch).setStartFrom(group.startFrom).setState(slot.info.state);
      if (slot.checkpoint != null && slot.checkpoint.atEnd()) {
        b.setStartFrom(io.cohort.statemachine.proto.StartFrom.END); // reset to the end: no cursor
      } else if (slot.checkpoint != null) {
        b.setCursor(slot.checkpoint.cursor());
      }
      if (slot.info.endCursor != null) {
        b.setEndCursor(slot.info.endCursor);
      }
      grant = b.build();
      slot.cachedGrant = grant;
    }
    return grant;
  }

  Result leave(Leave leave, long index) {
    GroupState group = state.groups.get(leave.getGroup());
    if (group == null) {
      return Results.rejected(Code.NOT_FOUND, "group '" + leave.getGroup() + "' does not exist");
    }
    if (leave.getCommitsCount() > state.limits.maxEntriesPerCommand()) {
      return Results.rejected(Code.LIMIT_EXCEEDED, "a leave carries at most "
          + state.limits.maxEntriesPerCommand() + " commits, got " + leave.getCommitsCount());
    }
    MemberState member = group.members.get(leave.getConsumerId());
    Result problem = checkSession(group, member, leave.getConsumerId(), leave.getSession());
    if (problem != null) {
      return problem;
    }
    io.cohort.statemachine.proto.CommitResult.Builder codes =
        io.cohort.statemachine.proto.CommitResult.newBuilder();
    checkpoints.applyAll(group, member, leave.getCommitsList(), codes::addCodes);
    group.removeMember(member);
    Assignor.rebalance(group, index);
    return Result.newBuilder().setCode(Code.OK)
        .setMessage("consumer '" + member.consumerId + "' left group '" + group.name + "'")
        .setCommit(codes).build();
  }

  /** R7: removes every member whose deadline passed; their grants go to the others. */
  TickResult expire(long index) {
    TickResult.Builder out = TickResult.newBuilder();
    for (GroupState group : state.groups.values()) {
      List<MemberState> dead = null;
      for (MemberState m : group.members.values()) {
        if (state.nowMs > m.deadlineMs) {
          if (dead == null) {
            dead = new ArrayList<>();
          }
          dead.add(m);
        }
      }
      if (dead != null) {
        for (MemberState m : dead) {
          group.removeMember(m);
          out.addExpired(group.name + "/" + m.consumerId);
        }
        Assignor.rebalance(group, index);
      }
    }
    return out.build();
  }

  /** R6: a new term may bring a leader whose clock is ahead; nobody healthy expires from it. */
  void pushDeadlines() {
    for (GroupState group : state.groups.values()) {
      for (MemberState m : group.members.values()) {
        m.deadlineMs = Math.max(m.deadlineMs, state.nowMs + group.sessionTimeoutMs);
      }
    }
  }
}
