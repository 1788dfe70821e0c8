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
    int n = held.size();
    if (n == 0 || Slot.compare(held.get(n - 1), slot) < 0) {
      held.add(slot); // in order, as when a snapshot is rebuilt: O(1)
      return;
    }
    int lo = 0;
    int hi = n; // first index whose slot is not before this one
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (Slot.compare(held.get(mid), slot) < 0) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    held.add(lo, slot);
  }

  void removeHeld(Slot slot) {
    held.remove(slot);
  }
}
