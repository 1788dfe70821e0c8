package io.cohort.server;

import com.google.protobuf.InvalidProtocolBufferException;
import io.cohort.server.snapshot.SnapshotLayout;
import io.cohort.statemachine.Coordinator;
import io.cohort.statemachine.CoordinatorEvents;
import io.cohort.statemachine.FrozenState;
import io.cohort.statemachine.Limits;
import io.cohort.statemachine.MetricsView;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.DigestView;
import io.cohort.statemachine.proto.LimitsRecord;
import io.cohort.statemachine.proto.Query;
import io.cohort.statemachine.proto.QueryResult;
import io.cohort.statemachine.proto.Result;
import java.io.IOException;
import java.util.Collection;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Ratis state machine around the pure {@link Coordinator}.
 *
 * <ul>
 *   <li>Writes: a client message is the bytes of a {@code Command}. The leader's {@link
 *       #startTransaction} refuses commands that are too large or invalid before anything is
 *       appended ({@link CommandAdmission}, R9) and stamps the leader's time ({@link
 *       LeaderStamps}, R6): the log entry is a {@code LogEntry{time_ms, command}}. The parsed
 *       command rides to {@link #applyTransaction} in the transaction's context (followers and
 *       replay parse the log entry). The reply is the bytes of the {@code Result}; apply never
 *       throws (R8).
 *   <li>Reads: a query message is the bytes of a {@code Query}, answered with a {@code
 *       QueryResult} (INVALID_ARGUMENT if it does not decode). Linearizable reads come from Ratis'
 *       ReadIndex; {@link #queryStale} serves stale reads once the local apply reaches the index.
 *   <li>Ticks: the leader appends a {@code Tick} every interval while groups have members (R7).
 *   <li>Bootstrap limits: a new leader whose state has never had its limits set appends a {@code
 *       SetLimits} with the configured ones (R9).
 *   <li>Snapshots: {@link #takeSnapshot} freezes the state on the apply thread (the only pause),
 *       writes it to a MapDB file in the background and returns the last durable index.
 * </ul>
 *
 * <p>The coordinator is not thread-safe: applies (one thread) and queries (RPC threads) run under
 * one lock.
 */
public final class CohortStateMachine extends BaseStateMachine {
  private static final Logger LOG = LoggerFactory.getLogger(CohortStateMachine.class);

  /**
   * Settings of the state machine itself; Ratis settings live in {@link RatisSettings}.
   *
   * @param bootstrapLimits limits the first leader sets while the replicated ones were never set
   *     (R9); only the fields set count, an empty record sets nothing. Every replica starts from
   *     {@link Limits#DEFAULTS}: limits change only through the log.
   */
  public record Settings(LimitsRecord bootstrapLimits, long tickIntervalMs, long autoSnapshotEveryEntries,
      long explicitSnapshotWaitMs) {
    public static final long DEFAULT_TICK_INTERVAL_MS = 250;
    public static final long DEFAULT_AUTO_SNAPSHOT_EVERY = 100_000;
    public static final Settings DEFAULTS = new Settings(LimitsRecord.getDefaultInstance(),
        DEFAULT_TICK_INTERVAL_MS, DEFAULT_AUTO_SNAPSHOT_EVERY, 60_000);

    public Settings {
      if (tickIntervalMs <= 0) {
        throw new IllegalArgumentException("tick interval must be positive: " + tickIntervalMs);
      }
    }

    public Settings withAutoSnapshotEveryEntries(long entries) {
      return new Settings(bootstrapLimits, tickIntervalMs, entries, explicitSnapshotWaitMs);
    }

    public Settings withTickIntervalMs(long ms) {
      return new Settings(bootstrapLimits, ms, autoSnapshotEveryEntries, explicitSnapshotWaitMs);
    }

    public Settings withBootstrapLimits(LimitsRecord limits) {
      return new Settings(limits, tickIntervalMs, autoSnapshotEveryEntries, explicitSnapshotWaitMs);
    }

    boolean hasBootstrapLimits() {
      return !bootstrapLimits.equals(LimitsRecord.getDefaultInstance());
    }
  }

  private final Settings settings;
  private final ReentrantLock lock = new ReentrantLock();
  private final StaleReads staleReads = new StaleReads();
  private final SnapshotKeeper snapshots;
  private final SnapshotChunks snapshotChunks;
  private final LeaderStamps stamps;
  private final NodeEvents events;
  private final CoordinatorEvents coordinatorEvents;

  private volatile Coordinator coordinator;
  private final LogFailures logFailures = new LogFailures();
  // What the leader's startTransaction needs of the applied state, without the lock.
  private volatile Limits appliedLimits = Limits.DEFAULTS;
  private volatile boolean limitsExplicit;
  private volatile long appliedNowMs;
  /** The largest command this server's Ratis log carries (R9). */
  private volatile int maxCommandBytes = RatisSettings.maxCommandBytes(RatisSettings.sizesOnly());

  private ScheduledExecutorService tickScheduler;
  private LeaderTicker ticker;
  private LocalWrites localWrites;
  private RaftServer raftServer;
  private volatile RaftServer.Division division;
  private RaftPeerId selfId = RaftPeerId.valueOf("unknown");

  public CohortStateMachine(Settings settings) {
    this(settings, ServerClock.SYSTEM);
  }

  /** @param clock read by the leader only, to stamp commands (R6) */
  public CohortStateMachine(Settings settings, ServerClock clock) {
    this(settings, clock, NodeEvents.NONE, CoordinatorEvents.NONE);
  }

  /** @param events and {@code coordinatorEvents} are told what happens, for metrics (step 9) */
  public CohortStateMachine(Settings settings, ServerClock clock, NodeEvents events,
      CoordinatorEvents coordinatorEvents) {
    this.settings = settings;
    this.events = events;
    this.coordinatorEvents = coordinatorEvents;
    this.coordinator = new Coordinator(Limits.DEFAULTS);
    this.coordinator.observe(coordinatorEvents);
    this.snapshots = new SnapshotKeeper("unknown", settings.explicitSnapshotWaitMs(), events);
    this.snapshotChunks = new SnapshotChunks(snapshots::storage);
    this.stamps = new LeaderStamps(clock);
  }

  // ------------------------------------------------------------------ life cycle

  @Override
  public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage raftStorage) throws IOException {
    super.initialize(server, groupId, raftStorage);
    raftServer = server;
    selfId = server.getId();
    snapshots.rename(selfId.toString());
    stamps.rename(selfId.toString());
    maxCommandBytes = RatisSettings.maxCommandBytes(server.getProperties());
    tickScheduler = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "cohort-ticker-" + selfId);
      t.setDaemon(true);
      return t;
    });
    localWrites = new LocalWrites(() -> server, groupId, selfId);
    ticker = new LeaderTicker(localWrites, this::hasMembers, settings.tickIntervalMs(), tickScheduler);
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
    staleReads.close(selfId + ": state machine closed");
    getLifeCycle().checkStateAndClose();
  }

  @Override
  public SimpleStateMachineStorage getStateMachineStorage() {
    return snapshots.storage();
  }

  // ------------------------------------------------------------------ writes

  /** On the leader only (RPC threads, in parallel): refuse before the log, or stamp (R6, R9). */
  @Override
  public TransactionContext startTransaction(RaftClientRequest request) throws IOException {
    RaftServer.Division d = division();
    return d == null ? startTransaction(request, 0, true)
        : startTransaction(request, d.getInfo().getCurrentTerm(), d.getInfo().isLeaderReady());
  }

  TransactionContext startTransaction(RaftClientRequest request, long term, boolean leaderReady) {
    TransactionContext.Builder trx = TransactionContext.newBuilder().setStateMachine(this)
        .setClientRequest(request);
    CommandAdmission.Admitted admitted;
    try {
      admitted = CommandAdmission.admit(request.getMessage().getContent(), appliedLimits, maxCommandBytes,
          () -> stamps.stampMs(term, leaderReady, () -> appliedNowMs));
    } catch (IllegalArgumentException refused) {
      if (refused instanceof CommandAdmission.Refused r) {
        events.refused(r.command(), r.code());
      }
      TransactionContext rejected = trx.build();
      rejected.setException(refused);
      return rejected;
    }
    return trx.setLogData(Messages.wrap(admitted.logData())).setStateMachineContext(admitted).build();
  }

  @Override
  public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
    LogEntryProto entry = trx.getLogEntry();
    long index = entry.getIndex();
    long term = entry.getTerm();
    // On the leader the command was parsed in startTransaction; followers and replay parse the entry
    // here, outside the lock. Bytes that do not decode go to the core, which rejects them (R8).
    CommandAdmission.Admitted parsed = trx.getStateMachineContext() instanceof CommandAdmission.Admitted a ? a
        : CommandAdmission.parseLogged(entry.getStateMachineLogEntry().getLogData());
    Result result;
    lock.lock();
    try {
      result = parsed != null ? coordinator.apply(parsed.command(), index, term, parsed.timeMs())
          : coordinator.applyLogEntry(entry.getStateMachineLogEntry().getLogData().toByteArray(), index, term);
      updateLastAppliedTermIndex(term, index);
      noteApplied();
    } finally {
      lock.unlock();
    }
    staleReads.release(index);
    events.applied(parsed != null ? parsed.command().getBodyCase() : Command.BodyCase.BODY_NOT_SET, result);
    return CompletableFuture.completedFuture(Messages.of(result));
  }

  @Override
  public void notifyTermIndexUpdated(long term, long index) {
    super.notifyTermIndexUpdated(term, index);
    staleReads.release(index);
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
    QueryResult r = switch (q.getBodyCase()) {
      case STATE_DIGEST -> QueryResult.newBuilder().setCode(Code.OK).setDigest(digest()).build();
      case SNAPSHOT_CHUNK -> snapshotChunks.serve(q.getSnapshotChunk()); // this node's files, not the state
      default -> localQuery(q);
    };
    return CompletableFuture.completedFuture(Messages.of(r));
  }

  /** Ratis checked commit index >= minIndex; wait until the local apply reaches it too. */
  @Override
  public CompletableFuture<Message> queryStale(Message request, long minIndex) {
    if (getLastAppliedTermIndex().getIndex() >= minIndex) {
      return query(request);
    }
    return staleReads.await(minIndex, () -> getLastAppliedTermIndex().getIndex())
        .thenCompose(v -> query(request));
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
   * Metrics (step 9): a compact summary taken under the lock, one pass over the slots; see {@link
   * Coordinator#metricsView}.
   */
  public MetricsView.Summary metricsView(int maxPartitions) {
    lock.lock();
    try {
      return coordinator.metricsView(maxPartitions);
    } finally {
      lock.unlock();
    }
  }

  /** The observer the current coordinator reports grants and release timeouts to. */
  public CoordinatorEvents coordinatorEvents() {
    return coordinator.events();
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

  /**
   * On the apply thread, once this term's start-up entry is applied: the state's time is final, so
   * the term's stamps start from it (R6). Never blocks: ticks and bootstrap limits are appended
   * from the ticker's executor.
   */
  @Override
  public void notifyLeaderReady() {
    try {
      RaftServer.Division d = division();
      if (d != null) {
        leaderReady(d.getInfo().getCurrentTerm());
      }
    } catch (IOException e) {
      LOG.warn("[{}] leader ready but no division: {}", selfId, e.toString());
    }
  }

  void leaderReady(long term) {
    stamps.lead(term, appliedNowMs);
    if (ticker != null) {
      ticker.start();
    }
    if (settings.hasBootstrapLimits() && !limitsExplicit && tickScheduler != null) {
      tickScheduler.execute(() -> BootstrapLimits.append(localWrites, settings.bootstrapLimits()));
    }
  }

  /** Null before {@link #initialize} (unit tests drive the callbacks without a server). */
  private RaftServer.Division division() throws IOException {
    RaftServer.Division d = division;
    if (d == null && raftServer != null) {
      d = raftServer.getDivision(getGroupId());
      division = d;
    }
    return d;
  }

  /** Under the lock, after an apply or a load. */
  private void noteApplied() {
    appliedLimits = coordinator.limits();
    limitsExplicit = coordinator.limitsExplicit();
    appliedNowMs = coordinator.nowMs();
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
    events.leaderChanged(newLeaderId);
  }

  // ------------------------------------------------------------------ log failures

  /** Ratis' log worker failed to write or flush: see {@link LogFailures}. */
  @Override
  public void notifyLogFailed(Throwable cause, LogEntryProto failedEntry) {
    logFailures.failed(selfId.toString(), cause, failedEntry);
  }

  /** The first log write failure, or null while the log works. */
  public LogFailure logFailure() {
    return logFailures.first();
  }

  @Override
  public CompletableFuture<Void> flush(long logIndex) {
    return logFailures.flush();
  }

  /** Tests: from now on the log worker's flushes fail with {@code cause}, as on a full disk. */
  void failLogFlushes(IOException cause) {
    logFailures.injectFlushFailure(cause);
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
    SnapshotKeeper.Loaded loaded = snapshots.loadLatest(Limits.DEFAULTS);
    if (loaded == null) {
      return;
    }
    loaded.coordinator().observe(coordinatorEvents);
    lock.lock();
    try {
      coordinator = loaded.coordinator();
      setLastAppliedTermIndex(loaded.termIndex());
      noteApplied();
    } finally {
      lock.unlock();
    }
    staleReads.release(loaded.termIndex().getIndex());
  }
}
