package io.cohort.statemachine;

import java.util.ArrayList;
import java.util.List;

/**
 * The assignor as it was before it was made near-linear (commit b0f9fdb), kept verbatim except for
 * the fields that changed shape: the reference {@link AssignorEquivalenceTest} compares against.
 * Only for order=false groups with no pending takeover and no move without a target.
 */
final class LegacyAssignor {
  private LegacyAssignor() {}

  static void rebalance(GroupState group, long index, long nowMs) {
    group.dirty = false;
    List<Slot> assignable = new ArrayList<>();
    long maxWeight = 0;
    for (ArrayList<Slot> list : group.slots.values()) {
      for (Slot slot : list) {
        slot.owner = null;
        if (Readiness.done(group, slot)) {
          if (slot.holder != null) {
            group.clearHolder(slot); // read to its end: nothing left to hand over
          }
        } else {
          assignable.add(slot);
          maxWeight = Math.max(maxWeight, slot.info.weightMicros);
        }
      }
    }
    group.dirty = false;
    for (MemberState m : group.members.values()) {
      m.loadMicros = 0;
      m.incoming.clear();
    }
    if (group.members.isEmpty()) {
      return;
    }

    List<Slot> free = new ArrayList<>();
    for (Slot slot : assignable) {
      MemberState intended = slot.releasing ? slot.target : slot.holder;
      if (intended != null) {
        slot.owner = intended;
        intended.loadMicros += slot.info.weightMicros;
      } else {
        free.add(slot);
      }
    }
    free.sort((a, b) -> {
      int c = Long.compare(b.info.weightMicros, a.info.weightMicros);
      return c != 0 ? c : Slot.compare(a, b);
    });
    for (Slot slot : free) {
      MemberState m = lightestFor(group, slot);
      slot.owner = m;
      m.loadMicros += slot.info.weightMicros;
    }

    balance(group, assignable, maxWeight);

    for (Slot slot : assignable) {
      MemberState owner = slot.owner;
      if (slot.holder == null) {
        group.grant(slot, owner, index);
        owner.addHeld(slot);
      } else if (slot.holder == owner) {
        slot.releasing = false;
        slot.target = null;
        slot.releaseDeadlineMs = 0;
      } else {
        if (!slot.releasing) {
          slot.releaseDeadlineMs = Math.max(nowMs + group.effectiveReleaseTimeoutMs(), slot.holder.deadlineMs());
        }
        slot.releasing = true;
        slot.target = owner;
        owner.incoming.add(slot);
      }
    }
  }

  /** The least loaded member; among equals, a holder of one of the slot's parents, then by id. */
  private static MemberState lightestFor(GroupState group, Slot slot) {
    MemberState best = null;
    boolean bestHoldsParent = false;
    for (MemberState m : group.members.values()) {
      boolean holdsParent = holdsParent(group, slot, m);
      if (best == null || m.loadMicros < best.loadMicros
          || (m.loadMicros == best.loadMicros && holdsParent && !bestHoldsParent)) {
        best = m;
        bestHoldsParent = holdsParent;
      }
    }
    return best;
  }

  private static boolean holdsParent(GroupState group, Slot slot, MemberState m) {
    for (int parent : slot.info.parents) {
      Slot p = group.slot(slot.topic, parent);
      if (p != null && p.holder == m) {
        return true;
      }
    }
    return false;
  }

  private static void balance(GroupState group, List<Slot> assignable, long maxWeight) {
    // Each move lowers the sum of squared loads, so this ends; the guard only bounds a bug.
    long guard = (long) assignable.size() * (group.members.size() + 1) + 16;
    while (guard-- > 0) {
      MemberState heavy = null;
      MemberState light = null;
      for (MemberState m : group.members.values()) {
        if (heavy == null || m.loadMicros > heavy.loadMicros) {
          heavy = m;
        }
        if (light == null || m.loadMicros < light.loadMicros) {
          light = m;
        }
      }
      long gap = heavy.loadMicros - light.loadMicros;
      if (gap <= maxWeight) {
        return;
      }
      List<Slot> lightOwns = new ArrayList<>();
      for (Slot slot : assignable) {
        if (slot.owner == light) {
          lightOwns.add(slot);
        }
      }
      Slot best = null;
      for (Slot slot : assignable) {
        if (slot.owner == heavy && slot.info.weightMicros < gap
            && (best == null || betterMove(slot, best, gap, light, lightOwns))) {
          best = slot;
        }
      }
      if (best == null) {
        return;
      }
      best.owner = light;
      heavy.loadMicros -= best.info.weightMicros;
      light.loadMicros += best.info.weightMicros;
    }
  }

  /**
   * Prefers, in order: the weight nearest half the gap (the biggest improvement), a slot nobody
   * reads yet (free to move), a range adjacent to what the receiver owns, then the highest id.
   */
  private static boolean betterMove(Slot a, Slot b, long gap, MemberState light, List<Slot> lightOwns) {
    long da = Math.abs(2 * a.info.weightMicros - gap);
    long db = Math.abs(2 * b.info.weightMicros - gap);
    if (da != db) {
      return da < db;
    }
    boolean freeA = a.holder == null || a.holder == light;
    boolean freeB = b.holder == null || b.holder == light;
    if (freeA != freeB) {
      return freeA;
    }
    boolean adjA = adjacent(a, lightOwns);
    boolean adjB = adjacent(b, lightOwns);
    if (adjA != adjB) {
      return adjA;
    }
    int c = a.topic.compareTo(b.topic);
    if (c != 0) {
      return c < 0;
    }
    return a.info.id > b.info.id;
  }

  private static boolean adjacent(Slot slot, List<Slot> owned) {
    for (Slot o : owned) {
      if (o.topic.equals(slot.topic) && o.info.adjacentTo(slot.info)) {
        return true;
      }
    }
    return false;
  }
}
