package io.cohort.client;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads one grant of one partition on its own thread: poll a batch, hand it to the processor,
 * report the new position; at the end of a sealed partition report it finished. Stops between
 * batches when asked; the last processed position is reported before it says it stopped.
 */
final class ReaderTask<R> implements Runnable {
  private static final Logger LOG = LoggerFactory.getLogger(ReaderTask.class);

  /** Where a reader reports to (the consumer's loop). */
  interface Sink {
    void progress(PartitionGrant grant, String cursor, boolean finished, Long lag, Long lagMs);

    void stopped(PartitionGrant grant);
  }

  private final String logPrefix;
  private final PartitionReader<R> reader;
  private final RecordProcessor<R> processor;
  private final ConsumerListener listener;
  private final ConsumerConfig config;
  private final Sink sink;
  private final String startCursor;
  private final CountDownLatch stopLatch = new CountDownLatch(1);
  private final CompletableFuture<Void> done = new CompletableFuture<>();
  private volatile PartitionGrant grant;
  private volatile RevokeReason reason = RevokeReason.CLOSED;

  ReaderTask(String logPrefix, PartitionGrant grant, String startCursor, PartitionReader<R> reader,
      RecordProcessor<R> processor, ConsumerListener listener, ConsumerConfig config, Sink sink) {
    this.logPrefix = logPrefix;
    this.grant = grant;
    this.startCursor = startCursor;
    this.reader = reader;
    this.processor = processor;
    this.listener = listener;
    this.config = config;
    this.sink = sink;
  }

  PartitionGrant grant() {
    return grant;
  }

  CompletableFuture<Void> done() {
    return done;
  }

  /** The grant changed in place (same epoch): e.g. the partition was sealed meanwhile. */
  void refresh(PartitionGrant g) {
    if (g.epoch() == grant.epoch()) {
      grant = g;
    }
  }

  void stop(RevokeReason why) {
    if (stopLatch.getCount() > 0) {
      reason = why;
      stopLatch.countDown();
    }
  }

  private boolean stopping() {
    return stopLatch.getCount() == 0;
  }

  /** Waits the back-off, returning early when stopped. */
  private void backOff() {
    try {
      stopLatch.await(config.errorBackoffMs(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      stop(RevokeReason.CLOSED);
    }
  }

  @Override
  public void run() {
    PartitionGrant g = grant;
    String oldName = Thread.currentThread().getName();
    Thread.currentThread().setName("cohort-reader-" + g.id() + "@" + g.epoch());
    RevokeReason ended = null;
    try {
      if (!stopping()) {
        safeListener(() -> listener.onAssigned(g, startCursor));
        ended = readLoop();
      }
    } catch (RuntimeException | Error e) {
      LOG.error("{} reader of {} failed", logPrefix, g.id(), e);
    } finally {
      RevokeReason why = ended != null ? ended : reason;
      try {
        if (ended != null || stopping()) {
          safeListener(() -> listener.onRevoked(grant, why));
        }
      } finally {
        sink.stopped(grant);
        done.complete(null);
        Thread.currentThread().setName(oldName);
      }
    }
  }

  /** Returns FINISHED when it read a sealed partition to its end, null when stopped. */
  private RevokeReason readLoop() {
    PartitionReader.Session<R> session = null;
    String cursor = startCursor;
    try {
      while (session == null && !stopping()) {
        try {
          session = reader.open(grant, cursor);
        } catch (Exception e) {
          failed(e);
        }
      }
      Batch<R> batch = null;
      while (!stopping()) {
        PartitionGrant g = grant;
        if (cursor != null && g.isEnd(cursor)) {
          sink.progress(g, cursor, true, 0L, null);
          return RevokeReason.FINISHED;
        }
        if (batch == null) {
          try {
            batch = session.poll(config.maxBatchRecords(), config.pollWaitMs());
          } catch (Exception e) {
            failed(e);
            continue;
          }
        }
        if (!batch.records().isEmpty()) {
          try {
            processor.process(g, batch.records());
          } catch (Exception e) {
            failed(e); // the same batch again, unless stopped
            continue;
          }
        }
        String next = batch.nextCursor();
        boolean finished = g.sealed() && (batch.endOfPartition() || g.isEnd(next));
        if (finished || !next.equals(cursor) || !batch.records().isEmpty()) {
          sink.progress(g, next, finished, finished ? Long.valueOf(0) : batch.lag(), batch.lagMs());
        }
        cursor = next;
        batch = null;
        if (finished) {
          return RevokeReason.FINISHED;
        }
      }
      return null;
    } finally {
      if (session != null) {
        try {
          session.close();
        } catch (Exception e) {
          LOG.warn("{} closing the reader of {} failed", logPrefix, grant.id(), e);
        }
      }
    }
  }

  private void failed(Exception e) {
    LOG.warn("{} reading {} failed, retrying in {} ms: {}", logPrefix, grant.id(),
        config.errorBackoffMs(), e.toString());
    safeListener(() -> listener.onError(grant.id(), e));
    backOff();
  }

  private void safeListener(Runnable r) {
    try {
      r.run();
    } catch (RuntimeException e) {
      LOG.warn("{} listener failed", logPrefix, e);
    }
  }
}
