package io.cohort.client;

import io.cohort.client.ConsumerState.Action;
import io.cohort.client.ConsumerState.Flush;
import io.cohort.statemachine.proto.CheckpointEntry;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.CommitResult;
import io.cohort.statemachine.proto.HeartbeatResult;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A member of one consumer group: joins, heartbeats at the interval the coordinator suggests,
 * runs one reader per granted partition through a {@link PartitionReader}, commits their
 * positions with the grant's epoch, hands partitions over promptly when told to, and leaves on
 * {@link #close()}.
 *
 * <ul>
 *   <li>Commits: every heartbeat carries all unacknowledged positions (R1); a position not yet sent
 *       goes in its own command once it is {@code commitIntervalMs} old unless a heartbeat is due
 *       within half of that; {@link #commitAsync()} flushes at once; a sealed partition read to
 *       its end is committed {@code finished} at once.
 *   <li>Release (R2, DESIGN §7): the reader stops first; the heartbeat that leaves the partition out
 *       of {@code held} goes at once and carries its final position, which the coordinator applies
 *       before it lets go, so the next holder resumes exactly there.
 *   <li>Fencing (R3): a fenced entry or a grant with a new epoch stops that reader; a new epoch
 *       restarts it from the grant's cursor. A FENCED heartbeat (another process took this consumer
 *       id) stops everything for good; UNKNOWN_MEMBER (expired) stops everything and joins again.
 *   <li>Session at risk: with no successful heartbeat for the session timeout minus a margin,
 *       readers stop (their partitions may go to others) and resume if the session survived.
 * </ul>
 *
 * <p>Threads: one loop thread owns the protocol state ({@link ConsumerState}) and talks to the
 * cluster without blocking, one request at a time; each partition is read on its own thread.
 * Reuse the consumer id across restarts to keep the partitions (static membership).
 */
public final class GroupConsumer<R> implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(GroupConsumer.class);
  private static final long FIRST_INTERVAL_MS = 1000;

  public enum Status {
    /** Not a member yet (starting, or rejoining after its session was lost). */
    JOINING,
    /** A member with a live session. */
    ACTIVE,
    /** Another process took over this consumer id: stopped for good. */
    FENCED,
    /** Closed. */
    CLOSED
  }

  private final ConsumerTransport client;
  private final ConsumerConfig config;
  private final PartitionReader<R> reader;
  private final RecordProcessor<R> processor;
  private final ConsumerListener listener;
  private final String logPrefix;
  private final ScheduledExecutorService loop;
  private final ExecutorService readerPool;
  private final ConsumerState state;

  // loop-thread state
  /** Loop-thread owned, concurrent only so that {@link #halt()} can stop them. */
  private final Map<PartitionId, ReaderTask<R>> tasks = new ConcurrentHashMap<>();
  private final List<CompletableFuture<Void>> commitWaiters = new ArrayList<>();
  private boolean inFlight;
  private long nextHeartbeatAtMs;
  private long lastOkSentAtMs;
  private long retryNotBeforeMs;
  private int failuresInARow;
  private ScheduledFuture<?> wake;
  private long wakeAtMs = Long.MAX_VALUE;
  private volatile boolean closing;
  private CompletableFuture<Void> leaveWhenIdle;

  private volatile Thread loopThread;
  private volatile Status status = Status.JOINING;
  private volatile long session;
  private final ConcurrentHashMap<PartitionId, PartitionGrant> reading = new ConcurrentHashMap<>();
  private final CompletableFuture<Void> closed = new CompletableFuture<>();

  private GroupConsumer(ConsumerTransport client, ConsumerConfig config, PartitionReader<R> reader,
      RecordProcessor<R> processor, ConsumerListener listener) {
    this.client = Objects.requireNonNull(client, "client");
    this.config = Objects.requireNonNull(config, "config");
    this.reader = Objects.requireNonNull(reader, "reader");
    this.processor = Objects.requireNonNull(processor, "processor");
    this.listener = listener != null ? listener : new ConsumerListener() {};
    this.logPrefix = "[group " + config.group() + "] consumer " + config.consumerId() + ":";
    this.state = new ConsumerState(config.group(), config.consumerId());
    String name = "cohort-consumer-" + config.group() + "-" + config.consumerId();
    this.loop = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      loopThread = t;
      return t;
    });
    this.readerPool = Executors.newCachedThreadPool(threads(name + "-reader"));
  }

  /** Starts a consumer without a listener. */
  public static <R> GroupConsumer<R> start(CohortClient client, ConsumerConfig config,
      PartitionReader<R> reader, RecordProcessor<R> processor) {
    return start(client, config, reader, processor, null);
  }

  /**
   * Starts a consumer: it joins at once and keeps going until {@link #close()}. The client stays
   * the caller's (several consumers may share one; close it after them).
   */
  public static <R> GroupConsumer<R> start(CohortClient client, ConsumerConfig config,
      PartitionReader<R> reader, RecordProcessor<R> processor, ConsumerListener listener) {
    return start((ConsumerTransport) client, config, reader, processor, listener);
  }

  static <R> GroupConsumer<R> start(ConsumerTransport client, ConsumerConfig config,
      PartitionReader<R> reader, RecordProcessor<R> processor, ConsumerListener listener) {
    GroupConsumer<R> c = new GroupConsumer<>(client, config, reader, processor, listener);
    c.nextHeartbeatAtMs = now();
    c.post(c::pump);
    return c;
  }

  private static ThreadFactory threads(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  private static long now() {
    return System.nanoTime() / 1_000_000;
  }

  public Status status() {
    return status;
  }

  /** The current session token (0 while joining). */
  public long session() {
    return session;
  }

  public ConsumerConfig config() {
    return config;
  }

  /** The partitions whose readers run now, with their grants. */
  public Map<PartitionId, PartitionGrant> reading() {
    return Map.copyOf(reading);
  }

  /** The partitions being read now, sorted. */
  public Set<PartitionId> assignment() {
    return new TreeSet<>(reading.keySet());
  }

  /**
   * Commits every processed position now (one command; on the heartbeat if one is about to go).
   * Completes when the cluster acknowledged it; fenced entries drop their partition (R3).
   */
  public CompletableFuture<Void> commitAsync() {
    CompletableFuture<Void> f = new CompletableFuture<>();
    if (!post(() -> {
      commitWaiters.add(f);
      pump();
    })) {
      f.completeExceptionally(new CohortClosedException(logPrefix + " closed", null));
    }
    return f;
  }

  /** Blocking {@link #commitAsync()}. */
  public void commit() {
    BlockingCohortClient.await(commitAsync());
  }

  private boolean post(Runnable r) {
    try {
      loop.execute(() -> {
        try {
          r.run();
        } catch (RuntimeException e) {
          LOG.error("{} internal error", logPrefix, e);
        }
      });
      return true;
    } catch (RejectedExecutionException e) {
      return false;
    }
  }

  // ------------------------------------------------------------------ the loop

  private void pump() {
    if (status == Status.FENCED || status == Status.CLOSED || closing) {
      return;
    }
    long now = now();
    long sto = state.sessionTimeoutMs();
    long watchdogAt = Long.MAX_VALUE;
    if (state.session() != 0 && sto > 0) {
      watchdogAt = lastOkSentAtMs + sto - config.marginFor(sto);
      if (now >= watchdogAt && !state.parts().isEmpty()) {
        List<Action> paused = state.pauseAll();
        if (!paused.isEmpty()) {
          LOG.warn("{} no heartbeat succeeded for {} ms (session timeout {} ms): stopped reading {}",
              logPrefix, now - lastOkSentAtMs, sto, state.parts().keySet());
          apply(paused);
        }
      }
      if (now >= watchdogAt) {
        watchdogAt = Long.MAX_VALUE;
      }
    }
    if (state.session() == 0 && !commitWaiters.isEmpty() && !inFlight) {
      failWaiters(commitWaiters, new CohortUnavailableException(logPrefix + " not a member now", null));
    }
    long commitAt = Long.MAX_VALUE;
    if (!inFlight && now >= retryNotBeforeMs) {
      if (state.heartbeatNow() || now >= nextHeartbeatAtMs) {
        sendHeartbeat(now);
      } else if (state.session() != 0 && state.hasPending()) {
        long oldest = state.oldestPendingMs();
        long due = oldest == Long.MAX_VALUE ? Long.MAX_VALUE : oldest + config.commitIntervalMs();
        boolean onDemand = state.commitNow() || !commitWaiters.isEmpty();
        boolean heartbeatSoon = nextHeartbeatAtMs - now <= config.commitIntervalMs() / 2;
        if ((onDemand || now >= due) && !heartbeatSoon) {
          sendCommit(now);
        } else if (!heartbeatSoon) {
          commitAt = due;
        }
      } else if (!commitWaiters.isEmpty()) {
        completeWaiters(new ArrayList<>(commitWaiters));
        commitWaiters.clear();
      }
    }
    long next = inFlight ? Long.MAX_VALUE : Math.max(retryNotBeforeMs, Math.min(nextHeartbeatAtMs, commitAt));
    schedule(Math.min(next, watchdogAt));
  }

  private void schedule(long atMs) {
    if (atMs == Long.MAX_VALUE) {
      return;
    }
    if (wake != null && !wake.isDone() && wakeAtMs <= atMs) {
      return;
    }
    if (wake != null) {
      wake.cancel(false);
    }
    wakeAtMs = atMs;
    try {
      wake = loop.schedule(() -> {
        wakeAtMs = Long.MAX_VALUE;
        pump();
      }, Math.max(0, atMs - now()), TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) {
      // shutting down
    }
  }

  private void sendHeartbeat(long now) {
    Flush f = state.flush();
    List<CompletableFuture<Void>> waiters = takeWaiters();
    inFlight = true;
    long interval = state.nextHeartbeatMs() > 0 ? state.nextHeartbeatMs() : FIRST_INTERVAL_MS;
    nextHeartbeatAtMs = now + interval;
    if (f.session() == 0) {
      status = Status.JOINING;
      LOG.debug("{} joining", logPrefix);
    }
    client.heartbeat(state.heartbeat(f)).whenComplete((r, e) -> post(() -> onHeartbeat(f, now, r, e, waiters)));
  }

  private void onHeartbeat(Flush f, long sentAt, HeartbeatResult r, Throwable e,
      List<CompletableFuture<Void>> waiters) {
    inFlight = false;
    if (closing || status == Status.CLOSED) {
      if (e == null) {
        apply(state.onHeartbeat(f, r)); // keeps pending checkpoints and acks right for the leave
      } else if (Failures.map(e, "heartbeat") instanceof CohortRejectedException rej) {
        apply(state.onRejected(rej.code()));
      }
      leaveIfWaiting();
      return;
    }
    if (e == null) {
      boolean joined = f.session() == 0;
      lastOkSentAtMs = sentAt;
      failuresInARow = 0;
      List<Action> actions = state.onHeartbeat(f, r);
      session = state.session();
      status = Status.ACTIVE;
      if (joined) {
        LOG.info("{} joined, session {}, {} grants", logPrefix, r.getSession(), r.getGrantsCount());
      }
      nextHeartbeatAtMs = sentAt + Math.max(1, r.getNextHeartbeatMs());
      apply(actions);
      completeWaiters(waiters);
    } else {
      CohortException ce = Failures.map(e, "heartbeat");
      failWaiters(waiters, ce);
      onFailure(ce, "heartbeat");
    }
    pump();
  }

  private void sendCommit(long now) {
    Flush f = state.flush();
    List<CompletableFuture<Void>> waiters = takeWaiters();
    inFlight = true;
    client.commit(state.commit(f)).whenComplete((r, e) -> post(() -> onCommit(f, r, e, waiters)));
  }

  private void onCommit(Flush f, CommitResult r, Throwable e, List<CompletableFuture<Void>> waiters) {
    inFlight = false;
    if (closing) {
      if (e == null) {
        apply(state.onCommit(f, r.getCodesList()));
        completeWaiters(waiters);
      } else {
        failWaiters(waiters, Failures.map(e, "commit"));
      }
      leaveIfWaiting();
      return;
    }
    if (e == null) {
      failuresInARow = 0;
      apply(state.onCommit(f, r.getCodesList()));
      completeWaiters(waiters);
    } else {
      CohortException ce = Failures.map(e, "commit");
      failWaiters(waiters, ce);
      if (!closing && status != Status.CLOSED) {
        onFailure(ce, "commit");
      }
    }
    pump();
  }

  private void onFailure(CohortException ce, String what) {
    if (ce instanceof CohortRejectedException rej) {
      Code code = rej.code();
      switch (code) {
        case FENCED -> LOG.warn("{} fenced: another process joined with this consumer id", logPrefix);
        case UNKNOWN_MEMBER -> LOG.warn("{} session expired or left: stopping all partitions, joining again",
            logPrefix);
        default -> LOG.warn("{} {} refused: {}", logPrefix, what, rej.getMessage());
      }
      apply(state.onRejected(code));
      session = state.session();
      if (state.session() == 0 && status != Status.FENCED) {
        status = Status.JOINING;
      }
      if (code != Code.UNKNOWN_MEMBER) {
        backOff();
      }
    } else {
      long delay = backOff();
      LOG.warn("{} {} failed, retrying in {} ms: {}", logPrefix, what, delay, ce.getMessage());
    }
  }

  /** Waits retryMs after a failure, doubling while failures repeat, up to 10 s. */
  private long backOff() {
    long delay = Math.min(10_000, config.retryMs() << Math.min(failuresInARow, 10));
    failuresInARow++;
    retryNotBeforeMs = now() + delay;
    nextHeartbeatAtMs = Math.min(nextHeartbeatAtMs, retryNotBeforeMs);
    return delay;
  }

  private List<CompletableFuture<Void>> takeWaiters() {
    List<CompletableFuture<Void>> w = new ArrayList<>(commitWaiters);
    commitWaiters.clear();
    return w;
  }

  private static void completeWaiters(List<CompletableFuture<Void>> waiters) {
    for (CompletableFuture<Void> w : waiters) {
      w.complete(null);
    }
  }

  private static void failWaiters(List<CompletableFuture<Void>> waiters, Throwable t) {
    for (CompletableFuture<Void> w : waiters) {
      w.completeExceptionally(t);
    }
    waiters.clear();
  }

  // ------------------------------------------------------------------ actions

  private void apply(List<Action> actions) {
    for (Action a : actions) {
      try {
        applyOne(a);
      } catch (RuntimeException e) {
        LOG.error("{} applying {} failed", logPrefix, a, e);
      }
    }
  }

  private void applyOne(Action a) {
    if (a instanceof Action.Start s) {
      startReader(s.grant(), s.cursor());
    } else if (a instanceof Action.Stop s) {
      ReaderTask<R> t = tasks.get(s.grant().id());
      if (t != null && t.grant().epoch() == s.grant().epoch()) {
        LOG.info("{} stopping {} epoch {}: {}", logPrefix, s.grant().id(), s.grant().epoch(), s.reason());
        t.stop(s.reason());
      }
    } else if (a instanceof Action.Refresh r) {
      ReaderTask<R> t = tasks.get(r.grant().id());
      if (t != null) {
        t.refresh(r.grant());
      }
    } else if (a instanceof Action.Acked ack) {
      CheckpointEntry e = ack.entry();
      safe(() -> listener.onCommitted(ack.id(), e.getEpoch(), e.getCursor(), e.getFinished()));
    } else if (a instanceof Action.Refused ref) {
      LOG.warn("{} checkpoint {} refused: {}", logPrefix, ref.id(), ref.code());
      safe(() -> listener.onError(ref.id(), new CohortRejectedException(ref.code(),
          "checkpoint of " + ref.id() + " at '" + ref.entry().getCursor() + "' refused")));
    } else if (a instanceof Action.ConsumerFenced) {
      status = Status.FENCED;
      session = 0;
      safe(listener::onFenced);
    }
  }

  private void startReader(PartitionGrant grant, String cursor) {
    PartitionId id = grant.id();
    if (closing || status == Status.CLOSED || status == Status.FENCED) {
      state.readerStopped(id, grant.epoch());
      return;
    }
    LOG.info("{} reading {} epoch {} from {}", logPrefix, id, grant.epoch(),
        cursor != null ? "'" + cursor + "'" : grant.startFrom());
    ReaderTask<R> previous = tasks.get(id);
    List<ReaderTask<R>> self = new ArrayList<>(1);
    ReaderTask<R> task = new ReaderTask<>(logPrefix, grant, cursor, reader, processor, listener, config,
        new ReaderTask.Sink() {
          @Override
          public void progress(PartitionGrant g, String c, boolean finished, Long lag, Long lagMs) {
            long at = now();
            post(() -> {
              state.progress(g.id(), g.epoch(), c, finished, lag, lagMs, at);
              pump(); // a commit may now be due (or due at once: finished)
            });
          }

          @Override
          public void stopped(PartitionGrant g) {
            reading.remove(g.id(), g);
            if (!post(() -> {
              state.readerStopped(g.id(), g.epoch());
              tasks.remove(g.id(), self.get(0));
              pump();
            })) {
              LOG.debug("{} reader of {} stopped after close", logPrefix, g.id());
            }
          }
        });
    self.add(task);
    tasks.put(id, task);
    Runnable run = () -> {
      reading.put(id, grant);
      task.run();
    };
    CompletableFuture<Void> before = previous != null ? previous.done() : CompletableFuture.completedFuture(null);
    before.whenComplete((v, e) -> {
      try {
        readerPool.execute(run);
      } catch (RejectedExecutionException rej) {
        task.stop(RevokeReason.CLOSED);
        post(() -> state.readerStopped(id, grant.epoch()));
      }
    });
  }

  private void safe(Runnable r) {
    try {
      r.run();
    } catch (RuntimeException e) {
      LOG.warn("{} listener failed", logPrefix, e);
    }
  }

  // ------------------------------------------------------------------ closing

  /**
   * Stops every reader, commits their last positions and leaves the group (its partitions go to
   * the others at once). Waits up to the configured leave timeout.
   */
  @Override
  public void close() {
    if (Thread.currentThread() == loopThread) {
      throw new IllegalStateException("close() from a listener callback would wait for itself; "
          + "close from another thread");
    }
    CompletableFuture<Void> f = new CompletableFuture<>();
    if (!post(() -> beginClose(f))) {
      return;
    }
    try {
      f.get(config.leaveTimeoutMs() * 2, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (java.util.concurrent.ExecutionException | TimeoutException e) {
      LOG.warn("{} close did not finish cleanly: {}", logPrefix, e.toString());
    } finally {
      shutdown();
    }
  }

  private void beginClose(CompletableFuture<Void> f) {
    if (closing) {
      closed.whenComplete((v, e) -> f.complete(null));
      return;
    }
    closing = true;
    if (wake != null) {
      wake.cancel(false);
    }
    apply(state.stopReaders(RevokeReason.CLOSED));
    List<CompletableFuture<Void>> dones = new ArrayList<>();
    for (ReaderTask<R> t : tasks.values()) {
      t.stop(RevokeReason.CLOSED);
      dones.add(t.done());
    }
    CompletableFuture.allOf(dones.toArray(new CompletableFuture[0]))
        .orTimeout(config.leaveTimeoutMs(), TimeUnit.MILLISECONDS)
        .whenComplete((v, e) -> post(() -> leave(f)));
  }

  private void leave(CompletableFuture<Void> f) {
    if (inFlight) {
      leaveWhenIdle = f; // e.g. a join still on its way: leave with the session it brings
      return;
    }
    if (state.session() == 0 || status == Status.FENCED) {
      finishClose(f);
      return;
    }
    Flush flush = state.flush();
    LOG.info("{} leaving with {} final checkpoints", logPrefix, flush.entries().size());
    client.leave(state.leave(flush))
        .orTimeout(config.leaveTimeoutMs(), TimeUnit.MILLISECONDS)
        .whenComplete((r, e) -> post(() -> {
          if (e == null) {
            apply(state.onCommit(flush, r.getCodesList()));
          } else {
            LOG.warn("{} leave failed (the session will expire instead): {}", logPrefix,
                Failures.map(e, "leave").getMessage());
          }
          finishClose(f);
        }));
  }

  private void leaveIfWaiting() {
    CompletableFuture<Void> f = leaveWhenIdle;
    if (f != null) {
      leaveWhenIdle = null;
      leave(f);
    }
  }

  private void finishClose(CompletableFuture<Void> f) {
    if (status != Status.FENCED) {
      status = Status.CLOSED;
    }
    session = 0;
    failWaiters(commitWaiters, new CohortClosedException(logPrefix + " closed", null));
    closed.complete(null);
    f.complete(null);
  }

  private void shutdown() {
    if (status != Status.FENCED) {
      status = Status.CLOSED;
    }
    loop.shutdownNow();
    readerPool.shutdown();
    try {
      if (!readerPool.awaitTermination(config.leaveTimeoutMs(), TimeUnit.MILLISECONDS)) {
        readerPool.shutdownNow();
      }
      loop.awaitTermination(config.leaveTimeoutMs(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Stops at once without committing or leaving, as if the process died: its session expires on
   * the coordinator. For tests and benchmarks.
   */
  void halt() {
    closing = true;
    loop.shutdownNow();
    for (ReaderTask<R> t : tasks.values()) {
      t.stop(RevokeReason.CLOSED);
    }
    shutdown();
  }

  @Override
  public String toString() {
    return "GroupConsumer{" + config.group() + "/" + config.consumerId() + ", " + status + "}";
  }
}
