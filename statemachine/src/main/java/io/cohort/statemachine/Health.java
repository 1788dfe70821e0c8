package io.cohort.statemachine;

import io.cohort.statemachine.proto.PartitionHealth;

/**
 * How a partition is doing (step 9): stalled, lag stale, reader failing, and the ages behind them.
 * One decision for `group describe`, `checkpoint list` and the /metrics gauges, so that on the same
 * state, time and threshold they say the same thing.
 *
 * <ul>
 *   <li>live holder: it heartbeated within its session timeout (a silent one is about to expire);
 *   <li>behind: the reported lag in records is above 0, or, when only the age of the newest record
 *       read is reported, that age is; a caught-up idle reader (lag 0) commits nothing and is not stalled;
 *   <li>failing: the holder reported an error after its last commit and did not skip the batch;
 *   <li>stalled: a live holder, behind or failing, has made no progress for {@code stallAfterMs}
 *       (since its last commit; when failing without one, since the first failure);
 *   <li>lag stale: a lag is known but no live holder reads the partition, so it is frozen.
 * </ul>
 *
 * <p>A partition read to its end (checkpoint finished) is none of these.
 */
public final class Health {
  /** The threshold when a query names none (the server passes its --stall-after-ms instead). */
  public static final long DEFAULT_STALL_AFTER_MS = 30_000;

  private Health() {}

  /**
   * @param checkpointAgeMs since the checkpoint was committed or reset; -1 without one
   * @param holderHeartbeatAgeMs since the holder's last heartbeat; -1 without a holder
   */
  public record Verdict(boolean stalled, boolean lagStale, boolean failing, long checkpointAgeMs,
      long holderHeartbeatAgeMs) {}

  static Verdict of(GroupState group, Slot slot, long nowMs, long stallAfterMs) {
    MemberState h = slot.holder;
    return judge(h != null, h == null ? 0 : h.lastHeartbeatMs, group.sessionTimeoutMs, slot.checkpoint,
        slot.failure, nowMs, stallAfterMs);
  }

  /** The decision itself, on plain inputs. */
  static Verdict judge(boolean hasHolder, long holderHeartbeatMs, long sessionTimeoutMs, Checkpoint c,
      ReaderFailure failure, long nowMs, long stallAfterMs) {
    long heartbeatAge = hasHolder ? Math.max(0, nowMs - holderHeartbeatMs) : -1;
    boolean liveHolder = hasHolder && heartbeatAge < sessionTimeoutMs;
    long checkpointAge = c == null ? -1 : Math.max(0, nowMs - c.committedAtMs());
    if (c != null && c.finished()) {
      return new Verdict(false, false, false, checkpointAge, heartbeatAge); // read to its end: nothing is behind
    }
    boolean lagKnown = c != null && (c.lag() >= 0 || c.lagMs() >= 0);
    boolean behind = c != null && (c.lag() >= 0 ? c.lag() > 0 : c.lagMs() > 0);
    boolean failing = failure != null && failure.failingSince(c);
    long stuckSinceMs;
    if (behind) {
      stuckSinceMs = c.committedAtMs();
    } else if (failing) {
      stuckSinceMs = c == null ? failure.firstAtMs() : Math.max(c.committedAtMs(), failure.firstAtMs());
    } else {
      stuckSinceMs = Long.MAX_VALUE;
    }
    boolean stalled = liveHolder && stuckSinceMs != Long.MAX_VALUE && nowMs - stuckSinceMs >= stallAfterMs;
    return new Verdict(stalled, lagKnown && !liveHolder, failing, checkpointAge, heartbeatAge);
  }

  static PartitionHealth view(Verdict v, ReaderFailure failure, long stallAfterMs) {
    PartitionHealth.Builder b = PartitionHealth.newBuilder().setStalled(v.stalled()).setLagStale(v.lagStale())
        .setFailing(v.failing()).setStallAfterMs(stallAfterMs);
    if (v.checkpointAgeMs() >= 0) {
      b.setCheckpointAgeMs(v.checkpointAgeMs());
    }
    if (v.holderHeartbeatAgeMs() >= 0) {
      b.setHolderHeartbeatAgeMs(v.holderHeartbeatAgeMs());
    }
    if (failure != null) {
      b.setLastError(failure.toView());
    }
    return b.build();
  }
}
