package io.cohort.statemachine;

import io.cohort.statemachine.proto.StartFrom;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * Which slots a group may be granted now (R4, R5). With order=true a slot waits while any ancestor
 * is not done (a reset grandparent stops its grandchildren too), and a slot whose descendant still
 * has a holder waits until that holder released it (a reset parent is never read beside its
 * children). Both are computed for a whole topic at once, parents before children (ids grow).
 */
final class Readiness {
  private Readiness() {}

  /**
   * A partition is done for a group when its checkpoint says finished, or when it is sealed and has
   * nothing for the group to read: never granted, no checkpoint, and the group starts at END.
   */
  static boolean done(GroupState group, Slot slot) {
    if (slot.finished()) {
      return true;
    }
    return slot.info.sealed() && slot.checkpoint == null && slot.epoch == 0
        && group.startFrom == StartFrom.END;
  }

  /** One topic's lineage in an order=true group, indexed by partition id. */
  static final class Lineage {
    /** Every ancestor is done. */
    final boolean[] ancestorsDone;
    /** Some descendant has a holder. */
    final boolean[] descendantHeld;

    Lineage(GroupState group, List<Slot> slots) {
      int n = slots.size();
      ancestorsDone = new boolean[n];
      descendantHeld = new boolean[n];
      for (int i = 0; i < n; i++) {
        boolean ok = true;
        for (int p : slots.get(i).info.parents) {
          ok &= done(group, slots.get(p)) && ancestorsDone[p];
        }
        ancestorsDone[i] = ok;
      }
      for (int i = n - 1; i >= 0; i--) {
        boolean held = false;
        for (int c : slots.get(i).info.children) {
          held |= slots.get(c).holder != null || descendantHeld[c];
        }
        descendantHeld[i] = held;
      }
    }

    /** The nearest ancestors that are not done (usually the parents), sorted. */
    List<Integer> waitingForAncestors(GroupState group, List<Slot> slots, int id) {
      TreeSet<Integer> out = new TreeSet<>();
      collectAncestors(group, slots, id, out);
      return new ArrayList<>(out);
    }

    private void collectAncestors(GroupState group, List<Slot> slots, int id, TreeSet<Integer> out) {
      for (int p : slots.get(id).info.parents) {
        if (!done(group, slots.get(p))) {
          out.add(p);
        } else if (!ancestorsDone[p]) {
          collectAncestors(group, slots, p, out);
        }
      }
    }

    /** The descendants that still have a holder, sorted. */
    List<Integer> heldDescendants(List<Slot> slots, int id) {
      TreeSet<Integer> out = new TreeSet<>();
      collectDescendants(slots, id, out);
      return new ArrayList<>(out);
    }

    private void collectDescendants(List<Slot> slots, int id, TreeSet<Integer> out) {
      for (int c : slots.get(id).info.children) {
        if (slots.get(c).holder != null) {
          out.add(c);
        }
        if (descendantHeld[c]) {
          collectDescendants(slots, c, out);
        }
      }
    }
  }
}
