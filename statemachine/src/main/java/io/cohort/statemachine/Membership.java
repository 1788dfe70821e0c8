package io.cohort.statemachine;

import com.google.protobuf.ByteString;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.CommitResult;
import io.cohort.statemachine.proto.Grant;
import io.cohort.statemachine.proto.Heartbeat;
import io.cohort.statemachine.proto.HeartbeatResult;
import io.cohort.statemachine.proto.Leave;
import io.cohort.statemachine.proto.PartitionRef;
import io.cohort.statemachine.proto.Result;
import io.cohort.statemachine.proto.StartFrom;
import io.cohort.statemachine.proto.TickResult;
import java.util.ArrayList;
import java.util.List;

/** Join, renew, take over, leave and expire members (R1, R2, R6, R7), and what a heartbeat returns. */
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
  static Result checkSession(GroupState group, MemberState member, String consumerId, ByteString session) {
    if (member == null) {
      return Results.rejected(Code.UNKNOWN_MEMBER, "consumer '" + consumerId + "' is not a member of group '"
          + group.name + "' (expired or left): join again");
    }
    if (!member.session.equals(session)) {
      return Results.rejected(Code.FENCED, "session " + SessionIds.of(session) + " of consumer '" + consumerId
          + "' was replaced by session " + SessionIds.of(member.session));
    }
    return null;
  }

  /** True when {@code session} is the member's replaced session, which may still commit and leave (R2). */
  static boolean isReplacedSession(MemberState member, ByteString session) {
    return member != null && member.takeoverPending() && session.equals(member.oldSession);
  }

  /**
   * R11: null when the principal may use the consumer id a heartbeat, commit or leave names, else
   * the refusal. Checked before the command touches anything (not even the time moves).
   */
  Result checkOwnership(io.cohort.statemachine.proto.Command c, String principal) {
    String group;
    String consumer;
    switch (c.getBodyCase()) {
      case HEARTBEAT -> {
        group = c.getHeartbeat().getGroup();
        consumer = c.getHeartbeat().getConsumerId();
      }
      case LEAVE -> {
        group = c.getLeave().getGroup();
        consumer = c.getLeave().getConsumerId();
      }
      case COMMIT_CHECKPOINTS -> {
        group = c.getCommitCheckpoints().getGroup();
        consumer = c.getCommitCheckpoints().getConsumerId();
      }
      default -> {
        return null;
      }
    }
    GroupState g = state.groups.get(group);
    return g == null ? null : checkOwner(g, g.members.get(consumer), principal, state.acl);
  }

  /** R11: null when the principal may use this member's consumer id, else the refusal. */
  static Result checkOwner(GroupState group, MemberState member, String principal, Acl acl) {
    if (member == null || member.ownedBy(principal, acl)) {
      return null;
    }
    return Authorization.denied("consumer id '" + member.consumerId + "' of group '" + group.name
        + "' belongs to principal " + Text.quote(member.owner) + " while it is a member: "
        + Authorization.who(principal, acl) + " may not use it");
  }

  Result heartbeat(Heartbeat hb, long index, Stamp stamp) {
    GroupState group = state.groups.get(hb.getGroup());
    if (group == null) {
      return Results.rejected(Code.NOT_FOUND, "group '" + hb.getGroup() + "' does not exist");
    }
    String consumerId = hb.getConsumerId();
    MemberState member = group.members.get(consumerId);
    boolean joining = hb.getSessionToken().isEmpty();
    if (joining && stamp.sessionToken().size() != Stamp.TOKEN_BYTES) {
      return Results.rejected(Code.INVALID_ARGUMENT, "a join needs the session token the leader draws ("
          + Stamp.TOKEN_BYTES + " bytes), got " + stamp.sessionToken().size() + " bytes");
    }
    if (joining) {
      if (member == null) {
        if (group.members.size() >= state.limits.maxMembersPerGroup()) {
          return Results.rejected(Code.LIMIT_EXCEEDED, "group '" + group.name + "' has the maximum of "
              + state.limits.maxMembersPerGroup() + " members");
        }
        if (state.counters.members >= state.limits.maxMembers()) {
          return Results.rejected(Code.LIMIT_EXCEEDED, "the cluster has the maximum of "
              + state.limits.maxMembers() + " members");
        }
        member = new MemberState(consumerId, stamp.principal(), stamp.sessionToken());
        group.formOnJoin(state.nowMs);
        group.addMember(member);
      } else {
        Takeovers.start(group, member, stamp.sessionToken(), state);
        state.events.memberTouched(group.name, consumerId); // the replaced session is fenced
        member.owner = stamp.principal();
      }
    } else {
      Result problem = checkSession(group, member, consumerId, hb.getSessionToken());
      if (problem != null) {
        return problem;
      }
    }

    HeartbeatResult.Builder out = HeartbeatResult.newBuilder();
    checkpoints.applyAll(group, member, hb.getCommitsList(), false, out::addCommitCodes);
    checkpoints.applyErrors(group, member, hb.getErrorsList(), false, out::addErrorCodes);
    renew(group, member);
    List<PartitionRef> notHeld = reconcileHeld(group, member, hb.getHeldList(), joining);
    if (group.dirty) {
      Assignor.rebalance(group, index, state);
    }
    return Result.newBuilder().setCode(Code.OK)
        .setHeartbeat(describeTo(group, member, out, notHeld, true)).build();
  }

  private void renew(GroupState group, MemberState member) {
    member.lastHeartbeatMs = state.nowMs;
    member.setDeadline(group, state.nowMs + group.sessionTimeoutMs);
  }

  /**
   * A grant the member was told about and now omits is released (R2). Claimed partitions it does
   * not hold (under this session) are returned, so the result tells it to drop them. Linear in the
   * lists: listed slots are marked, then the member's grants are walked once.
   */
  private static List<PartitionRef> reconcileHeld(GroupState group, MemberState member,
      List<PartitionRef> held, boolean joining) {
    List<PartitionRef> notHeld = null;
    List<Slot> marked = new ArrayList<>(held.size());
    for (int i = 0, n = held.size(); i < n; i++) {
      PartitionRef ref = held.get(i);
      Slot slot = group.slot(ref.getTopic(), ref.getPartition());
      if (slot != null && slot.holder == member && !slot.oldSession) {
        slot.mark = true;
        marked.add(slot);
      } else {
        if (notHeld == null) {
          notHeld = new ArrayList<>();
        }
        notHeld.add(ref);
      }
    }
    if (!joining && marked.size() < member.held.size()) {
      ArrayList<Slot> kept = null;
      for (int i = 0, n = member.held.size(); i < n; i++) {
        Slot slot = member.held.get(i);
        // Left out: released if it was told in a replicated answer, or asked back. A grant not yet
        // told stays (a consumer never loses one it may be about to learn of); one asked back may go
        // even if it was told only off the log, or never: a consumer's heartbeats go one at a time, so
        // it has read every answer it will for earlier ones, and a grant told with its release is never read.
        boolean released = (slot.announced || slot.releasing) && !slot.mark && !slot.oldSession;
        if (released && kept == null) {
          kept = new ArrayList<>(member.held.subList(0, i));
        }
        if (released) {
          group.forgetHolder(slot);
        } else if (kept != null) {
          kept.add(slot);
        }
      }
      if (kept != null) {
        member.held.clear();
        member.held.addAll(kept);
      }
    }
    for (Slot slot : marked) {
      slot.mark = false;
    }
    return notHeld == null ? List.of() : notHeld;
  }

  /** @param announce marks each grant told (false: read-only, for a quiet heartbeat whose grants all were) */
  static HeartbeatResult describeTo(GroupState group, MemberState member,
      HeartbeatResult.Builder out, List<PartitionRef> notHeld, boolean announce) {
    boolean handoff = !member.incoming.isEmpty() || member.takeoverPending();
    for (int i = 0, n = member.held.size(); i < n; i++) {
      Slot slot = member.held.get(i);
      if (slot.oldSession) {
        continue; // the replaced session's: this one must not read it yet (R2)
      }
      out.addGrants(grantOf(group, slot));
      if (announce) {
        slot.announced = true;
      }
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
    return out.setSessionToken(member.session).setNextHeartbeatMs(interval)
        .setGroupHeartbeatMs(group.heartbeatIntervalMs).setSessionTimeoutMs(group.sessionTimeoutMs).build();
  }

  /** The grant as its holder is told it (built when asked: slots keep no protos, R9 memory). */
  static Grant grantOf(GroupState group, Slot slot) {
    Grant.Builder b = Grant.newBuilder().setTopic(slot.topic).setPartition(slot.info.id)
        .setEpoch(slot.epoch).setStartFrom(group.startFrom).setState(slot.info.state);
    if (slot.checkpoint != null && slot.checkpoint.atEnd()) {
      b.setStartFrom(StartFrom.END); // reset to the end: no cursor
    } else if (slot.checkpoint != null) {
      b.setCursor(slot.checkpoint.cursor());
    }
    if (slot.info.endCursor != null) {
      b.setEndCursor(slot.info.endCursor);
    }
    return b.build();
  }

  Result leave(Leave leave, long index) {
    GroupState group = state.groups.get(leave.getGroup());
    if (group == null) {
      return Results.rejected(Code.NOT_FOUND, "group '" + leave.getGroup() + "' does not exist");
    }
    MemberState member = group.members.get(leave.getConsumerId());
    CommitResult.Builder codes = CommitResult.newBuilder();
    if (isReplacedSession(member, leave.getSessionToken())) {
      // The old process stopped reading (R2): its final commits, then its grants pass to the new session.
      checkpoints.applyAll(group, member, leave.getCommitsList(), true, codes::addCodes);
      String message;
      if (member.oldLeaveEnds) {
        Takeovers.end(group, member, index, state);
        message = "replaced session " + SessionIds.of(leave.getSessionToken()) + " of consumer '"
            + member.consumerId + "' left; its partitions pass to session " + SessionIds.of(member.session);
      } else {
        message = "replaced session " + SessionIds.of(leave.getSessionToken()) + " of consumer '"
            + member.consumerId + "' left; an older replaced session may still read, so its partitions pass"
            + " to session " + SessionIds.of(member.session) + " at the replaced deadline";
      }
      if (group.dirty) {
        Assignor.rebalance(group, index, state);
      }
      return Result.newBuilder().setCode(Code.OK).setMessage(message).setCommit(codes).build();
    }
    Result problem = checkSession(group, member, leave.getConsumerId(), leave.getSessionToken());
    if (problem != null) {
      return problem;
    }
    checkpoints.applyAll(group, member, leave.getCommitsList(), false, codes::addCodes);
    String message;
    if (member.takeoverPending()) {
      Takeovers.revert(group, member);
      state.events.memberTouched(group.name, member.consumerId);
      message = "session " + SessionIds.of(leave.getSessionToken()) + " of consumer '" + member.consumerId
          + "' left while the session it replaced may still read: consumer '" + member.consumerId
          + "' is session " + SessionIds.of(member.session) + " again";
    } else {
      group.removeMember(member, state.nowMs);
      message = "consumer '" + member.consumerId + "' left group '" + group.name + "'";
    }
    Assignor.rebalance(group, index, state);
    return Result.newBuilder().setCode(Code.OK).setMessage(message).setCommit(codes).build();
  }

  /**
   * R7: removes every member whose deadline is before {@code cutoffMs} (the tick's time, or earlier
   * when the leader answered renewals after it drained them into the tick); their grants go to the others.
   * A group none of whose deadlines can be before the cutoff is passed over: a Tick (4 a second, on
   * every replica) walked every member of every group, ~330 µs at 16,600 members (ApplyBenchmark.tick).
   */
  TickResult expire(long index, long cutoffMs) {
    TickResult.Builder out = TickResult.newBuilder();
    for (GroupState group : state.groups.values()) {
      if (cutoffMs <= group.earliestDeadlineMs) {
        continue; // nobody's deadline is before the cutoff: no need to look at each member
      }
      List<MemberState> dead = null;
      long earliestLeft = Long.MAX_VALUE;
      for (MemberState m : group.members.values()) {
        long deadline = m.deadlineMs();
        if (cutoffMs > deadline) {
          if (dead == null) {
            dead = new ArrayList<>();
          }
          dead.add(m);
        } else {
          earliestLeft = Math.min(earliestLeft, deadline);
        }
      }
      group.earliestDeadlineMs = earliestLeft; // before a revert below lowers it again
      if (dead != null) {
        for (MemberState m : dead) {
          if (m.takeoverPending()) {
            // Not reached while deadlines move together (the replaced one is never later); kept safe anyway.
            Takeovers.revert(group, m);
            continue;
          }
          group.removeMember(m, state.nowMs);
          state.events.memberTouched(group.name, m.consumerId);
          out.addExpired(group.name + "/" + m.consumerId);
        }
        Assignor.rebalance(group, index, state);
      }
    }
    return out.build();
  }

  /** R6: a new term may bring a leader whose clock is ahead; nobody healthy expires from it. */
  void pushDeadlines() {
    for (GroupState group : state.groups.values()) {
      for (MemberState m : group.members.values()) {
        m.setDeadline(group, Math.max(m.deadlineMs(), state.nowMs + group.sessionTimeoutMs));
        if (m.takeoverPending()) {
          m.oldDeadlineMs = Math.max(m.oldDeadlineMs, state.nowMs + group.sessionTimeoutMs);
        }
      }
    }
  }
}
