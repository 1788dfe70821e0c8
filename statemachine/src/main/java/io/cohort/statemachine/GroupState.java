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
  final TreeMap<String, MemberState> members = new TreeMap<>();
  /** topic -> slots indexed by partition id. */
  final TreeMap<String, ArrayList<Slot>> slots = new TreeMap<>();
  /** Set when something the assignor depends on changed. */
  boolean dirty;

  GroupState(String name, boolean order, StartFrom startFrom, long sessionTimeoutMs,
      long heartbeatIntervalMs) {
    this.name = name;
    this.order = order;
    this.startFrom = startFrom;
    this.sessionTimeoutMs = sessionTimeoutMs;
    this.heartbeatIntervalMs = heartbeatIntervalMs;
  }

  Slot slot(String topic, int partition) {
    List<Slot> list = slots.get(topic);
    return list != null && partition >= 0 && partition < list.size() ? list.get(partition) : null;
  }

  void addTopic(TopicState topic) {
    ArrayList<Slot> list = new ArrayList<>(topic.partitions.size());
    for (PartitionInfo p : topic.partitions) {
      list.add(new Slot(topic.name, p));
    }
    slots.put(topic.name, list);
    dirty = true;
  }

  /** Drops a slot's holder (after a release, leave, expiry or finish). */
  void clearHolder(Slot slot) {
    if (slot.holder != null) {
      slot.holder.removeHeld(slot);
      slot.holder = null;
    }
    slot.releasing = false;
    slot.target = null;
    slot.announced = false;
    dirty = true;
  }

  void grant(Slot slot, MemberState member, long epoch) {
    slot.holder = member;
    slot.epoch = epoch;
    slot.releasing = false;
    slot.target = null;
    slot.announced = false;
    slot.cachedGrant = null;
    member.addHeld(slot);
  }

  /** Removes a member: what it held is free at once, what was moving to it stays put. */
  void removeMember(MemberState member) {
    for (Slot slot : new ArrayList<>(member.held)) {
      clearHolder(slot);
    }
    for (ArrayList<Slot> list : slots.values()) {
      for (Slot slot : list) {
        if (slot.target == member) {
          slot.target = null;
        }
      }
    }
    members.remove(member.consumerId);
    dirty = true;
  }
}
