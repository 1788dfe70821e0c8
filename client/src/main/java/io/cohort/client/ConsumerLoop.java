package io.cohort.client;

import com.google.protobuf.ByteString;

import io.cohort.client.ConsumerState.Action;
import io.cohort.client.GroupConsumer.Status;
import io.cohort.statemachine.proto.Code;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link GroupConsumer}'s driver, on one thread: asks the {@link Pacer} what is due, has the
 * {@link Exchange} send it, and receives the readers' reports and the application's calls. It
 * winds the consumer down on close, on FENCED (another process took this consumer id) and when
 * the consumer cannot run: readers stop first, then it leaves with their final checkpoints — never
 * while a reader may still process (R2); past the session's deadline it does not leave at all, and
 * the session expires instead.
 */
final class ConsumerLoop<R> implements Readers.Sink, Effects.Host {
  private static final Logger LOG = LoggerFactory.getLogger(ConsumerLoop.class);

  private final ConsumerConfig config;
  private final ConsumerListener listener;
  private final String logPrefix;
  private final ScheduledExecutorService executor;
  private final ConsumerState state;
  private final Pacer pacer;
  private final Readers<R> readers;
  private final Effects effects;
  private final Exchange exchange;
  private final Watcher watcher; // null: no watch (R12), the interval only
  final CompletableFuture<Void> finished = new CompletableFuture<>();

  // loop-thread state
  private boolean pumpQueued;
  private ScheduledFuture<?> wake;
  private long wakeAtMs = Long.MAX_VALUE;
  private Status target; // non-null: winding down toward it
  private long windDownStartedMs;
  private boolean heartbeatsStopped;
  private boolean done;
  private boolean watchSawChange; // heartbeat at once (R12)

  // read by other threads
  private volatile Thread loopThread;
  private volatile Status status = Status.JOINING;
  private volatile ByteString session = ByteString.EMPTY;
  private volatile long sessionTimeoutMs;
  private volatile Throwable failure;

