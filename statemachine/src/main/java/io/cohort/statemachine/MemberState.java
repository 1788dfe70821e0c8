package io.cohort.statemachine;

import com.google.protobuf.ByteString;
import java.util.ArrayList;
import java.util.List;

/** A live consumer of a group and the slots it holds, kept sorted by (topic, partition). */
final class MemberState {
  final String consumerId;
  /** The principal that joined with this id (R11); "" for members restored from a format before 4. */
  String owner;
  /** The session token the leader drew at join (R11). */
  ByteString session;
  long lastHeartbeatMs;
  /** Set only through {@link #setDeadline}, which keeps the group's {@link GroupState#earliestDeadlineMs} a bound. */
  private long deadlineMs;
  final ArrayList<Slot> held = new ArrayList<>();

  /**
   * Static-membership takeover pending (R2): the replaced session, which may still read the slots
   * flagged {@link Slot#oldSession} until its deadline passes or it leaves. Null = none.
   */
  ByteString oldSession;
  long oldDeadlineMs;
  /** Whether a Leave carrying {@link #oldSession} ends the takeover (false after a second takeover). */
  boolean oldLeaveEnds;

  /** Derived by the assignor: slots being handed to this member (it should heartbeat soon). */
  final ArrayList<Slot> incoming = new ArrayList<>(0);

  /** Scratch for the assignor: summed weight of the slots it should own, and its rank by id. */
  long loadMicros;
  int ordinal;

  MemberState(String consumerId, String owner, ByteString session) {
    this.consumerId = consumerId;
    this.owner = owner;
    this.session = session;
  }

  long deadlineMs() {
    return deadlineMs;
  }

  void setDeadline(GroupState group, long ms) {
    deadlineMs = ms;
    group.deadlineSet(ms);
  }

  boolean takeoverPending() {
    return oldSession != null;
  }

  /** R11: the id belongs to the principal that joined with it, while it is a member; admins may use any. */
  boolean ownedBy(String principal, Acl acl) {
    return owner.isEmpty() || owner.equals(principal) || acl.isAdmin(principal);
  }

  void addHeld(Slot slot) {
    int n = held.size();
    if (n == 0 || Slot.compare(held.get(n - 1), slot) < 0) {
      held.add(slot); // in order, as when a snapshot is rebuilt: O(1)
      return;
    }
    held.add(indexOf(slot, n), slot);
  }

  /** Adds slots sorted by (topic, partition) in one merge, so granting many at once stays linear. */
  void addAllHeld(List<Slot> sorted) {
    if (sorted.isEmpty()) {
      return;
    }
    if (held.isEmpty() || Slot.compare(held.get(held.size() - 1), sorted.get(0)) < 0) {
      held.addAll(sorted);
      return;
    }
    ArrayList<Slot> merged = new ArrayList<>(held.size() + sorted.size());
    int i = 0;
    int j = 0;
    while (i < held.size() || j < sorted.size()) {
      if (j == sorted.size() || (i < held.size() && Slot.compare(held.get(i), sorted.get(j)) < 0)) {
        merged.add(held.get(i++));
      } else {
        merged.add(sorted.get(j++));
      }
    }
    held.clear();
    held.addAll(merged);
  }

  void removeHeld(Slot slot) {
    int i = indexOf(slot, held.size());
    if (i < held.size() && held.get(i) == slot) {
      held.remove(i);
    }
  }

  /** First index whose slot is not before {@code slot}. */
  private int indexOf(Slot slot, int n) {
    int lo = 0;
    int hi = n;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (Slot.compare(held.get(mid), slot) < 0) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }
}
