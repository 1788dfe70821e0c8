package io.cohort.statemachine;

import io.cohort.statemachine.proto.StartFrom;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/** A consumer group: its settings, members and one slot per partition of its topics. */
final class GroupState {
  final String name;
  final boolean order;
  final StartFrom startFrom;
  long sessionTimeoutMs;
  long heartbeatIntervalMs;
  /** As set; 0 = the session timeout (R2). */
  long releaseTimeoutMs;
  /** R7: deleted once it has had no members this long; 0 = kept forever. */
  long retentionMs = Groups.DEFAULT_RETENTION_MS;
  /** Since when it has no members (state machine ms); -1 while it has members (or since unknown). */
  long emptySinceMs = -1;
  /**
   * R4, as Kafka's {@code group.initial.rebalance.delay.ms}: when members join an empty group, it
   * assigns nothing until this long after the latest join (at most {@link #MAX_FORMING_MS} after
   * the first), so a cold start of many consumers is one assignment, not a handoff per
   * join. 0 = none.
   */
  long initialRebalanceDelayMs;
  /** While non-zero the group forms: nothing is assigned before this time (state machine ms). */
  long formingUntilMs;
  /** When the forming began (the first join into the empty group); meaningful while forming. */
  long formingSinceMs;
  /**
   * Joins that keep coming hold the first assignment back at most this long (Kafka's bound is the
   * rebalance timeout, 5 min by default). A minute covers the bench's largest cold starts (50 s of
   * joins at 500 a second): a bound inside the joins assigns every group while the rest still join,
   * and each of those takes its share by a handoff.
   */
  static final long MAX_FORMING_MS = 60_000;
  final TreeMap<String, MemberState> members = new TreeMap<>();
  /** topic -> slots indexed by partition id. */
  final TreeMap<String, ArrayList<Slot>> slots = new TreeMap<>();
  private final Counters counters;
  /** Set when something the assignor depends on changed. */
  boolean dirty;

  /** Derived by the assignor: the slots whose holder was asked to release. */
  final ArrayList<Slot> releasing = new ArrayList<>(0);
  /**
   * Derived: no release timeout, takeover deadline or forming end falls before this time (state
   * machine ms). Set only through {@link Timers#schedule}, which keeps the state's bound below it.
   */
  long timersAtMs = Long.MAX_VALUE;
  /**
   * No member's session deadline is before this: a Tick whose cutoff is not past it skips the
   * group without looking at its members (R7). Lowered by every deadline set, raised only by the
   * scan that expires; derived, never in a snapshot (a restored group starts unknown, and scans).
   */
  long earliestDeadlineMs = Long.MIN_VALUE;

  GroupState(String name, boolean order, StartFrom startFrom, long sessionTimeoutMs,
      long heartbeatIntervalMs, long releaseTimeoutMs, Counters counters) {
    this.name = name;
    this.order = order;
    this.startFrom = startFrom;
    this.sessionTimeoutMs = sessionTimeoutMs;
    this.heartbeatIntervalMs = heartbeatIntervalMs;
    this.releaseTimeoutMs = releaseTimeoutMs;
    this.counters = counters;
  }

  long effectiveReleaseTimeoutMs() {
    return releaseTimeoutMs == 0 ? sessionTimeoutMs : releaseTimeoutMs;
  }

  /** The last instant the group may still exist while empty (R7); MAX_VALUE = no deletion due. */
  long deleteAtMs() {
    if (emptySinceMs < 0 || retentionMs == 0 || emptySinceMs > Long.MAX_VALUE - retentionMs) {
      return Long.MAX_VALUE;
    }
    return emptySinceMs + retentionMs;
  }

  Slot slot(String topic, int partition) {
    List<Slot> list = slots.get(topic);
    return list != null && partition >= 0 && partition < list.size() ? list.get(partition) : null;
  }

  int slotCount() {
    int n = 0;
    for (ArrayList<Slot> list : slots.values()) {
      n += list.size();
    }
    return n;
  }

  void addTopic(TopicState topic) {
    ArrayList<Slot> list = new ArrayList<>(topic.size());
    slots.put(topic.name, list);
    addNewPartitions(topic);
  }

