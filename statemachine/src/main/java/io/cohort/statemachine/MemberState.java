package io.cohort.statemachine;

import java.util.ArrayList;

/** A live consumer of a group and the slots it holds, kept sorted by (topic, partition). */
final class MemberState {
  final String consumerId;
  long session;
  long lastHeartbeatMs;
  long deadlineMs;
  final ArrayList<Slot> held = new ArrayList<>();

  /** Scratch for the assignor: summed weight of the slots it should own. */
  long loadMicros;
  /** Derived by the assignor: slots being handed to this member (it should heartbeat soon). */
  int incoming;

  MemberState(String consumerId) {
    this.consumerId = consumerId;
  }

  void addHeld(Slot slot) {
    int i = 0;
    while (i < held.size() && Slot.compare(held.get(i), slot) < 0) {
      i++;
    }
    held.add(i, slot);
  }

  void removeHeld(Slot slot) {
    held.remove(slot);
  }
}
