package io.cohort.statemachine;

import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * A topic: partitions indexed by id (ids are dense, never reused). The array is copied on every
 * change (splits, merges and weight changes are rare) and never changed in place, so a snapshot's
 * frozen copy shares it.
 */
final class TopicState {
  final String name;
  private PartitionInfo[] partitions = new PartitionInfo[0];

  TopicState(String name) {
    this.name = name;
  }

  int size() {
    return partitions.length;
  }

  PartitionInfo partition(int id) {
    return id >= 0 && id < partitions.length ? partitions[id] : null;
  }

  /** In id order, read-only. */
  List<PartitionInfo> partitions() {
    return Collections.unmodifiableList(Arrays.asList(partitions));
  }

  /** The current array, never changed after this call: for frozen copies. */
  PartitionInfo[] shared() {
    return partitions;
  }

  /** Appends partitions whose ids are the next ones. */
  void add(PartitionInfo... added) {
    PartitionInfo[] next = Arrays.copyOf(partitions, partitions.length + added.length);
    for (int i = 0; i < added.length; i++) {
      if (added[i].id != partitions.length + i) {
        throw new IllegalArgumentException("topic '" + name + "': partition ids are not dense at " + added[i].id);
      }
      next[partitions.length + i] = added[i];
    }
    partitions = next;
  }

  /** Puts a changed partition in place of the one with its id. */
  void replace(PartitionInfo changed) {
    PartitionInfo[] next = partitions.clone();
    next[changed.id] = changed;
    partitions = next;
  }
}
