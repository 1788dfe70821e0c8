package io.cohort.statemachine;

import io.cohort.statemachine.proto.CheckpointEntry;
import io.cohort.statemachine.proto.CheckpointReset;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.CommitCheckpoints;
import io.cohort.statemachine.proto.CommitResult;
import io.cohort.statemachine.proto.ReaderError;
import io.cohort.statemachine.proto.ResetCheckpoint;
import io.cohort.statemachine.proto.ResetCheckpoints;
import io.cohort.statemachine.proto.ResetResult;
import io.cohort.statemachine.proto.Result;
import java.util.ArrayList;
import java.util.List;

/**
 * Checkpoint commits fenced by session and epoch, and the admin's live reset (R3). Sizes, counts
 * and names were checked before (CommandValidator); what is left depends on the state.
 */
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
    MemberState member = group.members.get(c.getConsumerId());
    boolean replaced = Membership.isReplacedSession(member, c.getSessionToken());
    if (!replaced) {
      Result sessionProblem = Membership.checkSession(group, member, c.getConsumerId(), c.getSessionToken());
      if (sessionProblem != null) {
        return sessionProblem;
      }
    }
    CommitResult.Builder codes = CommitResult.newBuilder();
    applyAll(group, member, c.getEntriesList(), replaced, codes::addCodes);
    applyErrors(group, member, c.getErrorsList(), replaced, codes::addErrorCodes);
    if (group.dirty) {
      Assignor.rebalance(group, index, state);
    }
    return Result.newBuilder().setCode(Code.OK).setCommit(codes).build();
  }

  interface CodeSink {
    void add(Code code);
  }

  /**
   * Applies each entry on its own (R3); the caller rebalances if a partition finished. A replaced
   * session (takeover pending) commits only what it still holds, with its old epochs.
   */
  void applyAll(GroupState group, MemberState member, List<CheckpointEntry> entries, boolean replaced,
      CodeSink codes) {
    for (int i = 0, n = entries.size(); i < n; i++) {
      codes.add(applyEntry(group, member, entries.get(i), replaced));
    }
  }

  private Code applyEntry(GroupState group, MemberState member, CheckpointEntry e, boolean replaced) {
    Slot slot = group.slot(e.getTopic(), e.getPartition());
    if (slot == null) {
      return Code.NOT_FOUND;
    }
    if (slot.holder != member || slot.epoch != e.getEpoch() || slot.oldSession != replaced) {
      return Code.FENCED;
    }
    if (e.getFinished() && !slot.info.sealed()) {
      return Code.INVALID_ARGUMENT; // an active partition has no end yet
    }
    slot.checkpoint = new Checkpoint(e.getCursor(), e.getFinished(),
        e.hasLag() ? e.getLag() : -1, e.hasLagMs() ? e.getLagMs() : -1,
        member.consumerId, state.nowMs, slot.epoch, false);
    if (slot.failure != null && !slot.failure.skipped()) {
      slot.failure = null; // the reader got past it; a skipped batch stays reported
    }
    if (e.getFinished()) {
      group.dirty = true; // its holder is done, and order=true children may start now (R5)
    }
    return Code.OK;
  }

  /**
   * Reader failures (step 9), fenced like checkpoint entries (R3): each is kept with its slot as the
   * last error. A report while the previous one still stands (no commit since, not skipped)
   * continues that run: its first time stays.
   */
  void applyErrors(GroupState group, MemberState member, List<ReaderError> errors, boolean replaced,
      CodeSink codes) {
    for (int i = 0, n = errors.size(); i < n; i++) {
      ReaderError e = errors.get(i);
      Slot slot = group.slot(e.getTopic(), e.getPartition());
      if (slot == null) {
        codes.add(Code.NOT_FOUND);
      } else if (slot.holder != member || slot.epoch != e.getEpoch() || slot.oldSession != replaced) {
        codes.add(Code.FENCED);
      } else {
        ReaderFailure previous = slot.failure;
        boolean continues = previous != null && previous.failingSince(slot.checkpoint);
        slot.failure = new ReaderFailure(e.getMessage(), e.getAttempts(), e.getSkipped(),
            e.hasCursor() ? e.getCursor() : null, continues ? previous.firstAtMs() : state.nowMs, state.nowMs,
            member.consumerId, e.getEpoch());
        codes.add(Code.OK);
      }
    }
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
    resetSlot(group, slot, Checkpoint.reset(r.getCursor(), false, state.nowMs, index), index);
    if (group.dirty) {
      Assignor.rebalance(group, index, state);
    }
    return Results.ok("checkpoint of " + slot.name() + " in group '" + group.name + "' reset to "
        + Text.quote(r.getCursor()) + ", epoch " + index);
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
    List<Slot> slots = new ArrayList<>(n);
    for (CheckpointReset e : r.getEntriesList()) {
      Slot slot = group.slot(e.getTopic(), e.getPartition());
      if (slot == null) {
        return Results.rejected(Code.NOT_FOUND, "group '" + group.name + "' reads no partition "
            + e.getTopic() + "/" + e.getPartition() + ": nothing was reset");
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
      Assignor.rebalance(group, index, state);
    }
    return Result.newBuilder().setCode(Code.OK).setReset(epochs)
        .setMessage(n + " checkpoint(s) of group '" + group.name + "' reset, epoch " + index).build();
  }

  /**
   * The bump fences the holder's old epoch; it restarts from the new checkpoint on its next
   * heartbeat. A done partition that is reset is read again: with order=true its descendants stop
   * and it waits until none of them is held (R5), so the group rebalances.
   */
  private static void resetSlot(GroupState group, Slot slot, Checkpoint next, long index) {
    boolean wasDone = Readiness.done(group, slot);
    slot.epoch = index;
    slot.checkpoint = next;
    slot.announced = false;
    slot.failure = null; // an operator moved it: the old error is history
    if (wasDone) {
      group.dirty = true;
    }
  }
}
