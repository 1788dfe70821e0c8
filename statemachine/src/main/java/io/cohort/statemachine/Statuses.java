package io.cohort.statemachine;

import io.cohort.statemachine.proto.PartitionStatus;

/**
 * Why a partition is where it is (DESIGN §5 `status`): one decision for `group describe` and the
 * metrics' counts by status.
 */
final class Statuses {
  private Statuses() {}

  /** @param lineage the topic's lineage in an order=true group, else null */
  static PartitionStatus of(GroupState group, Slot slot, Readiness.Lineage lineage) {
    int id = slot.info.id;
    if (Readiness.done(group, slot)) {
      return PartitionStatus.FINISHED;
    }
    if (lineage != null && !lineage.ancestorsDone[id]) {
      return slot.holder != null ? PartitionStatus.RELEASING : PartitionStatus.WAITING_PARENTS;
    }
    if (lineage != null && lineage.descendantHeld[id]) {
      return slot.holder != null ? PartitionStatus.RELEASING : PartitionStatus.WAITING_CHILDREN;
    }
    if (slot.holder != null) {
      // a replaced session's grant is handed to the member's new session once that one ended (R2)
      return slot.releasing || slot.oldSession ? PartitionStatus.RELEASING : PartitionStatus.HELD;
    }
    return PartitionStatus.UNASSIGNED;
  }
}
