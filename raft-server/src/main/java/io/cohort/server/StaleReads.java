package io.cohort.server;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.function.LongSupplier;

/**
 * Stale reads parked until the local apply reaches their index. Ratis' own parking in {@code
 * BaseStateMachine.queryStale} never wakes them (RATIS.md section 1), so the state machine releases
 * them after every apply.
 */
final class StaleReads {
  private final TreeMap<Long, List<CompletableFuture<Void>>> waiting = new TreeMap<>();

  /** Completes once {@code applied} reaches {@code minIndex}. */
  CompletableFuture<Void> await(long minIndex, LongSupplier applied) {
    CompletableFuture<Void> reached = new CompletableFuture<>();
    synchronized (waiting) {
      if (applied.getAsLong() >= minIndex) {
        reached.complete(null);
      } else {
        waiting.computeIfAbsent(minIndex, k -> new ArrayList<>()).add(reached);
      }
    }
    return reached;
  }

  void release(long applied) {
    List<CompletableFuture<Void>> ready = null;
    synchronized (waiting) {
      while (!waiting.isEmpty() && waiting.firstKey() <= applied) {
        if (ready == null) {
          ready = new ArrayList<>();
        }
        ready.addAll(waiting.pollFirstEntry().getValue());
      }
    }
    if (ready != null) {
      ready.forEach(f -> f.complete(null));
    }
  }

  void close(String why) {
    synchronized (waiting) {
      waiting.values().forEach(l -> l.forEach(f -> f.completeExceptionally(new IOException(why))));
      waiting.clear();
    }
  }
}
