package io.cohort.statemachine;

/**
 * What counts against the cluster-wide limits (R9): (group, partition) slots and live members over
 * all groups. Derived state: kept up to date by every change and recounted on rebuild, never stored.
 */
final class Counters {
  long slots;
  long members;
}
