package io.cohort.server;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The commands this node admitted as leader and has not applied or cancelled yet (step 11). Each
 * takes a ticket before it is stamped. A quiet heartbeat waits until every ticket taken before it
 * arrived is back ({@link #applied}), so its answer reflects everything stamped before the client
 * sent it (R2) — waiting for the writes ahead of it rather than refusing while any write is in
 * flight, which under load turned every refusal into one more write. The oldest ticket's age tells
 * a saturated leader from a busy one ({@link Shedding}).
 */
final class PendingWrites {
  /** Beyond this many quiet heartbeats waiting, more are shed rather than queued. */
  static final int MAX_WAITERS = 65_536;

  private record Waiter(long upTo, CompletableFuture<Boolean> done) {}

  private static final CompletableFuture<Boolean> NOTHING_PENDING = CompletableFuture.completedFuture(true);

  private final LongSupplier nanoTime;
  /** Ticket to the time it was taken (ns). */
  private final ConcurrentSkipListMap<Long, Long> open = new ConcurrentSkipListMap<>();
  private final PriorityQueue<Waiter> waiters = new PriorityQueue<>(Comparator.comparingLong(Waiter::upTo));
  private long lastTicket;
  private volatile int count;

  PendingWrites(LongSupplier nanoTime) {
    this.nanoTime = nanoTime;
  }

  /** A command is about to be stamped: its ticket, to hand back with {@link #done}. */
  synchronized long admit() {
    long ticket = ++lastTicket;
    open.put(ticket, nanoTime.getAsLong());
    count++;
    return ticket;
  }

  /** The command of {@code ticket} was applied or cancelled (a ticket dropped by {@link #clear} is ignored). */
  void done(long ticket) {
    List<CompletableFuture<Boolean>> ready = new ArrayList<>();
    synchronized (this) {
      if (open.remove(ticket) == null) {
        return;
      }
      count--;
      long lowest = open.isEmpty() ? Long.MAX_VALUE : open.firstKey();
      while (!waiters.isEmpty() && waiters.peek().upTo() < lowest) {
        ready.add(waiters.poll().done());
      }
    }
    ready.forEach(f -> f.complete(true)); // outside the lock: what waits may run here
  }

  /**
   * Completes with true once every command admitted so far is applied or cancelled (at once if none
   * is pending), with false after {@code timeoutMs} or when more than {@link #MAX_WAITERS} wait.
   */
  CompletableFuture<Boolean> applied(long timeoutMs) {
    CompletableFuture<Boolean> done;
    synchronized (this) {
      if (open.isEmpty()) {
        return NOTHING_PENDING;
      }
      if (waiters.size() >= MAX_WAITERS) {
        return CompletableFuture.completedFuture(false);
      }
      done = new CompletableFuture<>();
      waiters.add(new Waiter(lastTicket, done));
    }
    return done.completeOnTimeout(false, timeoutMs, TimeUnit.MILLISECONDS);
  }

  /** Commands admitted and not yet applied or cancelled. */
  int size() {
    return count;
  }

  /** How long ago the oldest pending command was admitted (0 if none). */
  long oldestAgeMs() {
    Map.Entry<Long, Long> oldest = open.firstEntry();
    return oldest == null ? 0 : TimeUnit.NANOSECONDS.toMillis(Math.max(0, nanoTime.getAsLong() - oldest.getValue()));
  }

  /**
   * This node stopped leading: what it admitted is the next leader's to apply or drop. Whoever
   * waits is released (and then finds this node no leader).
   */
  void clear() {
    List<Waiter> released;
    synchronized (this) {
      open.clear();
      count = 0;
      released = new ArrayList<>(waiters);
      waiters.clear();
    }
    released.forEach(w -> w.done().complete(true));
  }
}
