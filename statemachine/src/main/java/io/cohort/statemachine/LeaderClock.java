package io.cohort.statemachine;

/**
 * The time a leader stamps into commands (R6), computed from readings the caller passes in: this
 * class reads no clock. On becoming leader the base is {@code max(wall clock, state machine time)};
 * after that a stamp is the base plus the monotonic time elapsed since, so a wall-clock step (NTP,
 * VM pause, operator) within a term neither expires a healthy consumer nor freezes expiry. Across
 * terms the state machine pushes every deadline (R6), so a new leader's clock may differ.
 *
 * <p>Thread-safe: stamps are taken on RPC threads in parallel.
 */
public final class LeaderClock {
  private long term = Long.MIN_VALUE;
  private long baseMs;
  private long baseNanos;

  /**
   * Starts a term: called when this node becomes leader and has applied every earlier entry, with
   * the state machine's time then and fresh wall and monotonic readings.
   */
  public synchronized void lead(long term, long stateMachineNowMs, long wallMs, long monotonicNanos) {
    this.term = term;
    this.baseMs = Math.max(wallMs, stateMachineNowMs);
    this.baseNanos = monotonicNanos;
  }

  /** True once {@link #lead} was called for this term. */
  public synchronized boolean leads(long term) {
    return this.term == term;
  }

  /** The stamp for a command accepted now (monotonic reading in nanoseconds). */
  public synchronized long stampMs(long monotonicNanos) {
    return baseMs + Math.max(0, monotonicNanos - baseNanos) / 1_000_000;
  }
}
