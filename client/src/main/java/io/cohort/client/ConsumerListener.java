package io.cohort.client;

/**
 * Events of a {@link GroupConsumer}. Called from the consumer's threads (a partition's events in
 * order, from a reader pool thread or the consumer's loop thread): keep them short and thread safe.
 * Do not call {@link GroupConsumer#close()} from them.
 */
public interface ConsumerListener {
  /** A reader starts on a grant at {@code startCursor} (null: the grant's start position). */
  default void onAssigned(PartitionGrant grant, String startCursor) {}

  /**
   * A reader stopped (after its last batch was processed). The partition is handed over only after
   * this returns: a processor that acknowledges later can finish its in-flight work here and
   * {@link GroupConsumer#acknowledge} its last cursor, which then rides on the release (R2).
   */
  default void onRevoked(PartitionGrant grant, RevokeReason reason) {}

  /** A checkpoint was acknowledged by the cluster (replicated and applied). */
  default void onCommitted(PartitionId partition, long epoch, String cursor, boolean finished) {}

  /**
   * This consumer's session was taken over by a newer process with the same id: its readers
   * stopped and it left with its final checkpoints (or its session ran out); it stays stopped.
   */
  default void onFenced() {}

  /**
   * Reading or processing a partition failed (the batch is retried after a back-off), or one of
   * its checkpoints was refused (it is dropped, not retried).
   */
  default void onError(PartitionId partition, Throwable error) {}

  /**
   * The consumer stopped for good because it cannot run: the cluster refused its membership
   * (INVALID_ARGUMENT, LIMIT_EXCEEDED, PERMISSION_DENIED) or its settings do not fit the group's
   * session timeout. Its readers stopped first; {@link GroupConsumer#failure()} says why.
   */
  default void onFailed(Throwable error) {}
}
