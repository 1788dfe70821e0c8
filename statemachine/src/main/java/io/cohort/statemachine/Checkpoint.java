package io.cohort.statemachine;

/**
 * Consumption progress of one partition in one group. lag and lagMs are -1 when unknown. An
 * {@code atEnd} checkpoint (an admin reset to the end) has no cursor: the next holder starts at the
 * partition's end.
 */
record Checkpoint(
    String cursor, boolean finished, long lag, long lagMs, String committedBy, long committedAtMs,
    long epoch, boolean atEnd) {

  /** What an admin reset leaves: a cursor to resume at, or the partition's end. */
  static Checkpoint reset(String cursor, boolean atEnd, long nowMs, long epoch) {
    return new Checkpoint(atEnd ? "" : cursor, false, -1, -1, "", nowMs, epoch, atEnd);
  }
}
