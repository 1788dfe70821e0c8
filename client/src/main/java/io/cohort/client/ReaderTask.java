package io.cohort.client;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads one grant of one partition, one step per run on the shared reader pool: poll a batch,
 * hand it to the processor, report the new position, and submit itself again (after a pause when
 * the poll came back empty without waiting, or after a back-off when something failed). At the
 * end of a sealed partition it reports it finished.
 *
 * <p>R2: a stop request is honoured between steps and checked again after the poll, so a batch
 * polled after a stop was asked is never processed; nor is one once the grant's deadline passed.
 * The last processed position is reported before the task says it stopped. At most one step runs
 * at a time.
 */
final class ReaderTask<R> implements Runnable {
  private static final Logger LOG = LoggerFactory.getLogger(ReaderTask.class);
  private static final long FINISH = -2;
  private static final long PARK = -1;
  private static final long NOW = 0;
  /** How soon a reader whose deadline passed looks again (a heartbeat may renew it, or a stop comes). */
  private static final long DEADLINE_RECHECK_MS = 10;

  private final Readers<R> env;
  private final String startCursor;
  private final CompletableFuture<Void> done = new CompletableFuture<>();
  private volatile PartitionGrant grant;
  private volatile boolean stopRequested;
  private volatile RevokeReason stopReason = RevokeReason.CLOSED;

  // step state: touched by one step at a time
  private PartitionReader.Session<R> session;
  private String cursor;
  private Batch<R> batch;
  /** How long to rest after an empty poll: what is left of the wait it should have taken. */
  private long idleMs;
  private boolean assigned;
  private boolean atEnd;
  private RevokeReason ended;
  /** Failures in a row of the batch at {@link #cursor} (poll or process); 0 after a success. */
  private int attempts;

  // scheduling, under this task's lock
  private boolean queued;
  private boolean running;
  private boolean finished;
  private boolean kickAgain;
  private ScheduledFuture<?> delayed;

  ReaderTask(Readers<R> env, PartitionGrant grant, String startCursor) {
    this.env = env;
    this.grant = grant;
    this.startCursor = startCursor;
    this.cursor = startCursor;
  }

  PartitionGrant grant() {
    return grant;
  }

  /** Completes once the task stopped and closed its session. */
  CompletableFuture<Void> done() {
    return done;
  }

  /** The grant changed in place (same epoch): e.g. the partition was sealed meanwhile. */
  void refresh(PartitionGrant g) {
    if (g.epoch() == grant.epoch()) {
      grant = g;
      kick(); // a parked reader at its position may now be at the end
    }
  }

  /** Asks the reader to stop; the first reason given is the one reported. */
  void stop(RevokeReason why) {
    synchronized (this) {
      if (!stopRequested) {
        stopReason = why;
        stopRequested = true;
      }
    }
    kick();
  }

  boolean stopRequested() {
    return stopRequested;
  }

  /** Makes sure a step runs soon (now, unless one is running: then right after it). */
  void kick() {
    ScheduledFuture<?> cancel;
    synchronized (this) {
      if (finished || queued) {
        return;
      }
      if (running) {
        kickAgain = true;
        return;
      }
      queued = true;
      cancel = delayed;
      delayed = null;
    }
    if (cancel != null) {
      cancel.cancel(false);
    }
    submit();
  }

  private void submit() {
    try {
      env.pool().execute(this);
    } catch (RejectedExecutionException e) {
      finishOnce(); // the pool is shut down: the consumer is closing
    }
  }

