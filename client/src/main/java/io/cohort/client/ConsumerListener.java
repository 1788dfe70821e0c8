package io.cohort.client;

/**
 * Events of a {@link GroupConsumer}. Called from the consumer's threads (a partition's events in
 * order, from its reader thread or the heartbeat thread): keep them short and thread safe.
 */
public interface ConsumerListener {
  /** A reader starts on a grant at {@code startCursor} (null: the grant's start position). */
  default void onAssigned(PartitionGrant grant, String startCursor) {}

  /** A reader stopped (after its last batch was processed). */
  default void onRevoked(PartitionGrant grant, RevokeReason reason) {}

  /** A checkpoint was acknowledged by the cluster (replicated and applied). */
  default void onCommitted(PartitionId partition, long epoch, String cursor, boolean finished) {}

  /** This consumer's session was taken over by a newer process with the same id: it stopped. */
  default void onFenced() {}

  /** Reading or processing a partition failed; the batch is retried after a back-off. */
  default void onError(PartitionId partition, Throwable error) {}
}