  ConsumerLoop(ConsumerTransport transport, ConsumerConfig config, PartitionReader<R> reader,
      RecordProcessor<R> processor, ConsumerListener listener, LongSupplier clockMs) {
    this.config = config;
    this.listener = listener;
    this.logPrefix = "[group " + config.group() + "] consumer " + config.consumerId() + ":";
    this.state = new ConsumerState(config.group(), config.consumerId());
    this.pacer = new Pacer(config, clockMs, Jitter::factor);
    String name = "cohort-consumer-" + config.group() + "-" + config.consumerId();
    this.executor = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      loopThread = t;
      return t;
    });
    this.readers = new Readers<>(logPrefix, name + "-reader", config, reader, processor, listener, executor,
        clockMs, this);
    this.effects = new Effects(logPrefix, state, readers, listener, this);
    this.exchange = new Exchange(this, transport, config, logPrefix, state, pacer, readers, effects);
    WatchChannel watches = config.watchTimeoutMs() > 0 ? transport.watchChannel() : null;
    this.watcher = watches == null ? null : new Watcher(new Watcher.Host() {
      @Override
      public void heartbeatNow() {
        watchSawChange = true;
        pump();
      }

      @Override
      public void watchLost() {
        pump(); // a handoff's poll is due at its own interval again
      }

      @Override
      public boolean post(Runnable r) {
        return ConsumerLoop.this.post(r);
      }
    }, watches, executor, config.group(), config.consumerId(), config.watchTimeoutMs(), logPrefix);
  }

  /** Watches that said "heartbeat now" so far (tests); 0 without a watch. */
  long watchChanges() {
    return watcher == null ? 0 : watcher.changes();
  }

  /** On the loop thread: a heartbeat was answered with this session and assignment view. */
  void heard(ByteString session, long view, long nextHeartbeatMs) {
    if (watcher != null && target == null && !done) {
      watcher.heard(session, view, nextHeartbeatMs);
    }
  }

  void start() {
    post(() -> {
      pump();
      exchange.fetchLimits();
    });
  }

  Status status() {
    return status;
  }

  ByteString session() {
    return session;
  }

  Throwable failure() {
    return failure;
  }

  Readers<R> readers() {
    return readers;
  }

  Exchange exchange() {
    return exchange;
  }

  boolean onOwnThread() {
    return Thread.currentThread() == loopThread || readers.isReaderThread();
  }

  boolean done() {
    return done;
  }

  /** Runs on the loop thread; false once it is shut down. */
  boolean post(Runnable r) {
    try {
      executor.execute(() -> {
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

  private void requestPump() {
    if (!pumpQueued) {
      pumpQueued = true; // many reports in a row cost one pump
      post(() -> {
        pumpQueued = false;
        pump();
      });
    }
  }

  /** A heartbeat succeeded: the session and its timeout as the coordinator says. */
  void member(ByteString session, long sessionTimeoutMs) {
    this.session = session;
    this.sessionTimeoutMs = sessionTimeoutMs;
    if (target == null) {
      status = Status.ACTIVE;
    }
  }

  /** The session is gone (expired, left, group deleted): joining again. */
  void notMember() {
    session = ByteString.EMPTY;
    if (watcher != null) {
      watcher.notMember();
    }
    if (target == null) {
      status = Status.JOINING;
    }
  }

  // ------------------------------------------------------------------ the application's calls

  CompletableFuture<Void> commitAll() {
    return onLoop(() -> state.session().isEmpty()
        ? CompletableFuture.failedFuture(new CohortUnavailableException(logPrefix + " not a member now", null))
        : state.commitAll());
  }

  @Override
  public CompletableFuture<Void> acknowledge(PartitionGrant grant, String cursor) {
    long at = pacer.now();
    return onLoop(() -> state.acknowledge(grant.id(), grant.epoch(), cursor, at));
  }

  private interface Request {
    CompletableFuture<Void> on();
  }

  /** Runs a commit request on the loop thread and relays its future. */
  private CompletableFuture<Void> onLoop(Request request) {
    CompletableFuture<Void> out = new CompletableFuture<>();
    if (!post(() -> {
      if (done) {
        out.completeExceptionally(closed());
        return;
      }
      request.on().whenComplete((v, e) -> {
        if (e != null) {
          out.completeExceptionally(e);
        } else {
          out.complete(null);
        }
      });
      requestPump();
    })) {
      out.completeExceptionally(closed());
    }
    return out;
  }

  private CohortClosedException closed() {
    return new CohortClosedException(logPrefix + " closed", null);
  }

  // ------------------------------------------------------------------ readers' reports

  @Override
  public void progress(PartitionGrant g, String cursor, boolean finished, Long lag, Long lagMs) {
    long at = pacer.now();
    post(() -> {
      state.progress(g.id(), g.epoch(), cursor, finished, lag, lagMs, at);
      requestPump(); // a commit may now be due (or due at once: finished)
    });
  }

  @Override
  public void position(PartitionGrant g, String cursor, boolean endReached, Long lag, Long lagMs) {
    post(() -> state.position(g.id(), g.epoch(), cursor, endReached, lag, lagMs));
  }

  @Override
  public void failed(PartitionGrant g, String cursor, String message, int attempts, boolean skipped) {
    post(() -> state.failed(g.id(), g.epoch(), cursor, message, attempts, skipped));
  }

  @Override
  public void poisoned(PartitionGrant g, String cursor) {
    post(() -> state.poisoned(g.id(), g.epoch(), cursor));
  }

  /** Partitions held but not read because the poison policy stopped them there (tests, GroupConsumer). */
  CompletableFuture<java.util.Set<PartitionId>> parked() {
    CompletableFuture<java.util.Set<PartitionId>> out = new CompletableFuture<>();
    if (!post(() -> out.complete(state.parked()))) {
      out.complete(java.util.Set.of());
    }
    return out;
  }

  @Override
  public void stopped(PartitionGrant g) {
    if (!post(() -> {
      state.readerStopped(g.id(), g.epoch());
      requestPump();
    })) {
      LOG.debug("{} reader of {} stopped after close", logPrefix, g.id());
    }
  }

  // ------------------------------------------------------------------ the loop

  void pump() {
    if (done) {
      return;
    }
    long sto = state.sessionTimeoutMs();
    boolean member = !state.session().isEmpty();
    Pacer.Plan plan = pacer.plan(new Pacer.Inputs(member, sto, state.heartbeatNow() || watchSawChange,
        state.commitNow(), state.hasPending(), state.oldestPendingMs(), watcher != null && watcher.placed()));
    if (member && sto > 0) {
      readers.fenceAt(pacer.fenceAtMs(sto));
    }
    if (plan.atRisk() && !state.parts().isEmpty()) {
      List<Action> paused = state.pauseAll();
      if (!paused.isEmpty()) {
        LOG.warn("{} no heartbeat succeeded for {} ms (session timeout {} ms): stopped reading {}", logPrefix,
            pacer.now() - pacer.lastOkSentAtMs(), sto, state.parts().keySet());
        effects.apply(paused);
      }
    }
    long wakeAt = plan.wakeAtMs();
    if (target != null) {
      long next = windDown();
      if (next < 0) {
        return;
      }
      wakeAt = Math.min(wakeAt, next);
    }
    if (!exchange.inFlight() && !heartbeatsStopped && (target == null || member)) {
      if (plan.send() == Pacer.Send.HEARTBEAT) {
        // What a watch's change tells (a release asked, a new grant, most of a join storm's changes) a
        // quiet answer tells too.
        watchSawChange = false;
        exchange.sendHeartbeat(!state.heartbeatNow());
      } else if (plan.send() == Pacer.Send.COMMIT) {
        exchange.sendCommit();
      }
    } else if (member && target == null && !heartbeatsStopped) {
      // a call waits: keep the session alive on the quiet stream
      long period = WatchProtocol.keepAlivePeriodMs(state.nextHeartbeatMs(), sto);
      if (exchange.keepAliveDueMs(period) <= pacer.now()) {
        exchange.sendKeepAlive();
      }
      wakeAt = Math.min(wakeAt, exchange.keepAliveDueMs(period));
    }
    schedule(wakeAt);
  }

  private void schedule(long atMs) {
    if (atMs == Long.MAX_VALUE || done) {
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
      wake = executor.schedule(() -> {
        wakeAtMs = Long.MAX_VALUE;
        pump();
      }, Math.max(0, atMs - pacer.now()), TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) {
      // shutting down
    }
  }

  // ------------------------------------------------------------------ winding down

  @Override
  public boolean windingDown() {
    return target != null || done;
  }

  @Override
  public void fenced() {
    windDown(Status.FENCED, null);
  }

  /** close(): winds down toward CLOSED. */
  void closeNow() {
    windDown(Status.CLOSED, null);
    pump();
  }

  /**
   * Stops every reader for good; the consumer leaves once they stopped (see {@link #windDown()}).
   * FENCED and FAILED also stop heartbeats at once; a close keeps the session alive meanwhile.
   */
  void windDown(Status to, Throwable cause) {
    if (done || target == to || target == Status.FENCED || target == Status.FAILED) {
      return;
    }
    if (watcher != null) {
      watcher.stop(); // winding down: no grant is taken any more
    }
    if (target == null) {
      windDownStartedMs = pacer.now();
      effects.apply(state.stopReaders(to == Status.FENCED ? RevokeReason.CONSUMER_FENCED : RevokeReason.CLOSED));
    }
    target = to;
    if (to != Status.CLOSED) {
      status = to;
      heartbeatsStopped = true;
      failure = cause;
    }
  }

  /** Leaves once every reader stopped; past the deadline gives up. Returns when to look again, -1 when done here. */
  private long windDown() {
    if (exchange.inFlight()) {
      return Long.MAX_VALUE; // its answer pumps again
    }
    if (state.readersStopped()) {
      if (state.session().isEmpty()) {
        finish();
      } else {
        exchange.sendLeave();
      }
      return -1;
    }
    long now = pacer.now();
    long sto = state.sessionTimeoutMs();
    boolean member = !state.session().isEmpty() && sto > 0;
    if (target == Status.CLOSED && !heartbeatsStopped) {
      long stopAt = windDownStartedMs + config.leaveTimeoutMs();
      if (now < stopAt && member) {
        return stopAt; // the session stays alive while readers finish their batch
      }
      heartbeatsStopped = true;
      LOG.warn("{} readers still running {} ms after close: no more heartbeats; leaving only if they stop before"
          + " the session ends", logPrefix, now - windDownStartedMs);
    }
    long deadline = member ? pacer.sessionDeadlineMs(sto) : windDownStartedMs + config.leaveTimeoutMs();
    if (now >= deadline) {
      LOG.warn("{} readers still running at the session's deadline: not leaving (R2), the session expires",
          logPrefix);
      finish();
      return -1;
    }
    return deadline;
  }

  /** The end: status final, waiters failed, the listener told; close() returns. */
  void finish() {
    done = true;
    if (watcher != null) {
      watcher.stop();
    }
    if (wake != null) {
      wake.cancel(false);
    }
    Status end = target != null ? target : Status.CLOSED;
    effects.apply(state.failAllWaiters(end == Status.FENCED
        ? new CohortRejectedException(Code.FENCED, logPrefix + " taken over by another process") : closed()));
    session = ByteString.EMPTY;
    status = end;
    if (end == Status.FENCED) {
      effects.safe(listener::onFenced);
    } else if (end == Status.FAILED) {
      effects.safe(() -> listener.onFailed(failure));
    }
    finished.complete(null);
  }

  /** How long close() may wait for the wind-down: readers, the session's remaining time, the leave. */
  long closeBoundMs() {
    long sto = sessionTimeoutMs > 0 ? sessionTimeoutMs : 10_000;
    return 2 * config.leaveTimeoutMs() + sto + 1000;
  }

  /** Ends the threads (after the wind-down, or at once for {@link GroupConsumer#halt()}). */
  void shutdown() {
    if (status != Status.FENCED && status != Status.FAILED) {
      status = Status.CLOSED;
    }
    executor.shutdownNow();
    readers.stopAll(RevokeReason.CLOSED);
    readers.shutdown(config.leaveTimeoutMs());
    try {
      executor.awaitTermination(config.leaveTimeoutMs(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
