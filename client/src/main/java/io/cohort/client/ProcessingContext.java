package io.cohort.client;

import java.util.concurrent.CompletableFuture;

/**
 * What a {@link RecordProcessor} may know about the batch it processes (see {@link
 * RecordProcessor#withContext}).
 */
public interface ProcessingContext {
  /** The grant the batch was read under; commits carry its epoch (R3). */
  PartitionGrant grant();

  /** The cursor just past this batch: what auto-commit commits once {@code process} returns. */
  String nextCursor();

  /**
   * The {@link System#nanoTime()} instant after which this consumer must not process any more of
   * this partition unless a heartbeat renews it: the session may expire (or, for a partition being
   * released, the release time may run out) soon after, and then another consumer may read it. A
   * heartbeat that succeeds moves it forward; read it again rather than caching it.
   */
  long deadlineNanos();

  /** True once {@link #deadlineNanos()} has passed: stop processing and return. */
  default boolean expired() {
    return System.nanoTime() - deadlineNanos() >= 0;
  }

  /** Milliseconds left until {@link #deadlineNanos()} (0 when passed). */
  default long remainingMs() {
    return Math.max(0, (deadlineNanos() - System.nanoTime()) / 1_000_000);
  }

  /** True once the reader was asked to stop (released, closing, fenced): finish fast. */
  boolean stopRequested();

  /**
   * Acknowledge-later: commits {@code cursor} for this grant, as {@link GroupConsumer#acknowledge}
   * does. Safe to call from any thread, after {@code process} returned.
   */
  CompletableFuture<Void> acknowledge(String cursor);
}
