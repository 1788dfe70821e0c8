package io.cohort.server;

import com.google.protobuf.InvalidProtocolBufferException;
import io.cohort.server.snapshot.CorruptSnapshotException;
import io.cohort.server.snapshot.SnapshotFile;
import io.cohort.server.snapshot.SnapshotWriter;
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
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantLock;
import org.apache.ratis.io.MD5Hash;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftGroupMemberId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.raftlog.RaftLog;
import org.apache.ratis.server.storage.FileInfo;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.statemachine.SnapshotRetentionPolicy;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.statemachine.impl.SimpleStateMachineStorage;
import org.apache.ratis.statemachine.impl.SingleFileSnapshotInfo;
import org.apache.ratis.util.LifeCycle;
import org.apache.ratis.util.MD5FileUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
  private static final Logger LOG = LoggerFactory.getLogger(CohortStateMachine.class);

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
  private final SimpleStateMachineStorage storage = new SimpleStateMachineStorage() {
    @Override
    public synchronized void cleanupOldSnapshots(SnapshotRetentionPolicy policy) throws IOException {
      super.cleanupOldSnapshots(policy); // Ratis (apply thread) and our writer both clean up
    }
  };
  private final ReentrantLock lock = new ReentrantLock();
  private final TreeMap<Long, List<CompletableFuture<Void>>> staleWaiters = new TreeMap<>();

  private volatile Coordinator coordinator;
  private volatile boolean hasMembers;

  private ScheduledExecutorService tickScheduler;
  private ExecutorService snapshotWriter;
  private LeaderTicker ticker;
  private RaftPeerId selfId = RaftPeerId.valueOf("unknown");
  private SnapshotRetentionPolicy retention =
      retainedPolicy(SnapshotRetentionPolicy.DEFAULT_ALL_SNAPSHOTS_RETAINED);

  // snapshot bookkeeping: touched on the apply thread, and by pause/reinitialize/close
  private volatile Future<SnapshotWriter.Written> inFlight;
  private volatile long reportedIndex = RaftLog.INVALID_LOG_INDEX; // never return less to Ratis
  private volatile long durableIndex = RaftLog.INVALID_LOG_INDEX;
  private volatile SnapshotStats stats = new SnapshotStats(0, 0, 0, 0, 0, -1, 0, 0, -1);

  public CohortStateMachine(Settings settings) {
    this.settings = settings;
    this.coordinator = new Coordinator(settings.limits());
  }

  // ------------------------------------------------------------------ life cycle

  @Override
  public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage raftStorage) throws IOException {
    super.initialize(server, groupId, raftStorage);
    selfId = server.getId();
    tickScheduler = Executors.newSingleThreadScheduledExecutor(daemon("cohort-ticker-" + selfId));
    snapshotWriter = Executors.newSingleThreadExecutor(daemon("cohort-snapshot-" + selfId));
    ticker = new LeaderTicker(() -> server, groupId, selfId, () -> hasMembers,
        settings.tickIntervalMs(), tickScheduler);
    int retained = RaftServerConfigKeys.Snapshot.retentionFileNum(server.getProperties());
    retention = retainedPolicy(retained);
    storage.init(raftStorage);
    getLifeCycle().startAndTransition(() -> loadLatestSnapshot(), IOException.class);
  }

  @Override
  public void pause() {
    LifeCycle lc = getLifeCycle();
    if (lc.getCurrentState() == LifeCycle.State.RUNNING) {
      lc.transition(LifeCycle.State.PAUSING);
    }
    awaitInFlightSnapshot(); // it must not write into the sm/ dir Ratis is about to replace
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
    awaitInFlightSnapshot();
    if (snapshotWriter != null) {
      snapshotWriter.shutdownNow();
    }
    synchronized (staleWaiters) {
      staleWaiters.values().forEach(l -> l.forEach(f -> f.completeExceptionally(
          new IOException(selfId + ": state machine closed"))));
      staleWaiters.clear();
    }
    getLifeCycle().checkStateAndClose();
  }

  @Override
  public SimpleStateMachineStorage getStateMachineStorage() {
    return storage;
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
      Coordinator c = coordinator;
      result = c.applyLogEntry(data, index, term);
      hasMembers = c.hasMembers();
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
    QueryResult r;
    lock.lock();
    try {
      r = coordinator.query(q);
    } finally {
      lock.unlock();
    }
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

  /** This replica's state digest, read directly (tests, status). */
  public DigestView digest() {
    lock.lock();
    try {
      return coordinator.digest();
    } finally {
      lock.unlock();
    }
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
    return stats;
  }

  /**
   * Runs on the apply thread with every apply future complete. Freezes the state (the only pause
   * applies see), writes it in the background, and returns the newest index that is durable on
   * disk, never less than an index returned before ({@link RaftLog#INVALID_LOG_INDEX} when there
   * is nothing new: Ratis then neither logs nor purges). A snapshot asked for explicitly (by an
   * admin, or at stop) before the automatic threshold is reached is waited for, so the caller
   * gets the new index.
   */
  @Override
  public long takeSnapshot() throws IOException {
    TermIndex applied = getLastAppliedTermIndex();
    boolean explicit = settings.autoSnapshotEveryEntries() <= 0
        || applied.getIndex() - Math.max(reportedIndex, 0) < settings.autoSnapshotEveryEntries();
    collectFinishedSnapshot(false);
    if (inFlight != null) {
      if (!explicit) {
        return report(durableIndex);
      }
      collectFinishedSnapshot(true);
    }
    if (applied.getIndex() > Math.max(durableIndex, 0)) {
      long t0 = System.nanoTime();
      FrozenState frozen;
      lock.lock();
      try {
        frozen = coordinator.freeze();
      } finally {
        lock.unlock();
      }
      long pauseMicros = (System.nanoTime() - t0) / 1000;
      stats = stats.paused(pauseMicros);
      Path target = storage.getSnapshotFile(applied.getTerm(), applied.getIndex()).toPath();
      LOG.info("[{}] snapshot at {}: state frozen in {} us, writing {}", selfId, applied, pauseMicros,
          target.getFileName());
      inFlight = snapshotWriter.submit(() -> writeSnapshot(frozen, applied, target));
      if (explicit) {
        collectFinishedSnapshot(true);
      }
    }
    return report(durableIndex);
  }

  private long report(long index) {
    if (index <= reportedIndex) {
      return index == reportedIndex ? index : RaftLog.INVALID_LOG_INDEX;
    }
    reportedIndex = index;
    return index;
  }

  /** Background: write, MD5 sidecar, then tell the storage (Ratis ships this file to followers). */
  private SnapshotWriter.Written writeSnapshot(FrozenState frozen, TermIndex ti, Path target) throws IOException {
    long t0 = System.nanoTime();
    try {
      SnapshotWriter.Written w = SnapshotWriter.write(frozen, ti.getTerm(), ti.getIndex(), target,
          System.currentTimeMillis());
      MD5Hash md5 = MD5FileUtil.computeAndSaveMd5ForFile(target.toFile());
      storage.updateLatestSnapshot(new SingleFileSnapshotInfo(new FileInfo(target, md5), ti));
      long ms = (System.nanoTime() - t0) / 1_000_000;
      stats = stats.written(ms, w.bytes(), ti.getIndex());
      // Ratis cleans up when takeSnapshot returns, before this file existed: clean up again.
      storage.cleanupOldSnapshots(retention);
      LOG.info("[{}] snapshot {} durable: {} records, {} bytes, written in {} ms", selfId,
          target.getFileName(), w.records(), w.bytes(), ms);
      return w;
    } catch (IOException | RuntimeException e) {
      LOG.error("[{}] snapshot {} failed: {}", selfId, target.getFileName(), e.toString(), e);
      throw e;
    }
  }

  /** Picks up a finished background write; with {@code wait}, waits for a running one first. */
  private void collectFinishedSnapshot(boolean wait) throws IOException {
    Future<SnapshotWriter.Written> f = inFlight;
    if (f == null || (!wait && !f.isDone())) {
      return;
    }
    inFlight = null;
    try {
      SnapshotWriter.Written w = wait ? f.get(settings.explicitSnapshotWaitMs(), TimeUnit.MILLISECONDS) : f.get();
      durableIndex = Math.max(durableIndex, w.index());
    } catch (TimeoutException e) {
      inFlight = f;
      throw new IOException(selfId + ": snapshot still being written after "
          + settings.explicitSnapshotWaitMs() + " ms");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(selfId + ": interrupted waiting for a snapshot", e);
    } catch (ExecutionException e) {
      throw new IOException(selfId + ": snapshot failed: " + e.getCause(), e.getCause());
    }
  }

  private void awaitInFlightSnapshot() {
    Future<SnapshotWriter.Written> f = inFlight;
    if (f == null) {
      return;
    }
    try {
      collectFinishedSnapshot(true);
    } catch (IOException e) {
      LOG.warn("[{}] {}", selfId, e.getMessage());
    }
  }

  /**
   * Loads the newest snapshot in {@code sm/} (at start and after Ratis installed one from the
   * leader). A snapshot that fails its MD5 or checksum stops the load with a clear error: falling
   * back to an older one could miss log entries already purged.
   */
  private void loadLatestSnapshot() throws IOException {
    SingleFileSnapshotInfo info = storage.loadLatestSnapshot();
    if (info == null) {
      LOG.info("[{}] no snapshot: starting from an empty state", selfId);
      return;
    }
    Path path = info.getFile().getPath();
    if (!Files.exists(path)) {
      throw new CorruptSnapshotException(path, "is listed but missing");
    }
    long t0 = System.nanoTime();
    MD5Hash stored = info.getFile().getFileDigest();
    if (stored != null) {
      MD5Hash actual = MD5FileUtil.computeMd5ForFile(path.toFile());
      if (!stored.equals(actual)) {
        throw new CorruptSnapshotException(path, "fails its MD5 checksum: " + actual + ", expected " + stored);
      }
    }
    Coordinator loaded;
    long records;
    try (SnapshotFile file = SnapshotFile.open(path)) {
      SnapshotFile.Meta meta = file.meta();
      if (meta.index() != info.getIndex() || meta.term() != info.getTerm()) {
        throw new CorruptSnapshotException(path, "says term " + meta.term() + " index " + meta.index()
            + " but is named " + path.getFileName());
      }
      loaded = file.load(settings.limits());
      records = meta.records();
    }
    long ms = (System.nanoTime() - t0) / 1_000_000;
    lock.lock();
    try {
      coordinator = loaded;
      hasMembers = loaded.hasMembers();
      setLastAppliedTermIndex(info.getTermIndex());
    } finally {
      lock.unlock();
    }
    durableIndex = info.getIndex();
    reportedIndex = Math.max(reportedIndex, info.getIndex());
    stats = stats.loaded(ms, info.getIndex());
    releaseStaleWaiters(info.getIndex());
    LOG.info("[{}] loaded snapshot {} ({} records) in {} ms", selfId, path.getFileName(),
        records, ms);
  }

  private static SnapshotRetentionPolicy retainedPolicy(int n) {
    return new SnapshotRetentionPolicy() {
      @Override
      public int getNumSnapshotsRetained() {
        return n;
      }
    };
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }

}
