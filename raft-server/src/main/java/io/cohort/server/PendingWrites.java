package io.cohort.server;

import io.cohort.statemachine.proto.Command;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.CompletableFuture;
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
  /**
   * Admission times (ns) of tickets {@code lowestOpen .. lastTicket}, at {@code ticket & mask}; a
   * ticket that is back holds {@link #BACK}. A ring rather than a sorted map: tickets come back
   * nearly in order, and this runs twice per write (a skip list was ~2% of the leader's CPU).
   */
  private long[] admittedNs = new long[INITIAL_CAPACITY];
  /** What each pending ticket's command is (null: not told), at the same slot: said when a quiet heartbeat waits long. */
  private Command.BodyCase[] kinds = new Command.BodyCase[INITIAL_CAPACITY];
  private static final int INITIAL_CAPACITY = 1024;
  private static final long BACK = Long.MIN_VALUE;
  private final PriorityQueue<Waiter> waiters = new PriorityQueue<>(Comparator.comparingLong(Waiter::upTo));
  private long lastTicket;
  /** The lowest ticket not back; {@code lastTicket + 1} when none is pending. */
  private long lowestOpen = 1;
  private volatile int count;
  /** When the lowest open ticket was taken (ns), read without the lock; BACK when none is pending. */
  private volatile long oldestNs = BACK;
  /** The lowest open ticket's kind, read without the lock as {@link #oldestNs} is; null when none is pending. */
  private volatile Command.BodyCase oldestKind;

  PendingWrites(LongSupplier nanoTime) {
    this.nanoTime = nanoTime;
  }

  /** A command is about to be stamped: its ticket, to hand back with {@link #done}. */
  long admit() {
    return admit(null);
  }

  /** A command of {@code kind} is about to be stamped: its ticket, to hand back with {@link #done}. */
  synchronized long admit(Command.BodyCase kind) {
    long ticket = ++lastTicket;
    if (ticket - lowestOpen >= admittedNs.length) {
      grow();
    }
    long now = nanoTime.getAsLong();
    admittedNs[slot(ticket)] = now;
    kinds[slot(ticket)] = kind;
    if (ticket == lowestOpen) {
      oldestNs = now;
      oldestKind = kind;
    }
    count++;
    return ticket;
  }

  private int slot(long ticket) {
    return (int) (ticket & (admittedNs.length - 1));
  }

  private void grow() {
    long[] bigger = new long[admittedNs.length * 2];
    Command.BodyCase[] biggerKinds = new Command.BodyCase[bigger.length];
    for (long t = lowestOpen; t < lastTicket; t++) {
      bigger[(int) (t & (bigger.length - 1))] = admittedNs[slot(t)];
      biggerKinds[(int) (t & (bigger.length - 1))] = kinds[slot(t)];
    }
    admittedNs = bigger;
    kinds = biggerKinds;
  }

  /** The command of {@code ticket} was applied or cancelled (a ticket dropped by {@link #clear} is ignored). */
  void done(long ticket) {
    List<CompletableFuture<Boolean>> ready = new ArrayList<>();
    synchronized (this) {
      if (ticket < lowestOpen || ticket > lastTicket || admittedNs[slot(ticket)] == BACK) {
        return;
      }
      admittedNs[slot(ticket)] = BACK;
      count--;
      while (lowestOpen <= lastTicket && admittedNs[slot(lowestOpen)] == BACK) {
        lowestOpen++;
      }
      oldestNs = lowestOpen <= lastTicket ? admittedNs[slot(lowestOpen)] : BACK;
      oldestKind = lowestOpen <= lastTicket ? kinds[slot(lowestOpen)] : null;
      while (!waiters.isEmpty() && waiters.peek().upTo() < lowestOpen) {
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
      if (lowestOpen > lastTicket) {
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

  /** What the oldest pending command is; null when none is pending or it was admitted without a kind. */
  Command.BodyCase oldestKind() {
    return oldestKind; // no lock: asked by every quiet heartbeat that waits
  }

  /** How long ago the oldest pending command was admitted (0 if none). */
  long oldestAgeMs() {
    long oldest = oldestNs;
    return oldest == BACK ? 0 : TimeUnit.NANOSECONDS.toMillis(Math.max(0, nanoTime.getAsLong() - oldest));
  }

  /**
   * This node stopped leading: what it admitted is the next leader's to apply or drop. Whoever
   * waits is released (and then finds this node no leader).
   */
  void clear() {
    List<Waiter> released;
    synchronized (this) {
      lowestOpen = lastTicket + 1;
      oldestNs = BACK;
      oldestKind = null;
      count = 0;
      released = new ArrayList<>(waiters);
      waiters.clear();
    }
    released.forEach(w -> w.done().complete(true));
  }
}
