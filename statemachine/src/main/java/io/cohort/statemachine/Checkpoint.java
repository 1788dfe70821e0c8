package io.cohort.statemachine;

/** Consumption progress of one partition in one group. lag and lagMs are -1 when unknown. */
record Checkpoint(
    String cursor, boolean finished, long lag, long lagMs, String committedBy, long committedAtMs,
    long epoch) {}
