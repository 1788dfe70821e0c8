package io.cohort.statemachine;

import io.cohort.statemachine.proto.PartitionState;

/** A topic partition: its hash range [first, last] (unsigned, inclusive), state and lineage. */
final class PartitionInfo {
  static final long DEFAULT_WEIGHT_MICROS = 1_000_000L;
  /** Shared by every partition without parents or children: one array, not one per partition. */
  static final int[] NONE = new int[0];

  final int id;
  final long first;
  final long last;
  final int[] parents;
  int[] children = NONE;
  PartitionState state = PartitionState.ACTIVE;
  long weightMicros = DEFAULT_WEIGHT_MICROS;
  String endCursor; // null = unknown

  PartitionInfo(int id, long first, long last, int[] parents) {
    this.id = id;
    this.first = first;
    this.last = last;
    this.parents = parents.length == 0 ? NONE : parents;
  }

  boolean sealed() {
    return state == PartitionState.SEALED;
  }

  /** The key that splits the range in two halves: the first key of the upper half. */
  long middleKey() {
    // (last - first) as unsigned, halved, plus one: the upper half starts there.
    return first + ((last - first) >>> 1) + 1;
  }

  boolean adjacentTo(PartitionInfo other) {
    // -1 is the top of the key space: nothing follows it (no wrap-around).
    return (last != -1L && last + 1 == other.first) || (other.last != -1L && other.last + 1 == first);
  }
}
