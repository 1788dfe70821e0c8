package io.cohort.statemachine;

import java.util.TreeMap;

/** Everything the coordinator knows. Sorted maps, so that iteration order is the same on every replica. */
final class CoordinatorState {
  /** Replicated (R9): changed only by SetLimits. */
  Limits limits;
  /** Whether a SetLimits command ever set the limits (else they are the initial ones). */
  boolean limitsExplicit;
  /** Replicated (R11): changed only by the access commands; immutable, replaced on change. */
  Acl acl = Acl.EMPTY;
  final TreeMap<String, TopicState> topics = new TreeMap<>();
  final TreeMap<String, GroupState> groups = new TreeMap<>();
  /** Derived (R9): slots and members over all groups. */
  final Counters counters = new Counters();
  /** State machine time (R6): the largest leader stamp applied so far. */
  long nowMs;
  /** Term of the last applied command: a change pushes session deadlines (R6). */
  long lastTerm;
  /** State machine time at the first command of the current term: release timers restart there (R6). */
  long termStartMs;
  /**
   * Derived: no group's timer fires before this ({@link Timers#fireDue}). Lowered whenever a group's
   * is set ({@link Timers#schedule}), made exact by the scan that fires; never later than any
   * group's, so a replica that restored a snapshot (exact) and one that applied the log (perhaps
   * lower) fire the same timers at the same entry.
   */
  long timersDueAtMs = Long.MAX_VALUE;
  long appliedIndex;
  long appliedTerm;
  /** Not state: told of grants and release timeouts as they happen (metrics); never changes anything. */
  CoordinatorEvents events = CoordinatorEvents.NONE;

  CoordinatorState(Limits limits) {
    this.limits = limits;
  }

  GroupState newGroup(String name, boolean order, io.cohort.statemachine.proto.StartFrom startFrom,
      long sessionTimeoutMs, long heartbeatIntervalMs, long releaseTimeoutMs) {
    return new GroupState(name, order, startFrom, sessionTimeoutMs, heartbeatIntervalMs, releaseTimeoutMs,
        counters);
  }
}
