package io.cohort.statemachine;

import io.cohort.statemachine.proto.CheckpointEntry;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.CommitCheckpoints;
import io.cohort.statemachine.proto.CommitResult;
import io.cohort.statemachine.proto.CheckpointReset;
import io.cohort.statemachine.proto.ResetCheckpoint;
import io.cohort.statemachine.proto.ResetCheckpoints;
import io.cohort.statemachine.proto.ResetResult;
import io.cohort.statemachine.proto.Result;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

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
        member.consumerId, state.nowMs, slot.epoch, false);
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
    resetSlot(group, slot, Checkpoint.reset(r.getCursor(), false, state.nowMs, index), index);
    if (group.dirty) {
      Assignor.rebalance(group, index);
    }
    return Results.ok("checkpoint of " + r.getTopic() + "/" + r.getPartition() + " in group '"
        + r.getGroup() + "' reset to '" + r.getCursor() + "', epoch " + index);
  }

  /**
   * Offset management (step 7): every entry is checked before any is applied, so the whole set
   * applies or nothing does. Each reset partition gets the new epoch, fencing its holder (R3).
   */
  Result resetAll(ResetCheckpoints r, long index) {
    GroupState group = state.groups.get(r.getGroup());
    if (group == null) {
      return Results.rejected(Code.NOT_FOUND, "group '" + r.getGroup() + "' does not exist");
    }
    int n = r.getEntriesCount();
    if (n == 0) {
      return Results.rejected(Code.INVALID_ARGUMENT, "a reset names at least one partition");
    }
    if (n > state.limits.maxEntriesPerCommand()) {
      return Results.rejected(Code.LIMIT_EXCEEDED, "a reset carries at most "
          + state.limits.maxEntriesPerCommand() + " partitions, got " + n);
    }
    List<Slot> slots = new ArrayList<>(n);
    Set<Slot> seen = new HashSet<>();
    for (CheckpointReset e : r.getEntriesList()) {
      String name = e.getTopic() + "/" + e.getPartition();
      Slot slot = group.slot(e.getTopic(), e.getPartition());
      if (slot == null) {
        return Results.rejected(Code.NOT_FOUND, "group '" + group.name + "' reads no partition " + name
            + ": nothing was reset");
      }
      if (!seen.add(slot)) {
        return Results.rejected(Code.INVALID_ARGUMENT, "partition " + name + " is named twice: nothing was reset");
      }
      if (e.getTargetCase() == CheckpointReset.TargetCase.TARGET_NOT_SET) {
        return Results.rejected(Code.INVALID_ARGUMENT, "partition " + name
            + " has no target (cursor, delete or to_end): nothing was reset");
      }
      if (e.getTargetCase() == CheckpointReset.TargetCase.CURSOR && !state.limits.cursorFits(e.getCursor())) {
        return Results.rejected(Code.LIMIT_EXCEEDED, "cursor of " + name + " is longer than "
            + state.limits.maxCursorBytes() + " bytes: nothing was reset");
      }
      slots.add(slot);
    }
    ResetResult.Builder epochs = ResetResult.newBuilder();
    for (int i = 0; i < n; i++) {
      CheckpointReset e = r.getEntries(i);
      Checkpoint next = switch (e.getTargetCase()) {
        case CURSOR -> Checkpoint.reset(e.getCursor(), false, state.nowMs, index);
        case TO_END -> Checkpoint.reset("", true, state.nowMs, index);
        default -> null; // delete: the next holder starts at the group's start position
      };
      resetSlot(group, slots.get(i), next, index);
      epochs.addEpochs(index);
    }
    if (group.dirty) {
      Assignor.rebalance(group, index);
    }
    return Result.newBuilder().setCode(Code.OK).setReset(epochs)
        .setMessage(n + " checkpoint(s) of group '" + group.name + "' reset, epoch " + index).build();
  }

  /** The bump fences the holder's old epoch; it restarts from the new checkpoint on its next heartbeat. */
  private void resetSlot(GroupState group, Slot slot, Checkpoint next, long index) {
    boolean wasDone = Readiness.done(group, slot);
    slot.epoch = index;
    slot.checkpoint = next;
    slot.cachedGrant = null;
    slot.announced = false;
    if (wasDone) {
      group.dirty = true; // its order=true children must wait again (R5)
    }
  }
}
