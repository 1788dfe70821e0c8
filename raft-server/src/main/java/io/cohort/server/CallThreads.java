package io.cohort.server;

import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The threads that run the calls on a node's port: Ratis' services, the watches, the admin calls
 * (quiet heartbeats run on the thread that read them, {@link WatchService#CALL_EXECUTORS}). Left to
 * gRPC they ran on its shared cached pool, which starts a thread for every call that finds the
 * others busy: under a heartbeat flood a leader had 434 of them, and on two cores each took its
 * share of CPU from the threads that append and replicate the log. The calls do not block (each
 * hands its work on and returns), so a few threads and a queue serve them as well. The bench's
 * no-op baseline runs its calls on them too.
 */
public final class CallThreads implements AutoCloseable {
  public static final int THREADS = 4;

  private final ThreadPoolExecutor pool;

  public CallThreads(String self) {
    AtomicInteger n = new AtomicInteger();
    pool = new ThreadPoolExecutor(THREADS, THREADS, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(), r -> {
      Thread t = new Thread(r, "cohort-calls-" + self + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
  }

  public Executor executor() {
    return pool;
  }

  /** Takes no more calls; those queued still run (the port is closed first). */
  @Override
  public void close() {
    pool.shutdown();
  }
}
