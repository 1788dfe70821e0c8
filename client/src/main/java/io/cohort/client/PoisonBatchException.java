package io.cohort.client;

/**
 * A batch failed {@link #attempts()} times in a row and the {@link PoisonPolicy} gave up on it:
 * its records were skipped ({@link #skipped()}), or the partition was released. Passed to
 * {@link ConsumerListener#onError} with the last failure as its cause.
 */
public final class PoisonBatchException extends CohortException {
  private final PartitionId partition;
  private final String cursor;
  private final int attempts;
  private final boolean skipped;

  PoisonBatchException(PartitionId partition, String cursor, int attempts, boolean skipped, Throwable cause) {
    super(partition + ": the batch at " + (cursor == null ? "the grant's start" : "'" + cursor + "'") + " failed "
        + attempts + " times in a row; " + (skipped ? "its records were skipped" : "the partition was released")
        + ": " + cause, cause);
    this.partition = partition;
    this.cursor = cursor;
    this.attempts = attempts;
    this.skipped = skipped;
  }

  public PartitionId partition() {
    return partition;
  }

  /** Where the batch starts (null: the grant's start position). */
  public String cursor() {
    return cursor;
  }

  public int attempts() {
    return attempts;
  }

  /** True: skipped and read on; false: the reader stopped and the partition was released. */
  public boolean skipped() {
    return skipped;
  }
}
