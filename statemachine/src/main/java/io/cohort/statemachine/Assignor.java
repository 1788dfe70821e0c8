package io.cohort.statemachine;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Weighted, sticky, deterministic assignment (R4) applied through the two-step handoff (R2).
 *
 * <p>Each slot's intended owner is its holder, or the target it is moving to; a move whose target
 * left is cancelled (the holder is the owner again). Free slots go to the lightest member (a child
 * preferring its parent's holder); then, while two members differ by more than the largest weight,
 * one slot moves from the heaviest to the lightest ({@link Balancer}). A moved slot is never granted
 * directly: its holder is asked to release it first.
 *
 * <p>Cost: one pass over the group's slots, O(log m) per free slot, and per move O(log n) plus the
 * few slots bordering the receiver's ranges; never a rescan per moved partition.
 */
final class Assignor {
  private Assignor() {}

  static void rebalance(GroupState group, long index, CoordinatorState state) {
    long nowMs = state.nowMs;
    if (group.formingUntilMs != 0) {
      if (group.forming(nowMs)) {
        // Nobody holds anything while the group forms (only joins into an empty group start it):
        // nothing to release or grant until its timer ends it.
        group.dirty = false;
        group.releasing.clear();
        Timers.reschedule(group, state);
        return;
      }
      group.endForming();
    }
    group.dirty = false;
    group.releasing.clear();
    ArrayList<Slot> assignable = new ArrayList<>();
    long maxWeight = 0;
    for (Map.Entry<String, ArrayList<Slot>> e : group.slots.entrySet()) {
      ArrayList<Slot> list = e.getValue();
      for (int i = 0, n = list.size(); i < n; i++) {
        Slot slot = list.get(i);
        slot.owner = null;
        if (slot.holder != null && Readiness.done(group, slot)) {
          group.clearHolder(slot); // read to its end: nothing left to hand over
          slot.releaseAskedAtMs = 0;
        }
      }
      Readiness.Lineage lineage = group.order ? new Readiness.Lineage(group, list) : null;
      for (int i = 0, n = list.size(); i < n; i++) {
        Slot slot = list.get(i);
        if (Readiness.done(group, slot)) {
          continue;
        }
        if (lineage != null && (!lineage.ancestorsDone[i] || lineage.descendantHeld[i])) {
          if (slot.holder != null) {
            askRelease(group, slot, null, state); // e.g. an ancestor was reset: it must wait again (R5)
            group.releasing.add(slot);
          }
          continue;
        }
        assignable.add(slot);
        maxWeight = Math.max(maxWeight, slot.info.weightMicros);
      }
    }
    group.dirty = false;
    if (group.members.isEmpty()) {
      Timers.reschedule(group, state);
      return;
    }

    Balancer balancer = new Balancer(group);
    List<Slot> free = new ArrayList<>();
    for (int i = 0, n = assignable.size(); i < n; i++) {
      Slot slot = assignable.get(i);
      MemberState intended = slot.releasing ? slot.target : slot.holder;
      if (intended == null) {
        intended = slot.holder; // its target left, or it waited for its lineage: the move is cancelled (R4)
      }
      if (intended != null) {
        balancer.own(slot, intended);
      } else {
        free.add(slot);
      }
    }
    free.sort((a, b) -> {
      int c = Long.compare(b.info.weightMicros, a.info.weightMicros);
      return c != 0 ? c : Slot.compare(a, b);
    });
    for (int i = 0, n = free.size(); i < n; i++) {
      Slot slot = free.get(i);
      balancer.own(slot, balancer.lightestFor(slot));
    }

    // Each move lowers the sum of squared loads, so this ends; the guard only bounds a bug.
    balancer.balance(maxWeight, (long) assignable.size() * (group.members.size() + 1) + 16);

    @SuppressWarnings("unchecked")
    ArrayList<Slot>[] grants = new ArrayList[group.members.size()];
    for (int i = 0, n = assignable.size(); i < n; i++) {
      Slot slot = assignable.get(i);
      MemberState owner = slot.owner;
      if (slot.holder == null) {
        group.grant(slot, owner, index, state);
        if (grants[owner.ordinal] == null) {
          grants[owner.ordinal] = new ArrayList<>();
        }
        grants[owner.ordinal].add(slot); // in (topic, partition) order
      } else if (slot.holder == owner) {
        if (slot.releasing) {
          state.events.memberTouched(group.name, owner.consumerId); // the move is off
        }
        slot.releasing = false;
        slot.target = null;
        slot.releaseDeadlineMs = 0;
        if (!slot.oldSession) {
          slot.releaseAskedAtMs = 0; // the move is off (a takeover keeps its own start)
        }
      } else {
        askRelease(group, slot, owner, state);
        owner.incoming.add(slot);
        group.releasing.add(slot);
      }
    }
    for (MemberState m : group.members.values()) {
      if (grants[m.ordinal] != null) {
        m.addAllHeld(grants[m.ordinal]);
      }
    }
    Timers.reschedule(group, state);
  }

  /**
   * The release deadline is set when the holder is first asked (a new target does not move it): the
   * release timeout from now, and never before the holder's own session deadline — a holder that has
   * not heard the request may read until then, even if the session timeout was lowered since (R2).
   * A handoff is timed from when it first has a target (a slot waiting for its lineage has none).
   */
  private static void askRelease(GroupState group, Slot slot, MemberState target, CoordinatorState state) {
    long nowMs = state.nowMs;
    if (!slot.releasing) {
      slot.releasing = true;
      MemberState h = slot.holder;
      state.events.memberTouched(group.name, h.consumerId);
      slot.releaseDeadlineMs = Math.max(nowMs + group.effectiveReleaseTimeoutMs(),
          Math.max(h.deadlineMs(), slot.oldSession ? h.oldDeadlineMs : 0));
    }
    if (target != null && slot.releaseAskedAtMs == 0) {
      slot.releaseAskedAtMs = nowMs;
    }
    slot.target = target;
  }
}
