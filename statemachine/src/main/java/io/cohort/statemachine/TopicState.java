package io.cohort.statemachine;

import java.util.ArrayList;

/** A topic: partitions indexed by id (ids are dense, never reused). */
final class TopicState {
  final String name;
  final ArrayList<PartitionInfo> partitions = new ArrayList<>();
  /** Derived: this topic as a snapshot record; cleared by every change to a partition. */
  io.cohort.statemachine.proto.TopicRecord cachedRecord;

  TopicState(String name) {
    this.name = name;
  }

  PartitionInfo partition(int id) {
    return id >= 0 && id < partitions.size() ? partitions.get(id) : null;
  }
}