  /** Slots for partitions the topic gained (a split or merge), in id order. */
  void addNewPartitions(TopicState topic) {
    ArrayList<Slot> list = slots.get(topic.name);
    int before = list.size();
    for (int id = before; id < topic.size(); id++) {
      list.add(new Slot(topic.name, topic.partition(id)));
    }
    counters.slots += list.size() - before;
    dirty = true;
  }

  /**
   * A new member joins at {@code nowMs}: an empty group with an initial delay starts to form, and
   * a forming group waits the delay again, within its cap. Nobody holds anything while it forms.
   */
  void formOnJoin(long nowMs) {
    if (initialRebalanceDelayMs == 0) {
      return;
    }
    if (members.isEmpty()) {
      formingSinceMs = nowMs;
    } else if (formingUntilMs == 0) {
      return; // assigned already: a join into a running group is handed its share at once
    }
    formingUntilMs = Math.min(nowMs + initialRebalanceDelayMs, formingSinceMs + MAX_FORMING_MS);
  }

  /** Whether the group still forms at {@code nowMs}: it assigns nothing yet. */
  boolean forming(long nowMs) {
    return formingUntilMs != 0 && nowMs < formingUntilMs;
  }

  /** The group stops forming: its next rebalance assigns. */
  void endForming() {
    formingUntilMs = 0;
    formingSinceMs = 0;
    dirty = true;
  }

  void addMember(MemberState member) {
    members.put(member.consumerId, member);
    counters.members++;
    emptySinceMs = -1;
    dirty = true;
  }

  void deadlineSet(long ms) {
    earliestDeadlineMs = Math.min(earliestDeadlineMs, ms);
  }

  /** Forgets the whole group (DeleteGroup): what it counted against the limits is freed. */
  void dropCounts() {
    counters.slots -= slotCount();
    counters.members -= members.size();
  }

  /** Drops a slot's holder (after a release, leave, expiry or finish). */
  void clearHolder(Slot slot) {
    if (slot.holder != null) {
      slot.holder.removeHeld(slot);
      slot.holder = null;
    }
    forgetHolder(slot);
  }

  /**
   * Resets what belonged to the holder, once the holder's held list no longer has the slot. When the
   * holder was asked to let go stays, for the next grant to report.
   */
  void forgetHolder(Slot slot) {
    slot.holder = null;
    slot.releasing = false;
    slot.target = null;
    slot.releaseDeadlineMs = 0;
    slot.announced = false;
    slot.oldSession = false;
    dirty = true;
  }

  void grant(Slot slot, MemberState member, long epoch) {
    slot.holder = member;
    slot.epoch = epoch;
    slot.releasing = false;
    slot.target = null;
    slot.releaseDeadlineMs = 0;
    slot.releaseAskedAtMs = 0;
    slot.announced = false;
    slot.oldSession = false;
  }

  /** {@link #grant}, reported to the observer with the handoff's duration (-1: nobody was asked to let go). */
  void grant(Slot slot, MemberState member, long epoch, CoordinatorState state) {
    long askedAt = slot.releaseAskedAtMs;
    grant(slot, member, epoch);
    state.events.granted(name, slot.topic, slot.info.id, member.consumerId, epoch,
        askedAt == 0 ? -1 : Math.max(0, state.nowMs - askedAt));
  }

  /**
   * Removes a member: what it held is free at once; what was moving to it stays with its holder
   * (the assignor cancels the move when balance allows, R4). Costs what the member holds and
   * receives, not a scan of the group.
   */
  void removeMember(MemberState member, long nowMs) {
    for (Slot slot : member.held) {
      forgetHolder(slot);
    }
    member.held.clear();
    for (Slot slot : member.incoming) {
      if (slot.target == member) {
        slot.target = null;
      }
    }
    member.incoming.clear();
    members.remove(member.consumerId);
    counters.members--;
    if (members.isEmpty()) {
      emptySinceMs = nowMs; // its retention starts (R7)
    }
    dirty = true;
  }
}
