package io.cohort.client;

import java.util.List;

/**
 * The application's code: handles one batch of one partition. When it returns, the batch counts
 * as processed and (with {@link ConsumerConfig#autoCommit()}) its end cursor is committed with the
 * next flush (at-least-once). If it throws, the consumer reports it to {@link
 * ConsumerListener#onError} and retries the same batch after a back-off.
 *
 * <p>A processor that wants the batch's deadline or acknowledges later implements the two-argument
 * form through {@link #withContext}.
 */
@FunctionalInterface
public interface RecordProcessor<R> {
  void process(PartitionGrant grant, List<R> records) throws Exception;

  /** What the consumer calls for each batch; by default {@link #process(PartitionGrant, List)}. */
  default void process(ProcessingContext context, List<R> records) throws Exception {
    process(context.grant(), records);
  }

  /** A processor that sees each batch's {@link ProcessingContext}. */
  static <R> RecordProcessor<R> withContext(WithContext<R> processor) {
    return new RecordProcessor<>() {
      @Override
      public void process(PartitionGrant grant, List<R> records) {
        throw new UnsupportedOperationException("a context processor needs its ProcessingContext");
      }

      @Override
      public void process(ProcessingContext context, List<R> records) throws Exception {
        processor.process(context, records);
      }
    };
  }

  /** The processing function of {@link #withContext}. */
  @FunctionalInterface
  interface WithContext<R> {
    void process(ProcessingContext context, List<R> records) throws Exception;
  }
}
