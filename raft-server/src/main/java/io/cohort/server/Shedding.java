package io.cohort.server;

import io.cohort.statemachine.proto.Code;

/**
 * Overload without collapse (step 11): when the leader's queue of admitted-but-unapplied commands
 * (from startTransaction to apply or cancel, {@link PendingWrites}) is beyond a bound, or its
 * oldest command was admitted more than {@link #SHED_AGE_MS} ago, heartbeats (replicated or quiet)
 * are refused before the log with RETRY_LATER and a retry-after that grows with the queue or its
 * age, so the queue (and every heartbeat's latency) stays short instead of growing until sessions
 * expire and their rejoins add load. Clients back off with jitter and keep their session (they
 * rejoin only when the leader says UNKNOWN_MEMBER).
 *
 * <p>A shed heartbeat still counts as life (step 11): if its session is the member's, the leader
 * keeps a renewal for its next tick, so a consumer shed for a whole session is not expired and need
 * not rejoin. Safe for R2: it got no answer, so it stops reading by its own deadline regardless.
 */
final class Shedding {
  /** Ratis refuses writes beyond 4,096 pending ({@code raft.server.write.element-limit}): stay well below. */
  static final long DEFAULT_SHED_ABOVE_PENDING = 1_024;
  static final long MIN_RETRY_AFTER_MS = 200;
  static final long MAX_RETRY_AFTER_MS = 2_000;
  /**
   * A leader whose oldest unapplied write is older than this is saturated, not busy: a commit
   * takes 10–60 ms here and 260 ms at 512 in flight on the 2-core machine (docs/BENCHMARKS.md).
   */
  static final long SHED_AGE_MS = 1_000;

  private Shedding() {}

  /** The retry-after for a queue of {@code pending} over {@code bound}: 200 ms at the bound, growing with it. */
  static long retryAfterMs(long pending, long bound) {
    long scaled = MIN_RETRY_AFTER_MS * pending / Math.max(1, bound);
    return Math.max(MIN_RETRY_AFTER_MS, Math.min(MAX_RETRY_AFTER_MS, scaled));
  }

  /** The retry-after when the oldest unapplied write is {@code lagMs} old: as long, within 200 ms – 2 s. */
  static long retryAfterMs(long lagMs) {
    return Math.max(MIN_RETRY_AFTER_MS, Math.min(MAX_RETRY_AFTER_MS, lagMs));
  }

  /** Whether a heartbeat is shed with {@code pending} writes waiting, the oldest {@code lagMs} old. */
  static boolean saturated(long pending, long bound, long lagMs) {
    return pending > bound || lagMs > SHED_AGE_MS;
  }

  static CommandAdmission.Refused refuse(CommandAdmission.Admitted admitted, long pending, long bound, long lagMs) {
    String why = pending > bound
        ? "retry after " + retryAfterMs(pending, bound) + " ms: the leader has " + pending
            + " writes waiting to be applied (shedding heartbeats above " + bound + ")"
        : "retry after " + retryAfterMs(lagMs) + " ms: the leader's oldest write waiting to be applied was admitted "
            + lagMs + " ms ago";
    return new CommandAdmission.Refused(Code.RETRY_LATER, admitted.command().getBodyCase(),
        admitted.stamp().principal(), why);
  }
}
