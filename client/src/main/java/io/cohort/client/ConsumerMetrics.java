package io.cohort.client;

/**
 * What a {@link GroupConsumer} reports as it works (step 9), to whatever records it. The client
 * ships a Prometheus implementation ({@link ConsumerConfig.Builder#metrics(
 * io.prometheus.metrics.model.registry.PrometheusRegistry)}, labelled with group and consumer); the
 * Prometheus library is an optional dependency, needed only then. Another backend implements the
 * methods it cares about. Called on the consumer's threads: cheap, thread safe, never throwing.
 */
public interface ConsumerMetrics {
  /** Records nothing: the default. */
  ConsumerMetrics NONE = new ConsumerMetrics() {};

  /** A batch of {@code records} was processed in {@code nanos}. */
  default void processed(PartitionId partition, int records, long nanos) {}

  /**
   * Something failed: {@code poll} or {@code process} (the batch is retried), {@code poison_skipped}
   * or {@code poison_stopped} (the poison policy gave up), {@code commit_refused} (a checkpoint was
   * refused and dropped), {@code request_failed} (a heartbeat or commit got no answer), {@code
   * shed} (an overloaded leader asked for a retry), {@code no_leader} (a quiet heartbeat found no
   * leader among the peers it asked: leadership changing hands), {@code fenced} (the session was
   * fenced). {@code partition} is null when the failure is not one partition's (request_failed,
   * shed, no_leader, fenced).
   */
  default void failed(PartitionId partition, String kind) {}

  /** The cluster acknowledged a command carrying {@code entries} checkpoints, {@code nanos} after it was sent. */
  default void committed(int entries, long nanos) {}

  /** A reader started on a grant. */
  default void assigned(PartitionId partition) {}

  /** A reader stopped. */
  default void revoked(PartitionId partition, RevokeReason reason) {}

  /** The reader's latest view of how far behind it is (null: unknown). */
  default void lag(PartitionId partition, Long lag, Long lagMs) {}
}
