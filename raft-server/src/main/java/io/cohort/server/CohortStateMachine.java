package io.cohort.server;

import com.google.protobuf.InvalidProtocolBufferException;
import io.cohort.server.snapshot.SnapshotLayout;
import io.cohort.statemachine.Coordinator;
import io.cohort.statemachine.FrozenState;
import io.cohort.statemachine.Limits;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.DigestView;
import io.cohort.statemachine.proto.LogEntry;
import io.cohort.statemachine.proto.Query;
import io.cohort.statemachine.proto.QueryResult;
import io.cohort.statemachine.proto.Result;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.locks.ReentrantLock;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftGroupMemberId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.statemachine.impl.SimpleStateMachineStorage;
import org.apache.ratis.util.LifeCycle;

/**
 * The Ratis state machine around the pure {@link Coordinator}.
 *
 * <ul>
 *   <li>Writes: a client message is the bytes of a {@code Command}. The leader's {@link
 *       #startTransaction} rejects undecodable or empty commands (nothing is appended) and stamps
 *       its wall clock: the log entry is a {@code LogEntry{time_ms, command}} (R6). {@link
 *       #applyTransaction} replies with the bytes of the {@code Result}; it never throws (R8).
 *   <li>Reads: a query message is the bytes of a {@code Query}, answered with a {@code
 *       QueryResult} (INVALID_ARGUMENT if it does not decode). Linearizable reads come from Ratis'
 *       ReadIndex; {@link #queryStale} serves stale reads once the local apply reaches the index.
 *   <li>Ticks: the leader appends a {@code Tick} every interval while groups have members (R7).
 *   <li>Snapshots: {@link #takeSnapshot} freezes the state on the apply thread (the only pause),
 *       writes it to a MapDB file in the background and returns the last durable index.
 * </ul>
 *
 * <p>The coordinator is not thread-safe: applies (one thread) and queries (RPC threads) run under
 * one lock.
 */
public final class CohortStateMachine extends BaseStateMachine {

  /** Settings of the state machine itself; Ratis settings live in {@link RatisSettings}. */
  public record Settings(Limits limits, long tickIntervalMs, long autoSnapshotEveryEntries,
      long explicitSnapshotWaitMs) {
    public static final Settings DEFAULTS = new Settings(Limits.DEFAULTS, 250, 100_000, 60_000);

    public Settings {
      if (tickIntervalMs <= 0) {
        throw new IllegalArgumentException("tick interval must be positive: " + tickIntervalMs);
      }
    }

    public Settings withAutoSnapshotEveryEntries(long entries) {
      return new Settings(limits, tickIntervalMs, entries, explicitSnapshotWaitMs);
    }

    public Settings withTickIntervalMs(long ms) {
      return new Settings(limits, ms, autoSnapshotEveryEntries, explicitSnapshotWaitMs);
    }
  }

  /** Timings of the latest snapshots, for logs, tests and benchmarks. */
  public record SnapshotStats(long taken, long lastPauseMicros, long maxPauseMicros, long lastWriteMs,
      long lastBytes, long lastIndex, long loads, long lastLoadMs, long lastLoadIndex) {

    SnapshotStats paused(long micros) {
      return new SnapshotStats(taken, micros, Math.max(maxPauseMicros, micros), lastWriteMs, lastBytes,
          lastIndex, loads, lastLoadMs, lastLoadIndex);
    }

    SnapshotStats written(long ms, long bytes, long index) {
      return new SnapshotStats(taken + 1, lastPauseMicros, maxPauseMicros, ms, bytes, index, loads,
          lastLoadMs, lastLoadIndex);
    }

    SnapshotStats loaded(long ms, long index) {
      return new SnapshotStats(taken, lastPauseMicros, maxPauseMicros, lastWriteMs, lastBytes, lastIndex,
          loads + 1, ms, index);
    }
  }

  private final Settings settings;
  private final ReentrantLock lock = new ReentrantLock();
  private final TreeMap<Long, List<CompletableFuture<Void>>> staleWaiters = new TreeMap<>();
  private final SnapshotKeeper snapshots;

  private volatile Coordinator coordinator;

  private ScheduledExecutorService tickScheduler;
  private LeaderTicker ticker;
  private RaftPeerId selfId = RaftPeerId.valueOf("unknown");

  public CohortStateMachine(Settings settings) {
    this.settings = settings;
    this.coordinator = new Coordinator(settings.limits());
    this.snapshots = new SnapshotKeeper("unknown", settings.explicitSnapshotWaitMs());
  }

