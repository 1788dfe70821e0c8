package io.cohort.statemachine;

/**
 * What the coordinator tells an observer as it applies commands, for metrics (step 9). A side
 * output only: an observer never changes the state, and replicas that apply the same log report the
 * same events (replay at start included). Called on the apply thread under the state lock: an
 * implementation must be cheap and must not throw or block.
 *
 * <p>Times are state machine times (R6), so a duration is the same on every replica.
 */
public interface CoordinatorEvents {
  /**
   * A partition was granted to {@code consumer} with {@code epoch}.
   *
   * @param handoffMs for a grant that completes a handoff (R2): from when the previous holder was
   *     asked to release until this grant; -1 for a partition that had no holder to wait for
   */
  void granted(String group, String topic, int partition, String consumer, long epoch, long handoffMs);

  /** A holder did not release within the group's release timeout and lost the grant (R2). */
  void releaseTimedOut(String group, String topic, int partition, String holder, long epoch);

  /**
   * Something a heartbeat would tell the member changed other than a grant or a release timeout
   * (both reported above): a release asked of it or called off, its session replaced (or restored),
   * or it expired. Lets a watch (R12) look at just this member. Default: ignored.
   */
  default void memberTouched(String group, String consumerId) {}

  /** Reports nothing. */
  CoordinatorEvents NONE = new CoordinatorEvents() {
    @Override
    public void granted(String group, String topic, int partition, String consumer, long epoch,
        long handoffMs) {}

    @Override
    public void releaseTimedOut(String group, String topic, int partition, String holder, long epoch) {}
  };
}
