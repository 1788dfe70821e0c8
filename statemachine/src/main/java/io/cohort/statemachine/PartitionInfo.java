package io.cohort.statemachine;

import io.cohort.statemachine.proto.PartitionState;

/**
 * A topic partition: its hash range [first, last] (unsigned, inclusive), state and lineage.
 * Immutable: a split, merge or weight change replaces it in its topic and in the slots that point
 * to it, so a snapshot's frozen copy can share it.
 */
final class PartitionInfo {
  static final long DEFAULT_WEIGHT_MICROS = 1_000_000L;
  /** Shared by every partition without parents or children: one array, not one per partition. */
  static final int[] NONE = new int[0];

  final int id;
  final long first;
  final long last;
  final int[] parents;
  final int[] children;
  final PartitionState state;
  final long weightMicros;
  final String endCursor; // null = unknown

  PartitionInfo(int id, long first, long last, int[] parents) {
    this(id, first, last, parents, NONE, PartitionState.ACTIVE, DEFAULT_WEIGHT_MICROS, null);
  }

  PartitionInfo(int id, long first, long last, int[] parents, int[] children, PartitionState state,
      long weightMicros, String endCursor) {
    this.id = id;
    this.first = first;
    this.last = last;
    this.parents = parents.length == 0 ? NONE : parents;
    this.children = children.length == 0 ? NONE : children;
    this.state = state;
    this.weightMicros = weightMicros;
    this.endCursor = endCursor;
  }

  PartitionInfo sealed(String endCursor, int[] children) {
    return new PartitionInfo(id, first, last, parents, children, PartitionState.SEALED, weightMicros, endCursor);
  }

  PartitionInfo withWeight(long micros) {
    return new PartitionInfo(id, first, last, parents, children, state, micros, endCursor);
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
