package io.cohort.client;

/**
 * Reads one log store's partitions for a {@link GroupConsumer}: implement it for your store
 * (files, Kafka-like logs, object storage). Cursors are opaque strings that name the next record
 * to read; the store decides their form, Cohort only stores and compares them.
 *
 * @param <R> the store's record type, handed to the {@link RecordProcessor}
 */
public interface PartitionReader<R> {

  /**
   * Opens a partition at {@code cursor}, or, when it is null (no checkpoint yet), at the start the
   * grant asks for ({@link PartitionGrant#startFrom()}: BEGIN or END).
   */
  Session<R> open(PartitionGrant grant, String cursor) throws Exception;

  /** One open partition, used by one reader thread at a time. */
  interface Session<R> extends AutoCloseable {
    /**
     * Returns up to {@code maxRecords} records, waiting at most {@code maxWaitMs} for some to
     * arrive (an empty batch is fine). Must return within about {@code maxWaitMs}: the consumer
     * stops a partition between polls.
     */
    Batch<R> poll(int maxRecords, long maxWaitMs) throws Exception;

    @Override
    default void close() throws Exception {}
  }
}
