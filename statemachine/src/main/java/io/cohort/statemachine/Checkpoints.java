package io.cohort.statemachine;

import io.cohort.statemachine.proto.CheckpointEntry;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.CommitCheckpoints;
import io.cohort.statemachine.proto.CommitResult;
import io.cohort.statemachine.proto.ResetCheckpoint;
import io.cohort.statemachine.proto.Result;
import java.util.List;

/** Checkpoint commits fenced by session and epoch, and the admin's live reset (R3). */
final class Checkpoints {
  private final CoordinatorState state;

  Checkpoints(CoordinatorState state) {
    this.state = state;
  }

  Result commit(CommitCheckpoints c, long index) {
    GroupState group = state.groups.get(c.getGroup());
    if (group == null) {
      return Results.rejected(Code.NOT_FOUND, "group '" + c.getGroup() + "' does not exist");
    }
    if (c.getEntriesCount() > state.limits.maxEntriesPerCommand()) {
      return Results.rejected(Code.LIMIT_EXCEEDED, "a commit carries at most "
          + state.limits.maxEntriesPerCommand() + " entries, got " + c.getEntriesCount());
    }
    MemberState member = group.members.get(c.getConsumerId());
    Result sessionProblem = Membership.checkSession(group, member, c.getConsumerId(), c.getSession());
    if (sessionProblem != null) {
      return sessionProblem;
    }
    CommitResult.Builder codes = CommitResult.newBuilder();
    applyAll(group, member, c.getEntriesList(), codes::addCodes);
    if (group.dirty) {
      Assignor.rebalance(group, index);
    }
    return Result.newBuilder().setCode(Code.OK).setCommit(codes).build();
  }

  interface CodeSink {
    void add(Code code);
  }

  /** Applies each entry on its own (R3); the caller rebalances if a partition finished. */
  void applyAll(GroupState group, MemberState member, List<CheckpointEntry> entries, CodeSink codes) {
    for (int i = 0, n = entries.size(); i < n; i++) {
      codes.add(applyEntry(group, member, entries.get(i)));
    }
  }

  private Code applyEntry(GroupState group, MemberState member, CheckpointEntry e) {
    Slot slot = group.slot(e.getTopic(), e.getPartition());
    if (slot == null) {
      return Code.NOT_FOUND;
    }
    if (slot.holder != member || slot.epoch != e.getEpoch()) {
      return Code.FENCED;
    }
    String cursor = e.getCursor();
    if (!state.limits.cursorFits(cursor)) {
      return Code.LIMIT_EXCEEDED;
    }
    if (e.getFinished() && !slot.info.sealed()) {
      return Code.INVALID_ARGUMENT; // an active partition has no end yet
    }
    slot.checkpoint = new Checkpoint(cursor, e.getFinished(),
        e.hasLag() ? e.getLag() : -1, e.hasLagMs() ? e.getLagMs() : -1,
        member.consumerId, state.nowMs, slot.epoch);
    slot.cachedGrant = null;
    if (e.getFinished()) {
      group.dirty = true; // its holder is done, and order=true children may start now (R5)
    }
    return Code.OK;
  }

  Result reset(ResetCheckpoint r, long index) {
    GroupState group = state.groups.get(r.getGroup());
    if (group == null) {
      return Results.rejected(Code.NOT_FOUND, "group '" + r.getGroup() + "' does not exist");
    }
    Slot slot = group.slot(r.getTopic(), r.getPartition());
    if (slot == null) {
      return Results.rejected(Code.NOT_FOUND, "group '" + r.getGroup() + "' reads no partition "
          + r.getTopic() + "/" + r.getPartition());
    }
    if (!state.limits.cursorFits(r.getCursor())) {
      return Results.rejected(Code.LIMIT_EXCEEDED,
          "cursor is longer than " + state.limits.maxCursorBytes() + " bytes");
    }
    boolean wasDone = Readiness.done(group, slot);
    // The bump fences the holder's old epoch; it restarts from this cursor on its next heartbeat.
    slot.epoch = index;
    slot.checkpoint = new Checkpoint(r.getCursor(), false, -1, -1, "", state.nowMs, index);
    slot.cachedGrant = null;
    slot.announced = false;
    if (wasDone) {
      group.dirty = true;
    }
    if (group.dirty) {
      Assignor.rebalance(group, index);
    }
    return Results.ok("checkpoint of " + r.getTopic() + "/" + r.getPartition() + " in group '"
        + r.getGroup() + "' reset to '" + r.getCursor() + "', epoch " + index);
  }
}
