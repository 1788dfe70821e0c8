package io.cohort.statemachine;

import java.util.ArrayList;
import java.util.List;

/**
 * The deadlines a group keeps besides its members' sessions (R2): a holder asked to release
 * that has not done so within the release timeout loses the grant to its target, and a replaced
 * session (static-membership takeover) whose deadline passed hands its grants to the new session;
 * and a forming group's first assignment (R4, the initial rebalance delay). Fired by the first
 * command applied once they are due, whatever it touches ({@link #fireDue}); cheap when nothing is.
 *
 * <p>Why this never gives a second reader: a holder that has not heard the request has had no
 * successful heartbeat since it was asked (every answer repeats it), so it stops reading by its own
 * session deadline as it stood then; the release deadline is never earlier (see Assignor). A new
 * term restarts the count, as it pushes session deadlines (R6).
 */
final class Timers {
  private Timers() {}

  /** When the holder of a releasing slot loses it: its deadline, but a full timeout into a new term at least. */
  static long releaseDeadlineMs(GroupState group, Slot slot, CoordinatorState state) {
    return Math.max(slot.releaseDeadlineMs, state.termStartMs + group.effectiveReleaseTimeoutMs());
  }

  /** The group's timers fire from {@code atMs} on; the state's bound over all groups follows. */
  static void schedule(GroupState group, long atMs, CoordinatorState state) {
    group.timersAtMs = atMs;
    state.timersDueAtMs = Math.min(state.timersDueAtMs, atMs);
  }

  /** {@link #schedule} at the group's next deadline. */
  static void reschedule(GroupState group, CoordinatorState state) {
    schedule(group, nextAt(group, state), state);
  }

  /**
   * Fires every group's timers that are due at the state's time; run by each applied command after
   * the clock moved. So a due timer waits for the next entry of any kind, not for a Tick or a
   * command of its group, and the leader never finds one due when it answers a heartbeat off the
   * log (which would send it to the log: bench heartbeat counted thousands such in 15 s when
   * writes slowed). O(groups) only when some group's time came; one comparison otherwise.
   */
  static void fireDue(long index, CoordinatorState state) {
    if (state.nowMs < state.timersDueAtMs) {
      return;
    }
    long next = Long.MAX_VALUE;
    for (GroupState group : state.groups.values()) {
      fire(group, index, state);
      next = Math.min(next, group.timersAtMs);
    }
    state.timersDueAtMs = next; // only now: a scan cut short leaves the bound low, never high
  }

  /** No timer of the group fires before this time. */
  static long nextAt(GroupState group, CoordinatorState state) {
    long at = group.formingUntilMs != 0 ? group.formingUntilMs : Long.MAX_VALUE;
    for (int i = 0, n = group.releasing.size(); i < n; i++) {
      Slot s = group.releasing.get(i);
      if (s.releasing && s.holder != null) {
        at = Math.min(at, releaseDeadlineMs(group, s, state) + 1);
      }
    }
    for (MemberState m : group.members.values()) {
      if (m.takeoverPending()) {
        at = Math.min(at, m.oldDeadlineMs + 1);
      }
    }
    return at;
  }

  /**
   * Fires what is due (the end of a group's forming, ended takeovers, then release timeouts) and
   * rebalances if anything changed.
   */
  private static void fire(GroupState group, long index, CoordinatorState state) {
    if (state.nowMs < group.timersAtMs) {
      return;
    }
    boolean changed = false;
    if (group.formingUntilMs != 0 && !group.forming(state.nowMs)) {
      changed = true; // its first assignment: the rebalance below ends the forming
    }
    for (MemberState m : group.members.values()) {
      if (m.takeoverPending() && state.nowMs > m.oldDeadlineMs) {
        Takeovers.end(group, m, index, state);
        changed = true;
      }
    }
    List<Slot> due = null;
    for (int i = 0, n = group.releasing.size(); i < n; i++) {
      Slot s = group.releasing.get(i);
      if (s.releasing && s.holder != null && state.nowMs > releaseDeadlineMs(group, s, state)) {
        if (due == null) {
          due = new ArrayList<>();
        }
        due.add(s);
      }
    }
    if (due != null) {
      for (Slot s : due) {
        if (s.target != null && state.nowMs > s.target.deadlineMs()) {
          cancel(s); // the target is gone (its expiry waits for a Tick): as if it had left (R4)
          state.events.memberTouched(group.name, s.holder.consumerId);
        } else {
          revoke(group, s, index, state);
        }
      }
      changed = true;
    }
    if (changed) {
      Assignor.rebalance(group, index, state);
    } else {
      reschedule(group, state);
    }
  }

  /** The move is off: the holder keeps reading; the assignor may pick a new target (and a new timer). */
  private static void cancel(Slot slot) {
    slot.releasing = false;
    slot.target = null;
    slot.releaseDeadlineMs = 0;
    slot.releaseAskedAtMs = 0;
  }

  /** R2: the holder did not release in time. Its grant ends (its commits are FENCED); the target gets a new epoch. */
  static void revoke(GroupState group, Slot slot, long index, CoordinatorState state) {
    MemberState target = slot.target;
    state.events.releaseTimedOut(group.name, slot.topic, slot.info.id, slot.holder.consumerId, slot.epoch);
    group.clearHolder(slot);
    if (target != null) {
      group.grant(slot, target, index, state);
      target.addHeld(slot);
    }
  }
}
