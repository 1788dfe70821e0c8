package io.cohort.harness.bench;

import io.cohort.client.CohortClient;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.Result;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongFunction;

/**
 * A closed-loop load: {@code inFlight} slots, each sending one command and sending the next as soon
 * as its reply came. Records the latency and completion time of every reply while a phase records.
 */
public final class ClosedLoop {
  private final CohortClient client;
  private final LongFunction<Command> commands;
  private final boolean checkOk;
  private final AtomicLong seq = new AtomicLong();
  private volatile boolean stopping;
  private volatile Latencies recording;
  private final AtomicLong errors = new AtomicLong();
  private final AtomicLong ok = new AtomicLong();
  private volatile SuccessListener listener;
  private int running;
  private final Object idle = new Object();
  private static final java.util.concurrent.Executor RETRY =
      CompletableFuture.delayedExecutor(20, java.util.concurrent.TimeUnit.MILLISECONDS);

  /** Called on every successful reply with its send and completion time (nanoTime). */
  public interface SuccessListener {
    void succeeded(long sentNanos, long doneNanos);
  }

  /**
   * @param commands the command to send for a sequence number
   * @param checkOk count a reply whose code is not OK as an error (false for the no-op baseline,
   *     whose replies are empty)
   */
  public ClosedLoop(CohortClient client, LongFunction<Command> commands, boolean checkOk) {
    this.client = client;
    this.commands = commands;
    this.checkOk = checkOk;
  }

  public void onSuccess(SuccessListener l) {
    this.listener = l;
  }

  /** Starts {@code n} more slots. */
  public void add(int n) {
    synchronized (idle) {
      running += n;
    }
    for (int i = 0; i < n; i++) {
      send();
    }
  }

  private void send() {
    if (stopping) {
      synchronized (idle) {
        running--;
        idle.notifyAll();
      }
      return;
    }
    long t0 = System.nanoTime();
    CompletableFuture<Result> f;
    try {
      f = client.execute(commands.apply(seq.incrementAndGet()));
    } catch (RuntimeException e) {
      f = CompletableFuture.failedFuture(e);
    }
    f.whenComplete((r, e) -> {
      long t1 = System.nanoTime();
      if (e != null || (checkOk && r.getCode() != Code.OK)) {
        errors.incrementAndGet();
        RETRY.execute(this::send); // no tight loop while the cluster is unavailable
        return;
      } else {
        ok.incrementAndGet();
        Latencies rec = recording;
        if (rec != null) {
          rec.add(t1 - t0);
        }
        SuccessListener l = listener;
        if (l != null) {
          l.succeeded(t0, t1);
        }
      }
      send();
    });
  }

  public long errors() {
    return errors.get();
  }

  public long ok() {
    return ok.get();
  }

  public void record(Latencies into) {
    this.recording = into;
  }

  /** Stops sending and waits (up to 60 s) for the slots' last replies. */
  public void stop() throws InterruptedException {
    stopping = true;
    long deadline = System.currentTimeMillis() + 60_000;
    synchronized (idle) {
      while (running > 0 && System.currentTimeMillis() < deadline) {
        idle.wait(1000);
      }
    }
  }
}
