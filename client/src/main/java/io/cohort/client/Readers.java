package io.cohort.client;

import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Supervises a consumer's partition readers: starts one {@link ReaderTask} per grant (after the
 * previous reader of that partition stopped), stops, pauses and resumes them, and runs them all on
 * a bounded pool of {@link ConsumerConfig#readerThreads()} threads, each task one step per
 * submission so N partitions share K threads in turn. It also holds what the tasks consult while
 * they run: the deadline after which they must not process (R2), and which partitions are paused.
 */
final class Readers<R> {
  private static final Logger LOG = LoggerFactory.getLogger(Readers.class);

  /** Where readers report to (the consumer's loop). */
  interface Sink {
    /** Auto-commit: processed up to {@code cursor}. */
    void progress(PartitionGrant grant, String cursor, boolean finished, Long lag, Long lagMs);

    /** Acknowledge-later: read up to {@code cursor} (committed only when acknowledged). */
    void position(PartitionGrant grant, String cursor, boolean endReached, Long lag, Long lagMs);

    CompletableFuture<Void> acknowledge(PartitionGrant grant, String cursor);

    /** A reader stopped (after its last report); called once per started grant. */
    void stopped(PartitionGrant grant);

    /**
     * Reading the batch at {@code cursor} failed ({@code attempts} in a row); {@code skipped}: the
     * poison policy skipped it. Reported to the cluster with the next heartbeat or commit.
     */
    void failed(PartitionGrant grant, String cursor, String message, int attempts, boolean skipped);

    /** The poison policy stops this reader: release the partition, and do not read it again at {@code cursor}. */
    void poisoned(PartitionGrant grant, String cursor);
  }

  private final String logPrefix;
  private final ConsumerConfig config;
  private final PartitionReader<R> reader;
  private final RecordProcessor<R> processor;
  private final ConsumerListener listener;
  private final ScheduledExecutorService timer;
  private final LongSupplier clockMs;
  private final Sink sink;
  private final ThreadPoolExecutor pool;
  private final Set<Thread> threads = ConcurrentHashMap.newKeySet();
  private final Map<PartitionId, ReaderTask<R>> tasks = new ConcurrentHashMap<>();
  private final Map<PartitionId, PartitionGrant> reading = new ConcurrentHashMap<>();
  private final Set<PartitionId> paused = ConcurrentHashMap.newKeySet();
  private final Map<PartitionId, Long> releaseByMs = new ConcurrentHashMap<>();
  private volatile long fenceAtMs = Long.MAX_VALUE;

  Readers(String logPrefix, String threadName, ConsumerConfig config, PartitionReader<R> reader,
      RecordProcessor<R> processor, ConsumerListener listener, ScheduledExecutorService timer,
      LongSupplier clockMs, Sink sink) {
    this.logPrefix = logPrefix;
    this.config = config;
    this.reader = reader;
    this.processor = processor;
    this.listener = listener;
    this.timer = timer;
    this.clockMs = clockMs;
    this.sink = sink;
    AtomicInteger n = new AtomicInteger();
    this.pool = new ThreadPoolExecutor(config.readerThreads(), config.readerThreads(), 30, TimeUnit.SECONDS,
        new LinkedBlockingQueue<>(), r -> {
          Thread t = new Thread(() -> {
            threads.add(Thread.currentThread());
            try {
              r.run();
            } finally {
              threads.remove(Thread.currentThread());
            }
          }, threadName + "-" + n.incrementAndGet());
          t.setDaemon(true);
          return t;
        });
    this.pool.allowCoreThreadTimeOut(true);
  }

  // ------------------------------------------------------------------ the loop's side

  /** Starts a reader on the grant at {@code cursor}, once the previous reader of that partition stopped. */
  void start(PartitionGrant grant, String cursor) {
    ReaderTask<R> task = new ReaderTask<>(this, grant, cursor);
    ReaderTask<R> previous = tasks.put(grant.id(), task);
    releaseByMs.remove(grant.id());
    if (previous == null) {
      task.kick();
    } else {
      previous.done().whenComplete((v, e) -> task.kick());
    }
  }

  /** Stops the reader of this grant if it is the one running (same epoch). */
  void stop(PartitionGrant grant, RevokeReason why) {
    ReaderTask<R> t = tasks.get(grant.id());
    if (t != null && t.grant().epoch() == grant.epoch()) {
      LOG.info("{} stopping {} epoch {}: {}", logPrefix, grant.id(), grant.epoch(), why);
      t.stop(why);
    }
  }

  void refresh(PartitionGrant grant) {
    ReaderTask<R> t = tasks.get(grant.id());
    if (t != null) {
      reading.computeIfPresent(grant.id(), (id, old) -> old.epoch() == grant.epoch() ? grant : old);
      t.refresh(grant);
    }
  }

  /** Stops every reader (halt). */
  void stopAll(RevokeReason why) {
    for (ReaderTask<R> t : tasks.values()) {
      t.stop(why);
    }
  }

  /** Readers must not process at or after this instant unless a heartbeat moves it (session fence). */
  void fenceAt(long atMs) {
    fenceAtMs = atMs;
  }

  /** A partition told to release must be let go by then (its release timeout runs from the request). */
  void releaseBy(PartitionId id, long atMs) {
    releaseByMs.put(id, atMs);
  }

  /** Keeps the grant, stops reading it between steps; false when it is not being read. */
  boolean pause(PartitionId id) {
    if (!tasks.containsKey(id)) {
      return false;
    }
    paused.add(id);
    return true;
  }

  /** Reads on from where the reader paused; false when it was not paused. */
  boolean resume(PartitionId id) {
    if (!paused.remove(id)) {
      return false;
    }
    ReaderTask<R> t = tasks.get(id);
    if (t != null) {
      t.kick();
    }
    return true;
  }

  Set<PartitionId> paused() {
    Set<PartitionId> out = new TreeSet<>(paused);
    out.retainAll(tasks.keySet());
    return out;
  }

  /** Forgets pauses (the session is gone: nothing held any more). */
  void clearPauses() {
    paused.clear();
  }

  Map<PartitionId, PartitionGrant> reading() {
    return Map.copyOf(reading);
  }

  /** True on one of this consumer's reader threads. */
  boolean isReaderThread() {
    return threads.contains(Thread.currentThread());
  }

  /** Threads alive in the pool now. */
  int poolSize() {
    return pool.getPoolSize();
  }

  void shutdown(long timeoutMs) {
    pool.shutdown();
    try {
      if (!pool.awaitTermination(timeoutMs, TimeUnit.MILLISECONDS)) {
        pool.shutdownNow();
      }
    } catch (InterruptedException e) {
      pool.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }

  // ------------------------------------------------------------------ the tasks' side

  String logPrefix() {
    return logPrefix;
  }

  ConsumerConfig config() {
    return config;
  }

  PartitionReader<R> reader() {
    return reader;
  }

  RecordProcessor<R> processor() {
    return processor;
  }

  ConsumerListener listener() {
    return listener;
  }

  ConsumerMetrics metrics() {
    return config.metrics();
  }

  Executor pool() {
    return pool;
  }

  ScheduledExecutorService timer() {
    return timer;
  }

  long nowMs() {
    return clockMs.getAsLong();
  }

  boolean paused(PartitionId id) {
    return paused.contains(id);
  }

  /** More runnable readers than threads: polls must not wait, or the others would wait behind them. */
  boolean crowded() {
    return tasks.size() - paused.size() > config.readerThreads();
  }

  /** The instant after which this grant's reader must not process (Long.MAX_VALUE: none known). */
  long deadlineMs(PartitionGrant grant) {
    Long releaseBy = releaseByMs.get(grant.id());
    return releaseBy == null ? fenceAtMs : Math.min(fenceAtMs, releaseBy);
  }

  void reading(PartitionGrant grant) {
    reading.put(grant.id(), grant);
  }

  void report(PartitionGrant grant, String cursor, boolean finished, Long lag, Long lagMs) {
    config.metrics().lag(grant.id(), lag, lagMs);
    if (config.autoCommit()) {
      sink.progress(grant, cursor, finished, lag, lagMs);
    } else {
      sink.position(grant, cursor, finished, lag, lagMs);
    }
  }

  CompletableFuture<Void> acknowledge(PartitionGrant grant, String cursor) {
    return sink.acknowledge(grant, cursor);
  }

  void failed(PartitionGrant grant, String cursor, String message, int attempts, boolean skipped) {
    sink.failed(grant, cursor, message, attempts, skipped);
  }

  void poisoned(PartitionGrant grant, String cursor) {
    sink.poisoned(grant, cursor);
  }

  void stopped(ReaderTask<R> task, RevokeReason why) {
    PartitionId id = task.grant().id();
    reading.computeIfPresent(id, (k, g) -> g.epoch() == task.grant().epoch() ? null : g);
    if (tasks.remove(id, task)) {
      releaseByMs.remove(id);
      if (why != RevokeReason.SESSION_AT_RISK) {
        paused.remove(id); // a pause lasts while the partition is ours (and across a reset's restart)
      }
    }
    sink.stopped(task.grant());
  }
}
