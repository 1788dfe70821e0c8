package io.cohort.client;

import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Keeps at most {@code maxInFlight} of a client's Ratis async calls in flight and queues the rest
 * in order, so that no caller ever waits in Ratis' outstanding-requests semaphore, which blocks
 * the calling thread. A consumer's loop thread blocked there sends no keep-alive; a gRPC callback
 * blocked there stalls every answer behind it. A queued call that waited past its deadline is
 * failed instead of sent; beyond {@code maxQueued} waiting calls a new one fails at once. Both
 * failures are {@link CohortUnavailableException}s (retriable; nothing was sent).
 */
final class CallAdmission {
  private final int maxInFlight;
  private final int maxQueued;
  private final LongSupplier nanoClock;
  private final ArrayDeque<Queued<?>> queue = new ArrayDeque<>();
  private int inFlight;

  private record Queued<R>(Supplier<CompletableFuture<R>> start, CompletableFuture<R> result, long deadlineNanos,
      long queuedAtNanos, String what) {}

  CallAdmission(int maxInFlight, int maxQueued, LongSupplier nanoClock) {
    if (maxInFlight < 1 || maxQueued < 0) {
      throw new IllegalArgumentException("maxInFlight " + maxInFlight + ", maxQueued " + maxQueued);
    }
    this.maxInFlight = maxInFlight;
    this.maxQueued = maxQueued;
    this.nanoClock = nanoClock;
  }

  /**
   * Starts the call now if fewer than {@code maxInFlight} are in flight, else queues it.
   *
   * @param deadlineNanos on {@code nanoClock}: a call still queued then is failed, not sent
   */
  <R> CompletableFuture<R> submit(Supplier<CompletableFuture<R>> start, long deadlineNanos, String what) {
    Queued<R> q = new Queued<>(start, new CompletableFuture<>(), deadlineNanos, nanoClock.getAsLong(), what);
    synchronized (this) {
      if (inFlight >= maxInFlight) {
        if (queue.size() >= maxQueued) {
          q.result.completeExceptionally(new CohortUnavailableException(what + ": not sent, this client already has "
              + maxInFlight + " calls in flight and " + maxQueued + " waiting", null));
          return q.result;
        }
        queue.add(q);
        return q.result;
      }
      inFlight++;
    }
    run(q);
    return q.result;
  }

  /** Calls in flight and waiting (tests, metrics). */
  synchronized int inFlight() {
    return inFlight;
  }

  synchronized int queued() {
    return queue.size();
  }

  /**
   * Starts {@code q} and, each time a call ends, the next queued one. A loop rather than a chain of
   * callbacks: calls that fail at once (a closed client) must not grow the stack.
   */
  private void run(Queued<?> q) {
    while (q != null) {
      Queued<?> current = q;
      CompletableFuture<?> started = start(current);
      if (!started.isDone()) {
        started.whenComplete((r, e) -> {
          Queued<?> next = release(); // the slot passes on first: a callback that sends again queues behind
          finish(current, started);
          run(next);
        });
        return;
      }
      q = release();
      finish(current, started);
    }
  }

  private static <R> CompletableFuture<R> start(Queued<R> q) {
    try {
      return q.start.get();
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  @SuppressWarnings("unchecked")
  private static <R> void finish(Queued<R> q, CompletableFuture<?> done) {
    ((CompletableFuture<R>) done).whenComplete((r, e) -> {
      if (e != null) {
        q.result.completeExceptionally(e);
      } else {
        q.result.complete(r);
      }
    });
  }

  /** Frees one slot: hands it to the first queued call still within its deadline (failing those past it). */
  private Queued<?> release() {
    while (true) {
      Queued<?> next;
      synchronized (this) {
        next = queue.poll();
        if (next == null) {
          inFlight--;
          return null;
        }
      }
      long now = nanoClock.getAsLong();
      if (now - next.deadlineNanos < 0) {
        return next;
      }
      next.result.completeExceptionally(new CohortUnavailableException(next.what + ": not sent, it waited "
          + (now - next.queuedAtNanos) / 1_000_000 + " ms behind this client's " + maxInFlight + " calls in flight",
          null));
    }
  }
}
