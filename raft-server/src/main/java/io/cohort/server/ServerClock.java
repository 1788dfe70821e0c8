package io.cohort.server;

/**
 * The clocks a server reads: the wall clock (may step: NTP, VM pause, operator) and a monotonic
 * clock (never steps). Only the leader reads them, to stamp commands (R6); the state machine reads
 * none. Injectable so tests can step one node's wall clock.
 */
public interface ServerClock {
  /** Milliseconds since the epoch, as {@link System#currentTimeMillis()}. */
  long wallMs();

  /** Nanoseconds from an arbitrary origin, as {@link System#nanoTime()}. */
  long monotonicNanos();

  /** The system's clocks. */
  ServerClock SYSTEM = new ServerClock() {
    @Override
    public long wallMs() {
      return System.currentTimeMillis();
    }

    @Override
    public long monotonicNanos() {
      return System.nanoTime();
    }

    @Override
    public String toString() {
      return "system clock";
    }
  };
}
