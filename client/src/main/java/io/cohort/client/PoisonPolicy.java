package io.cohort.client;

/**
 * What a reader does when processing the same batch keeps failing (step 9). Every failure is
 * reported to {@link ConsumerListener#onError} and, with the next heartbeat or commit, to the
 * cluster (`group describe` shows the partition's last error, and STALLED once it has made no
 * progress for the stall threshold). Poll failures are retried the same way but never skipped: there
 * is no batch to skip.
 *
 * <ul>
 *   <li>{@link #retry()} (the default): retry forever, backing off from {@code errorBackoffMs}
 *       (doubling) up to {@code maxErrorBackoffMs}.
 *   <li>{@link #skipAfter(int)}: after that many failures in a row the batch's records are skipped:
 *       its end cursor is committed as if processed, and the skip is reported (`group describe`:
 *       last error, skipped). At least once becomes at most once for those records.
 *   <li>{@link #stopAfter(int)}: after that many failures the reader stops and the consumer releases
 *       the partition (its last good position committed); the error is surfaced as a
 *       {@link PoisonBatchException}. If the coordinator grants the partition back at the same
 *       position, this consumer holds it without reading it until its checkpoint changes (an admin
 *       {@code checkpoint reset}, or another consumer got past the batch).
 * </ul>
 *
 * @param action what to do once {@code maxAttempts} failures happened in a row
 * @param maxAttempts failures of one batch before the action (ignored for {@link Action#RETRY})
 */
public record PoisonPolicy(Action action, int maxAttempts) {
  public enum Action {
    RETRY,
    SKIP,
    STOP
  }

  public PoisonPolicy {
    if (action == null) {
      throw new IllegalArgumentException("a poison policy needs an action");
    }
    if (action != Action.RETRY && maxAttempts < 1) {
      throw new IllegalArgumentException("maxAttempts must be at least 1, got " + maxAttempts);
    }
  }

  public static PoisonPolicy retry() {
    return new PoisonPolicy(Action.RETRY, Integer.MAX_VALUE);
  }

  public static PoisonPolicy skipAfter(int maxAttempts) {
    return new PoisonPolicy(Action.SKIP, maxAttempts);
  }

  public static PoisonPolicy stopAfter(int maxAttempts) {
    return new PoisonPolicy(Action.STOP, maxAttempts);
  }

  /** True when the {@code attempts}-th failure in a row of one batch ends the retries. */
  boolean givesUp(int attempts) {
    return action != Action.RETRY && attempts >= maxAttempts;
  }
}
