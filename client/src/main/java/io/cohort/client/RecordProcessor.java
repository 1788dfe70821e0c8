package io.cohort.client;

import java.util.List;

/**
 * The application's code: handles one batch of one partition. When it returns, the batch counts
 * as processed and its end cursor is committed with the next flush (at-least-once). If it throws,
 * the consumer reports it to {@link ConsumerListener#onError} and retries the same batch after a
 * back-off.
 */
@FunctionalInterface
public interface RecordProcessor<R> {
  void process(PartitionGrant grant, List<R> records) throws Exception;
}
