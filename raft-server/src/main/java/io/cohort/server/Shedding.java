package io.cohort.server;

import io.cohort.statemachine.proto.Code;

/**
 * Overload without collapse (step 11): when the leader's queue of admitted-but-unapplied commands
 * (counted from startTransaction to apply or cancel) is beyond a bound, heartbeats are refused before the log with RETRY_LATER and a retry-after that
 * grows with the queue, so the queue (and every heartbeat's latency) stays short instead of growing
 * until sessions expire and their rejoins add load. Clients back off with jitter and keep their
 * session (they rejoin only when the leader says UNKNOWN_MEMBER).
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

  private Shedding() {}

  /** The retry-after for a queue of {@code pending} over {@code bound}: 200 ms at the bound, growing with it. */
  static long retryAfterMs(long pending, long bound) {
    long scaled = MIN_RETRY_AFTER_MS * pending / Math.max(1, bound);
    return Math.max(MIN_RETRY_AFTER_MS, Math.min(MAX_RETRY_AFTER_MS, scaled));
  }

  static CommandAdmission.Refused refuse(CommandAdmission.Admitted admitted, long pending, long bound) {
    return new CommandAdmission.Refused(Code.RETRY_LATER, admitted.command().getBodyCase(),
        admitted.stamp().principal(), "retry after " + retryAfterMs(pending, bound) + " ms: the leader has "
            + pending + " writes waiting to be applied (shedding heartbeats above " + bound + ")");
  }
}
