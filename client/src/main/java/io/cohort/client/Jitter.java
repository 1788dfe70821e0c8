package io.cohort.client;

import java.util.concurrent.ThreadLocalRandom;

/**
 * The spread every retry of the client gets (a shed call's retry-after, a failure's back-off), so
 * that consumers refused together do not come back together. Public for the heartbeat bench's
 * simulated consumers, which retry as the client does.
 */
public final class Jitter {
  private Jitter() {}

  /** A factor in [0.5, 1.5): the mean delay stays the nominal one. */
  public static double factor() {
    return 0.5 + ThreadLocalRandom.current().nextDouble();
  }

  /** {@code ms} times a {@link #factor()}. */
  public static long spread(long ms) {
    return (long) (ms * factor());
  }
}