  // ------------------------------------------------------------------ life cycle

  @Override
  public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage raftStorage) throws IOException {
    super.initialize(server, groupId, raftStorage);
    selfId = server.getId();
    snapshots.rename(selfId.toString());
    tickScheduler = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "cohort-ticker-" + selfId);
      t.setDaemon(true);
      return t;
    });
    ticker = new LeaderTicker(() -> server, groupId, selfId, this::hasMembers,
        settings.tickIntervalMs(), tickScheduler);
    snapshots.init(raftStorage, RaftServerConfigKeys.Snapshot.retentionFileNum(server.getProperties()));
    getLifeCycle().startAndTransition(this::loadLatestSnapshot, IOException.class);
  }

  @Override
  public void pause() {
    LifeCycle lc = getLifeCycle();
    if (lc.getCurrentState() == LifeCycle.State.RUNNING) {
      lc.transition(LifeCycle.State.PAUSING);
    }
    snapshots.awaitInFlight(); // it must not write into the sm/ dir Ratis is about to replace
    if (lc.getCurrentState() == LifeCycle.State.PAUSING) {
      lc.transition(LifeCycle.State.PAUSED);
    }
  }

  @Override
  public void reinitialize() throws IOException {
    LifeCycle lc = getLifeCycle();
    if (lc.getCurrentState() == LifeCycle.State.PAUSED) {
      lc.transition(LifeCycle.State.STARTING);
    }
    loadLatestSnapshot();
    if (lc.getCurrentState() == LifeCycle.State.STARTING) {
      lc.transition(LifeCycle.State.RUNNING);
    }
  }

  @Override
  public void close() throws IOException {
    if (ticker != null) {
      ticker.stop();
    }
    if (tickScheduler != null) {
      tickScheduler.shutdownNow();
    }
    snapshots.close();
    synchronized (staleWaiters) {
      staleWaiters.values().forEach(l -> l.forEach(f -> f.completeExceptionally(
          new IOException(selfId + ": state machine closed"))));
      staleWaiters.clear();
    }
    getLifeCycle().checkStateAndClose();
  }

  @Override
  public SimpleStateMachineStorage getStateMachineStorage() {
    return snapshots.storage();
  }

  // ------------------------------------------------------------------ writes

  @Override
  public TransactionContext startTransaction(RaftClientRequest request) throws IOException {
    byte[] bytes = request.getMessage().getContent().toByteArray();
    String problem = null;
    try {
      if (Command.parseFrom(bytes).getBodyCase() == Command.BodyCase.BODY_NOT_SET) {
        problem = "empty command (no known body)";
      }
    } catch (InvalidProtocolBufferException e) {
      problem = "not a Cohort command: " + e.getMessage();
    }
    if (problem != null) {
      TransactionContext trx = TransactionContext.newBuilder().setStateMachine(this)
          .setClientRequest(request).build();
      trx.setException(new IllegalArgumentException(Code.INVALID_ARGUMENT.name() + ": " + problem));
      return trx;
    }
    LogEntry stamped = LogEntry.newBuilder().setTimeMs(System.currentTimeMillis())
        .setCommand(com.google.protobuf.UnsafeByteOperations.unsafeWrap(bytes)).build();
    return TransactionContext.newBuilder().setStateMachine(this).setClientRequest(request)
        .setLogData(Messages.wrap(stamped.toByteArray())).build();
  }

  @Override
  public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
    LogEntryProto entry = trx.getLogEntry();
    long index = entry.getIndex();
    long term = entry.getTerm();
    byte[] data = entry.getStateMachineLogEntry().getLogData().toByteArray();
    Result result;
    lock.lock();
    try {
      result = coordinator.applyLogEntry(data, index, term);
      updateLastAppliedTermIndex(term, index);
    } finally {
      lock.unlock();
    }
    releaseStaleWaiters(index);
    return CompletableFuture.completedFuture(Messages.of(result));
  }

  @Override
  public void notifyTermIndexUpdated(long term, long index) {
    super.notifyTermIndexUpdated(term, index);
    releaseStaleWaiters(index);
  }

  // ------------------------------------------------------------------ reads

  @Override
  public CompletableFuture<Message> query(Message request) {
    Query q;
    try {
      q = Query.parseFrom(Messages.bytes(request));
    } catch (InvalidProtocolBufferException e) {
      return CompletableFuture.completedFuture(Messages.of(QueryResult.newBuilder()
          .setCode(Code.INVALID_ARGUMENT).setMessage("not a Cohort query: " + e.getMessage()).build()));
    }
    QueryResult r = q.getBodyCase() == Query.BodyCase.STATE_DIGEST
        ? QueryResult.newBuilder().setCode(Code.OK).setDigest(digest()).build()
        : localQuery(q);
    return CompletableFuture.completedFuture(Messages.of(r));
  }

  /** Ratis checked commit index >= minIndex; wait until the local apply reaches it too. */
  @Override
  public CompletableFuture<Message> queryStale(Message request, long minIndex) {
    if (getLastAppliedTermIndex().getIndex() >= minIndex) {
      return query(request);
    }
    CompletableFuture<Void> reached = new CompletableFuture<>();
    synchronized (staleWaiters) {
      if (getLastAppliedTermIndex().getIndex() >= minIndex) {
        reached.complete(null);
      } else {
        staleWaiters.computeIfAbsent(minIndex, k -> new ArrayList<>()).add(reached);
      }
    }
    return reached.thenCompose(v -> query(request));
  }

  private void releaseStaleWaiters(long applied) {
    List<CompletableFuture<Void>> ready = null;
    synchronized (staleWaiters) {
      while (!staleWaiters.isEmpty() && staleWaiters.firstKey() <= applied) {
        if (ready == null) {
          ready = new ArrayList<>();
        }
        ready.addAll(staleWaiters.pollFirstEntry().getValue());
      }
    }
    if (ready != null) {
      ready.forEach(f -> f.complete(null));
    }
  }

  /**
   * This replica's state digest (tests, {@code Query.state_digest}). Only the freeze holds the
   * lock; hashing every record (about a second at 1M checkpoints) does not stall applies.
   */
  public DigestView digest() {
    FrozenState frozen;
    lock.lock();
    try {
      frozen = coordinator.freeze();
    } finally {
      lock.unlock();
    }
    return SnapshotLayout.digest(frozen);
  }

  /** Answers a query locally, without Ratis (tests, tools in the same JVM). */
  public QueryResult localQuery(Query q) {
    lock.lock();
    try {
      return coordinator.query(q);
    } finally {
      lock.unlock();
    }
  }

  /**
   * Whether some group has members, so a tick could expire someone (R7). Asked by the leader's
   * ticker every interval rather than after every apply: the scan is over all groups.
   */
  boolean hasMembers() {
    lock.lock();
    try {
      return coordinator.hasMembers();
    } finally {
      lock.unlock();
    }
  }

  public long appliedIndex() {
    return getLastAppliedTermIndex().getIndex();
  }

  public boolean tickerRunning() {
    return ticker != null && ticker.running();
  }

  public long ticksSent() {
    return ticker == null ? 0 : ticker.ticksSent();
  }

  // ------------------------------------------------------------------ leader events

  @Override
  public void notifyLeaderReady() {
    if (ticker != null) {
      ticker.start();
    }
  }

  @Override
  public void notifyNotLeader(Collection<TransactionContext> pendingEntries) {
    if (ticker != null) {
      ticker.stop();
    }
  }

  @Override
  public void notifyLeaderChanged(RaftGroupMemberId groupMemberId, RaftPeerId newLeaderId) {
    if (ticker != null && !selfId.equals(newLeaderId)) {
      ticker.stop();
    }
  }

  // ------------------------------------------------------------------ snapshots

  public SnapshotStats snapshotStats() {
    return snapshots.stats();
  }

  /** Runs on the apply thread; see {@link SnapshotKeeper#take}: the freeze is the only pause. */
  @Override
  public long takeSnapshot() throws IOException {
    return snapshots.take(getLastAppliedTermIndex(), () -> {
      lock.lock();
      try {
        return coordinator.freeze();
      } finally {
        lock.unlock();
      }
    });
  }

  /** At start and after Ratis installed a snapshot from the leader. */
  private void loadLatestSnapshot() throws IOException {
    SnapshotKeeper.Loaded loaded = snapshots.loadLatest(settings.limits());
    if (loaded == null) {
      return;
    }
    lock.lock();
    try {
      coordinator = loaded.coordinator();
      setLastAppliedTermIndex(loaded.termIndex());
    } finally {
      lock.unlock();
    }
    releaseStaleWaiters(loaded.termIndex().getIndex());
  }
}
