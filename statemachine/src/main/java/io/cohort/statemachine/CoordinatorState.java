package io.cohort.statemachine;

import java.util.TreeMap;

/** Everything the coordinator knows. Sorted maps, so that iteration order is the same on every replica. */
final class CoordinatorState {
  /** Replicated (R9): changed only by SetLimits. */
  Limits limits;
  /** Whether a SetLimits command ever set the limits (else they are the initial ones). */
  boolean limitsExplicit;
  final TreeMap<String, TopicState> topics = new TreeMap<>();
  final TreeMap<String, GroupState> groups = new TreeMap<>();
  /** State machine time (R6): the largest leader stamp applied so far. */
  long nowMs;
  /** Term of the last applied command: a change pushes session deadlines (R6). */
  long lastTerm;
  long appliedIndex;
  long appliedTerm;

  CoordinatorState(Limits limits) {
    this.limits = limits;
  }
}
