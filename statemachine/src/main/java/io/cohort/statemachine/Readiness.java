package io.cohort.statemachine;

import io.cohort.statemachine.proto.StartFrom;
import java.util.ArrayList;
import java.util.List;

/** Which slots a group may be granted now (R4, R5). */
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

  /** The parents an order=true group still waits for; empty when the slot may be read now. */
  static List<Integer> waitingFor(GroupState group, Slot slot) {
    if (!group.order || slot.info.parents.length == 0) {
      return List.of();
    }
    List<Integer> waiting = null;
    for (int parent : slot.info.parents) {
      Slot p = group.slot(slot.topic, parent);
      if (p != null && !done(group, p)) {
        if (waiting == null) {
          waiting = new ArrayList<>(2);
        }
        waiting.add(parent);
      }
    }
    return waiting == null ? List.of() : waiting;
  }

  static boolean parentsDone(GroupState group, Slot slot) {
    if (!group.order) {
      return true;
    }
    for (int parent : slot.info.parents) {
      Slot p = group.slot(slot.topic, parent);
      if (p != null && !done(group, p)) {
        return false;
      }
    }
    return true;
  }

  static boolean assignable(GroupState group, Slot slot) {
    return !done(group, slot) && parentsDone(group, slot);
  }
}
