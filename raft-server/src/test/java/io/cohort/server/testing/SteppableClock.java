package io.cohort.server.testing;

import io.cohort.server.ServerClock;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The system's clocks with a wall clock that tests can step, as NTP or an operator would: the
 * monotonic clock never moves with it.
 */
public final class SteppableClock implements ServerClock {
  private final AtomicLong offsetMs = new AtomicLong();

  @Override
  public long wallMs() {
    return System.currentTimeMillis() + offsetMs.get();
  }

  @Override
  public long monotonicNanos() {
    return System.nanoTime();
  }

  /** Steps the wall clock by {@code deltaMs} (negative: backwards). */
  public void stepMs(long deltaMs) {
    offsetMs.addAndGet(deltaMs);
  }

  /** Sets the wall clock's offset from the system's. */
  public void setOffsetMs(long ms) {
    offsetMs.set(ms);
  }

  public long offsetMs() {
    return offsetMs.get();
  }
}