  private void later(long delayMs) {
    ScheduledFuture<?> f;
    try {
      f = env.timer().schedule(this::kick, delayMs, TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) {
      finishOnce();
      return;
    }
    synchronized (this) {
      if (queued || running || finished) {
        f.cancel(false); // kicked meanwhile
      } else {
        delayed = f;
      }
    }
  }

  @Override
  public void run() {
    synchronized (this) {
      if (finished || running) {
        return;
      }
      queued = false;
      running = true;
      kickAgain = false;
    }
    long next;
    try {
      next = step();
    } catch (RuntimeException | Error e) {
      LOG.error("{} reader of {} failed", env.logPrefix(), grant.id(), e);
      next = FINISH;
    }
    synchronized (this) {
      running = false;
      if (next != FINISH && (kickAgain || stopRequested)) {
        next = NOW;
      }
      if (next == NOW) {
        queued = true;
      }
    }
    if (next == FINISH) {
      finishOnce();
    } else if (next == NOW) {
      submit();
    } else if (next > 0) {
      later(next);
    } // PARK: resume, refresh or stop kicks it
  }

  private long step() {
    PartitionGrant g = grant;
    if (stopRequested) {
      return FINISH;
    }
    if (!assigned) {
      assigned = true;
      env.reading(g);
      env.metrics().assigned(g.id());
      safeListener(() -> env.listener().onAssigned(g, startCursor));
    }
    if (stopRequested) {
      return FINISH;
    }
    if (atEnd || env.paused(g.id())) {
      return PARK;
    }
    if (session == null) {
      try {
        session = env.reader().open(g, cursor);
      } catch (Exception e) {
        return failed(e, "poll");
      }
    }
    if (batch == null) {
      if (cursor != null && g.isEnd(cursor)) {
        return end(g, cursor, null);
      }
      long waitMs = env.crowded() ? 0 : env.config().pollWaitMs();
      long polledAt = env.nowMs();
      try {
        batch = session.poll(env.config().maxBatchRecords(), waitMs);
      } catch (Exception e) {
        return failed(e, "poll");
      }
      attempts = 0; // a new batch: its own count of failures
      // an empty poll that did not wait (crowded, or a store that returns at once) rests instead
      idleMs = Math.max(0, env.config().pollWaitMs() - (env.nowMs() - polledAt));
    }
    if (stopRequested) {
      return FINISH; // R2: asked to stop while polling: this batch is not processed
    }
    if (env.paused(g.id())) {
      return PARK; // the batch waits for resume
    }
    if (!batch.records().isEmpty()) {
      if (env.nowMs() >= env.deadlineMs(g)) {
        return DEADLINE_RECHECK_MS; // the session may be lost: no processing unless a heartbeat renews it
      }
      long started = System.nanoTime();
      try {
        env.processor().process(new BatchContext(g, batch.nextCursor()), batch.records());
      } catch (Exception e) {
        return failed(e, "process"); // the same batch again, unless stopped or given up on
      }
      env.metrics().processed(g.id(), batch.records().size(), System.nanoTime() - started);
    }
    attempts = 0;
    String next = batch.nextCursor();
    boolean empty = batch.records().isEmpty();
    boolean finishedHere = g.sealed() && (batch.endOfPartition() || g.isEnd(next));
    Batch<R> b = batch;
    batch = null;
    if (finishedHere) {
      cursor = next;
      return end(g, next, b.lagMs());
    }
    if (!empty || !next.equals(cursor)) {
      env.report(g, next, false, b.lag(), b.lagMs());
    }
    cursor = next;
    return empty ? idleMs : NOW;
  }

  /** Read to the end of a sealed partition: finished now (auto-commit) or once acknowledged there. */
  private long end(PartitionGrant g, String at, Long lagMs) {
    env.report(g, at, true, 0L, lagMs);
    if (env.config().autoCommit()) {
      ended = RevokeReason.FINISHED;
      return FINISH;
    }
    atEnd = true; // nothing more to read; stopped once the finished checkpoint is acknowledged
    return PARK;
  }

  /**
   * A poll or process failed: reported (listener, metrics, and the cluster with the next heartbeat
   * or commit), then retried after a growing back-off, unless the poison policy gives up on a batch
   * that keeps failing in process: skip it, or stop and release the partition.
   */
  private long failed(Exception e, String kind) {
    attempts++;
    PartitionGrant g = grant;
    ConsumerConfig config = env.config();
    env.metrics().failed(g.id(), kind);
    safeListener(() -> env.listener().onError(g.id(), e));
    String message = kind + ": " + e;
    if (kind.equals("process") && config.poisonPolicy().givesUp(attempts) && batch != null) {
      boolean skip = config.poisonPolicy().action() == PoisonPolicy.Action.SKIP;
      PoisonBatchException poison = new PoisonBatchException(g.id(), cursor, attempts, skip, e);
      LOG.warn("{} {}", env.logPrefix(), poison.getMessage());
      env.metrics().failed(g.id(), skip ? "poison_skipped" : "poison_stopped");
      safeListener(() -> env.listener().onError(g.id(), poison));
      if (skip) {
        Batch<R> b = batch;
        batch = null;
        attempts = 0;
        String next = b.nextCursor();
        env.report(g, next, false, b.lag(), b.lagMs()); // committed as if processed (auto-commit)
        env.failed(g, cursor, message, poison.attempts(), true);
        cursor = next;
        return NOW;
      }
      env.failed(g, cursor, message, attempts, false);
      env.poisoned(g, cursor);
      stopReason = RevokeReason.POISONED;
      ended = RevokeReason.POISONED;
      return FINISH;
    }
    long delay = config.errorBackoffMs(attempts);
    LOG.warn("{} reading {} failed ({} in a row), retrying in {} ms: {}", env.logPrefix(), g.id(), attempts, delay,
        e.toString());
    env.failed(g, cursor, message, attempts, false);
    return delay;
  }

  private void finishOnce() {
    synchronized (this) {
      if (finished) {
        return;
      }
      if (running) {
        stopRequested = true; // shutting down while another step runs: that step ends it
        return;
      }
      finished = true;
      queued = false;
    }
    try {
      if (session != null) {
        session.close();
      }
    } catch (Exception e) {
      LOG.warn("{} closing the reader of {} failed", env.logPrefix(), grant.id(), e);
    }
    RevokeReason why = ended != null ? ended : stopReason;
    try {
      if (assigned) {
        env.metrics().revoked(grant.id(), why);
        safeListener(() -> env.listener().onRevoked(grant, why));
      }
    } finally {
      env.stopped(this, why);
      done.complete(null);
    }
  }

  private void safeListener(Runnable r) {
    try {
      r.run();
    } catch (RuntimeException e) {
      LOG.warn("{} listener failed", env.logPrefix(), e);
    }
  }

  /** What the processor sees of one batch. */
  private final class BatchContext implements ProcessingContext {
    private final PartitionGrant grant;
    private final String nextCursor;

    BatchContext(PartitionGrant grant, String nextCursor) {
      this.grant = grant;
      this.nextCursor = nextCursor;
    }

    @Override
    public PartitionGrant grant() {
      return grant;
    }

    @Override
    public String nextCursor() {
      return nextCursor;
    }

    @Override
    public long deadlineNanos() {
      long ms = env.deadlineMs(grant);
      return ms == Long.MAX_VALUE ? System.nanoTime() + TimeUnit.DAYS.toNanos(365) : ms * 1_000_000;
    }

    @Override
    public boolean stopRequested() {
      return stopRequested;
    }

    @Override
    public CompletableFuture<Void> acknowledge(String cursor) {
      return env.acknowledge(grant, cursor);
    }
  }
}
