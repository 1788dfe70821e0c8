package io.cohort.client;

import java.util.Objects;

/**
 * How a query is served (R10): linearizable through the leader's ReadIndex (the default), or a
 * stale read from one replica, which may lag behind the last acknowledged write.
 */
public final class ReadMode {
  private static final ReadMode LINEARIZABLE = new ReadMode(null, false);
  private static final ReadMode STALE_ANY = new ReadMode(null, true);

  private final String peerId;
  private final boolean stale;

  private ReadMode(String peerId, boolean stale) {
    this.peerId = peerId;
    this.stale = stale;
  }

  public static ReadMode linearizable() {
    return LINEARIZABLE;
  }

  /** A stale read from the given peer (by id, e.g. "n2"). */
  public static ReadMode stale(String peerId) {
    return new ReadMode(Objects.requireNonNull(peerId, "peerId"), true);
  }

  /** A stale read from the first peer that answers, starting at a random one. */
  public static ReadMode staleAny() {
    return STALE_ANY;
  }

  public boolean isStale() {
    return stale;
  }

  /** The peer a stale read goes to; null for linearizable reads and {@link #staleAny()}. */
  public String peerId() {
    return peerId;
  }

  @Override
  public String toString() {
    return !stale ? "linearizable" : peerId == null ? "stale(any)" : "stale(" + peerId + ")";
  }
}
