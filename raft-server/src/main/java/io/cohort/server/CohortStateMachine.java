package io.cohort.server;

import com.google.protobuf.InvalidProtocolBufferException;
import io.cohort.server.snapshot.SnapshotLayout;
import io.cohort.statemachine.Coordinator;
import io.cohort.statemachine.CoordinatorEvents;
import io.cohort.statemachine.FrozenState;
import io.cohort.statemachine.Limits;
import io.cohort.statemachine.Health;
import io.cohort.statemachine.MetricsView;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.DigestView;
import io.cohort.statemachine.proto.Heartbeat;
import io.cohort.statemachine.proto.LimitsRecord;
import io.cohort.statemachine.proto.Query;
import io.cohort.statemachine.proto.QueryResult;
import io.cohort.statemachine.proto.Result;
import io.cohort.statemachine.Acl;
import io.cohort.statemachine.Principals;
import io.cohort.statemachine.Stamp;
import java.io.IOException;
import java.security.SecureRandom;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import java.util.Collection;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.locks.ReentrantLock;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.proto.RaftProtos.RoleInfoProto;
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
      long explicitSnapshotWaitMs, List<String> bootstrapAdmins) {
    public static final long DEFAULT_TICK_INTERVAL_MS = 250;
    public static final long DEFAULT_AUTO_SNAPSHOT_EVERY = 100_000;
    public static final Settings DEFAULTS = new Settings(LimitsRecord.getDefaultInstance(),
        DEFAULT_TICK_INTERVAL_MS, DEFAULT_AUTO_SNAPSHOT_EVERY, 60_000, List.of());

    public Settings {
      if (tickIntervalMs <= 0) {
        throw new IllegalArgumentException("tick interval must be positive: " + tickIntervalMs);
      }
      bootstrapAdmins = List.copyOf(bootstrapAdmins);
    }

    public Settings withAutoSnapshotEveryEntries(long entries) {
      return new Settings(bootstrapLimits, tickIntervalMs, entries, explicitSnapshotWaitMs, bootstrapAdmins);
    }

    public Settings withTickIntervalMs(long ms) {
      return new Settings(bootstrapLimits, ms, autoSnapshotEveryEntries, explicitSnapshotWaitMs, bootstrapAdmins);
    }

    public Settings withBootstrapLimits(LimitsRecord limits) {
      return new Settings(limits, tickIntervalMs, autoSnapshotEveryEntries, explicitSnapshotWaitMs, bootstrapAdmins);
    }

    /**
     * Principals the first leader makes admins (R11), once: the ACL is replicated state, and later
     * settings change nothing.
     */
    public Settings withBootstrapAdmins(List<String> admins) {
      return new Settings(bootstrapLimits, tickIntervalMs, autoSnapshotEveryEntries, explicitSnapshotWaitMs, admins);
    }

    boolean hasBootstrapLimits() {
      return !bootstrapLimits.equals(LimitsRecord.getDefaultInstance());
    }
  }

  private final Settings settings;
  private volatile NodeFailures failures = NodeFailures.NONE;
  private final ReentrantLock lock = new ReentrantLock();
  private final StaleReads staleReads = new StaleReads();
  private final SnapshotKeeper snapshots;
  private final SnapshotChunks snapshotChunks;
  private final LeaderStamps stamps;
  private final NodeEvents events;
  private final CoordinatorEvents coordinatorEvents;
  /** Forwards to {@link #coordinatorEvents} and notes the members each apply touched (R12). */
  private final TouchedMembers touched;

  private volatile Coordinator coordinator;
  private final LogFailures logFailures = new LogFailures();
  // What the leader's startTransaction needs of the applied state, without the lock.
  private volatile Limits appliedLimits = Limits.DEFAULTS;
  /** The applied ACL (R11): immutable, read by the leader's checks and the gRPC interceptor. */
  private volatile Acl appliedAcl = Acl.EMPTY;
  /** Completes once the applied ACL has its bootstrap admins. */
  private final CompletableFuture<Void> accessBootstrapped = new CompletableFuture<>();
  private final SecureRandom tokens = new SecureRandom();
  private volatile boolean limitsExplicit;
  private volatile long appliedNowMs;
  /** Describe and checkpoint list judge stalls with this unless the query names a threshold (step 9). */
  private volatile long stallAfterMs = Health.DEFAULT_STALL_AFTER_MS;
  /** Commands this leader admitted that are not applied or cancelled yet (step 11's queue). */
  private final PendingWrites pendingWrites;
  /** Runs quiet heartbeats' answers that waited for writes; inline until {@link #initialize}. */
  private volatile ExecutorService quietAnswers;
  /** Heartbeats are shed while more writes than this wait to be applied (step 11). */
  private volatile long shedAbovePending = Shedding.DEFAULT_SHED_ABOVE_PENDING;
  /** The largest command this server's Ratis log carries (R9). */
  private volatile int maxCommandBytes = RatisSettings.maxCommandBytes(RatisSettings.sizesOnly());

  /** Step 11: heartbeats answered off the log and the renewals they leave for the ticker. */
  private final OffLogLiveness liveness;

  /** R12: told what was applied (signals only); null until the server attaches it. */
  private volatile WatchService watches;
  private ScheduledExecutorService tickScheduler;
  private LeaderTicker ticker;
  private LocalWrites localWrites;
  private RaftServer raftServer;
  private volatile RaftServer.Division division;
  private volatile java.util.function.BooleanSupplier cutOffLeader = () -> false;
  /** How long a client waits before asking a cut-off leader again: about one election (R10). */
  static final long CUT_OFF_RETRY_MS = 100;
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
    this.touched = new TouchedMembers(coordinatorEvents);
    this.coordinator = new Coordinator(Limits.DEFAULTS);
    this.coordinator.observe(touched);
    this.snapshots = new SnapshotKeeper("unknown", settings.explicitSnapshotWaitMs(), events,
        (file, cause) -> failures.snapshotWriteFailed(file, cause));
    this.snapshotChunks = new SnapshotChunks(snapshots::storage);
    this.stamps = new LeaderStamps(clock);
    this.pendingWrites = new PendingWrites(clock::monotonicNanos);
    this.liveness = new OffLogLiveness(stamps, pendingWrites, events, this::underLock, r -> {
      ExecutorService e = quietAnswers;
      if (e == null) {
        r.run();
      } else {
        e.execute(r);
      }
    });
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
    quietAnswers = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "cohort-quiet-heartbeats-" + selfId);
      t.setDaemon(true);
      return t;
    });
    localWrites = new LocalWrites(() -> server, groupId, selfId);
    ticker = new LeaderTicker(localWrites, this::tickWanted, settings.tickIntervalMs(), tickScheduler,
        () -> liveness.nextTick(Math.min(appliedLimits.maxCommandBytes(), maxCommandBytes) / 2), liveness::restore);
    snapshots.init(raftStorage, RaftServerConfigKeys.Snapshot.retentionFileNum(server.getProperties()),
        RaftServerConfigKeys.Snapshot.autoTriggerEnabled(server.getProperties())
            ? RaftServerConfigKeys.Snapshot.autoTriggerThreshold(server.getProperties()) : 0);
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
    pendingWrites.clear();
    if (quietAnswers != null) {
      quietAnswers.shutdown(); // what still waits was released by clear() and answers NEEDS_WRITE
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
    return d == null ? startTransaction(request, 0, true, pendingWrites.size())
        : startTransaction(request, d.getInfo().getCurrentTerm(), d.getInfo().isLeaderReady(), pendingWrites.size());
  }

  TransactionContext startTransaction(RaftClientRequest request, long term, boolean leaderReady) {
    return startTransaction(request, term, leaderReady, 0);
  }

  /**
   * @param pendingWrites commands this leader admitted that are not applied (nor cancelled) yet:
   *     beyond {@link #shedHeartbeatsAbove} heartbeats are shed with RETRY_LATER before the log
   */
  TransactionContext startTransaction(RaftClientRequest request, long term, boolean leaderReady,
      long pendingWrites) {
    TransactionContext.Builder trx = TransactionContext.newBuilder().setStateMachine(this)
        .setClientRequest(request);
    CommandAdmission.Admitted admitted;
    long[] ticket = {0};
    try {
      // A ticket before the stamp, until applied or cancelled: a quiet heartbeat is answered once
      // every command admitted before it is applied (step 11).
      admitted = CommandAdmission.admit(request.getMessage().getContent(), appliedLimits, this::aclFor,
          maxCommandBytes, command -> {
            ticket[0] = this.pendingWrites.admit(command.getBodyCase());
            return stamps.stampMs(term, leaderReady, () -> appliedNowMs);
          }, this::newSessionToken).withTicket(ticket[0]);
      long lagMs = this.pendingWrites.oldestAgeMs();
      if (admitted.command().hasHeartbeat() && Shedding.saturated(pendingWrites, shedAbovePending, lagMs)) {
        this.pendingWrites.done(ticket[0]);
        liveness.renewShed(admitted);
        throw Shedding.refuse(admitted, pendingWrites, shedAbovePending, lagMs);
      }
    } catch (IllegalArgumentException refused) {
      if (ticket[0] != 0) {
        this.pendingWrites.done(ticket[0]);
      }
      if (refused instanceof CommandAdmission.Refused r) {
        events.refused(r.command(), r.code());
        if (audited(r.command(), r.code())) {
          Audit.command(selfId.toString(), r.principal(), r.command().name(), r.code().name(), -1, r.getMessage());
        }
      }
      TransactionContext rejected = trx.build();
      rejected.setException(refused);
      return rejected;
    }
    return trx.setLogData(Messages.wrap(admitted.logData())).setStateMachineContext(admitted).build();
  }

  /** R11: a session token is 128 random bits, drawn here on the leader and stamped into the entry. */
  private com.google.protobuf.ByteString newSessionToken() {
    byte[] b = new byte[Stamp.TOKEN_BYTES];
    tokens.nextBytes(b);
    return com.google.protobuf.ByteString.copyFrom(b);
  }

  /** What the audit log records: admin commands, and every PERMISSION_DENIED. */
  private static boolean audited(Command.BodyCase command, Code code) {
    return code == Code.PERMISSION_DENIED || switch (command) {
      case HEARTBEAT, LEAVE, COMMIT_CHECKPOINTS, TICK, BODY_NOT_SET -> false;
      default -> true;
    };
  }

  /**
   * The ACL a caller's command is checked against before the log. Right after a new cluster's
   * first election the bootstrap admins may not be applied yet: a caller waits for them (up to
   * {@link #ACCESS_BOOTSTRAP_WAIT_MS}) rather than being refused for a race it cannot see.
   */
  private Acl aclFor(String principal) {
    if (accessBootstrapPending(principal)) {
      try {
        accessBootstrapped.get(ACCESS_BOOTSTRAP_WAIT_MS, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (ExecutionException | TimeoutException e) {
        // not bootstrapped in time: the applied ACL decides
      }
    }
    return appliedAcl;
  }

  static final long ACCESS_BOOTSTRAP_WAIT_MS = 10_000;

  private boolean accessBootstrapPending(String principal) {
    return !Principals.INTERNAL.equals(principal) && !settings.bootstrapAdmins().isEmpty()
        && !accessBootstrapped.isDone();
  }

  /** The applied ACL (R11), for the interceptor's admin checks; immutable. */
  public Acl acl() {
    return appliedAcl;
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
    List<TouchedMembers.Member> members;
    lock.lock();
    try {
      result = parsed != null
          ? coordinator.apply(parsed.command(), parsed.commandBytes(), parsed.validUnder(), index, term, parsed.stamp())
          : coordinator.applyLogEntry(entry.getStateMachineLogEntry().getLogData().toByteArray(), index, term);
      updateLastAppliedTermIndex(term, index);
      noteApplied();
      members = touched.drain();
    } finally {
      lock.unlock();
    }
    if (trx.getStateMachineContext() instanceof CommandAdmission.Admitted a) {
      pendingWrites.done(a.ticket()); // admitted by this node as leader: now applied (after the lock: the state has it)
    }
    afterApplied();
    staleReads.release(index);
    signalWatches(parsed == null ? null : parsed.command(), members);
    Command.BodyCase kind = parsed != null ? parsed.command().getBodyCase() : Command.BodyCase.BODY_NOT_SET;
    events.applied(kind, result);
    if (parsed != null && trx.getServerRole() == RaftPeerRole.LEADER && audited(kind, result.getCode())) {
      Audit.command(selfId.toString(), parsed.stamp().principal(), kind.name(), result.getCode().name(), index,
          result.getMessage());
    }
    return CompletableFuture.completedFuture(Messages.of(result));
  }

  /** A command this leader admitted will not be applied (Ratis could not append it). */
  @Override
  public TransactionContext cancelTransaction(TransactionContext trx) throws IOException {
    if (trx.getStateMachineContext() instanceof CommandAdmission.Admitted a) {
      pendingWrites.done(a.ticket());
    }
    return super.cancelTransaction(trx);
  }

  /** Commands this node admitted as leader that are not applied or cancelled yet (tests, metrics). */
  public long writesInFlight() {
    return pendingWrites.size();
  }

  /** R12: the watch service serves the watches of this node; the apply thread signals it. */
  void watchedBy(WatchService service) {
    watches = service;
  }

  /**
   * On the apply thread: marks what the command may have changed for parked watches (cheap). The
   * frequent commands (heartbeats, commits, leaves, ticks) mark just the members the coordinator
   * reported touched (their sender learns its own changes from its answer); the rare ones mark the
   * whole group, or every group.
   */
  private void signalWatches(Command c, List<TouchedMembers.Member> members) {
    WatchService w = watches;
    if (w == null || c == null) {
      return;
    }
    switch (c.getBodyCase()) {
      case HEARTBEAT, LEAVE, COMMIT_CHECKPOINTS, TICK -> {
        for (TouchedMembers.Member m : members) {
          w.changed(m.group(), m.consumerId());
        }
        return;
      }
      default -> {
        // below
      }
    }
    String group = switch (c.getBodyCase()) {
      case CREATE_GROUP -> c.getCreateGroup().getGroup();
      case UPDATE_GROUP -> c.getUpdateGroup().getGroup();
      case DELETE_GROUP -> c.getDeleteGroup().getGroup();
      case RESET_CHECKPOINT -> c.getResetCheckpoint().getGroup();
      case RESET_CHECKPOINTS -> c.getResetCheckpoints().getGroup();
      default -> null; // ticks, topics, limits, access: any group
    };
    if (group != null) {
      w.changed(group);
    } else {
      w.changedAll();
    }
  }

  /** R12: a member's watch view of the applied state (the watch service's thread). */
  io.cohort.statemachine.proto.WatchResult watchView(String group, String consumerId,
      com.google.protobuf.ByteString session, String principal) {
    lock.lock();
    try {
      return coordinator.watch(group, consumerId, session, principal);
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void notifyTermIndexUpdated(long term, long index) {
    super.notifyTermIndexUpdated(term, index);
    staleReads.release(index);
  }

  // ------------------------------------------------------------------ reads

  /**
   * A read: the interceptor's envelope around a {@code Query}, answered as its principal may see
   * it (R11). Right after a new cluster's first election it waits for the bootstrap admins, as
   * writes do ({@link #aclFor}).
   */
  @Override
  public CompletableFuture<Message> query(Message request) {
    return query(request, true);
  }

  /**
   * @param linearizable Ratis called {@link #query} (a ReadIndex read, or the leader's own
   *     non-linearizable read), not {@link #queryStale}: refused by a cut-off leader (R10)
   */
  private CompletableFuture<Message> query(Message request, boolean linearizable) {
    Query q;
    String principal;
    try {
      Envelopes.Opened opened = Envelopes.open(request.getContent());
      principal = opened.principal();
      q = Query.parseFrom(opened.payload());
    } catch (InvalidProtocolBufferException e) {
      return CompletableFuture.completedFuture(Messages.of(QueryResult.newBuilder()
          .setCode(Code.INVALID_ARGUMENT).setMessage("not a Cohort query: " + e.getMessage()).build()));
    }
    if (linearizable && !q.hasQuietHeartbeat() && cutOffLeader.getAsBoolean()) { // quiet ones judge their own
      return CompletableFuture.completedFuture(Messages.of(QueryResult.newBuilder().setCode(Code.RETRY_LATER)
          .setMessage("retry after " + CUT_OFF_RETRY_MS + " ms: this node leads but has not heard from a majority"
              + " lately, so its state may be stale; ask again (a new leader answers) or read with --stale")
          .build()));
    }
    return answerOnceBootstrapped(q, principal).thenApply(Messages::of);
  }

  /**
   * The state digest and snapshot chunks are served here, not by the coordinator: the rights are
   * checked here for them (snapshot chunks hold the whole state: admins only).
   */
  private CompletableFuture<QueryResult> answer(Query q, String principal) {
    if (q.hasQuietHeartbeat()) { // may wait for this leader's writes ahead of it (step 11)
      return liveness.answer(q.getQuietHeartbeat(), principal).thenApply(r -> audited(q, principal, r));
    }
    QueryResult r;
    switch (q.getBodyCase()) {
      case STATE_DIGEST, SNAPSHOT_CHUNK -> {
        QueryResult denied = Coordinator.checkQuery(q, principal, appliedAcl);
        r = denied != null ? denied : q.hasStateDigest()
            ? QueryResult.newBuilder().setCode(Code.OK).setDigest(digest()).build()
            : snapshotChunks.serve(q.getSnapshotChunk()); // this node's files, not the state
      }
      default -> r = localQuery(q, principal);
    }
    return CompletableFuture.completedFuture(audited(q, principal, r));
  }

  /**
   * A quiet heartbeat sent on Cohort's own service ({@link WatchService}) rather than as a Ratis
   * read: the same off-log answer, after the same wait for the access bootstrap.
   */
  CompletableFuture<QueryResult> quietHeartbeat(Heartbeat hb, String principal) {
    Query q = Query.newBuilder().setQuietHeartbeat(hb).build();
    ExecutorService e = quietAnswers;
    if (e == null || (!lock.isLocked() && !liveness.renewalsBusy())) {
      return answerOnceBootstrapped(q, principal); // both locks free: held for microseconds
    }
    // Called on the transport thread that read it, which must not wait behind a long apply, a query
    // or a snapshot's freeze (its connections would wait too): answered on the quiet answers' thread.
    try {
      return CompletableFuture.supplyAsync(() -> answerOnceBootstrapped(q, principal), e).thenCompose(f -> f);
    } catch (RejectedExecutionException stopping) {
      return CompletableFuture.failedFuture(stopping);
    }
  }

  /** {@link #answer}, after the access bootstrap when it is still pending for this principal. */
  private CompletableFuture<QueryResult> answerOnceBootstrapped(Query q, String principal) {
    if (accessBootstrapPending(principal)) {
      return accessBootstrapped.copy().completeOnTimeout(null, ACCESS_BOOTSTRAP_WAIT_MS, TimeUnit.MILLISECONDS)
          .thenCompose(v -> answer(q, principal));
    }
    return answer(q, principal);
  }

  private QueryResult audited(Query q, String principal, QueryResult r) {
    if (r.getCode() == Code.PERMISSION_DENIED) {
      Audit.command(selfId.toString(), principal, "QUERY_" + q.getBodyCase(), r.getCode().name(), -1, r.getMessage());
    }
    return r;
  }

  /** Ratis checked commit index >= minIndex; wait until the local apply reaches it too. */
  @Override
  public CompletableFuture<Message> queryStale(Message request, long minIndex) {
    if (getLastAppliedTermIndex().getIndex() >= minIndex) {
      return query(request, false);
    }
    return staleReads.await(minIndex, () -> getLastAppliedTermIndex().getIndex())
        .thenCompose(v -> query(request, false));
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

  /**
   * The stall threshold of describe and checkpoint list when a query names none: the node's
   * --stall-after-ms, which its metrics use, so both agree by default (step 9).
   */
  public void judgeStallsAfter(long ms) {
    if (ms <= 0) {
      throw new IllegalArgumentException("stall threshold must be positive: " + ms);
    }
    stallAfterMs = ms;
  }

  /**
   * Overload (step 11): while more than {@code pendingWrites} commands this leader admitted wait to
   * be applied, heartbeats are refused with RETRY_LATER before the log ({@link Shedding}).
   */
  public void shedHeartbeatsAbove(long pendingWrites) {
    if (pendingWrites < 0) {
      throw new IllegalArgumentException("the shedding bound must be at least 0: " + pendingWrites);
    }
    shedAbovePending = pendingWrites;
  }

  /** Answers a query locally, without Ratis, as the internal principal (tests, tools in the same JVM). */
  public QueryResult localQuery(Query q) {
    return localQuery(q, Principals.INTERNAL);
  }

  /** Answers a query locally as {@code principal} may see it (R11). */
  public QueryResult localQuery(Query q, String principal) {
    q = withStallThreshold(q);
    lock.lock();
    try {
      return coordinator.query(q, principal);
    } finally {
      lock.unlock();
    }
  }

  private Query withStallThreshold(Query q) {
    if (q.hasDescribeGroup() && !q.getDescribeGroup().hasStallAfterMs()) {
      return q.toBuilder().setDescribeGroup(q.getDescribeGroup().toBuilder().setStallAfterMs(stallAfterMs)).build();
    }
    if (q.hasListCheckpoints() && !q.getListCheckpoints().hasStallAfterMs()) {
      return q.toBuilder().setListCheckpoints(q.getListCheckpoints().toBuilder().setStallAfterMs(stallAfterMs))
          .build();
    }
    return q;
  }

  /**
   * Metrics (step 9): a compact summary taken under the lock, one pass over the slots, judged with
   * {@code stallAfterMs}; see {@link Coordinator#metricsView}.
   */
  public MetricsView.Summary metricsView(int maxPartitions, long stallAfterMs) {
    lock.lock();
    try {
      return coordinator.metricsView(maxPartitions, stallAfterMs);
    } finally {
      lock.unlock();
    }
  }

  /** The observer the current coordinator reports grants and release timeouts to. */
  public CoordinatorEvents coordinatorEvents() {
    CoordinatorEvents e = coordinator.events();
    return e instanceof TouchedMembers t ? t.delegate() : e;
  }

  /**
   * Whether the leader's ticker should append a Tick now: some group has members (R7 expiry), or an
   * empty group's retention ran out by the time a command accepted now would be stamped.
   */
  boolean tickWanted() {
    long at;
    lock.lock();
    try {
      at = coordinator.tickWantedAtMs();
    } finally {
      lock.unlock();
    }
    return at == Long.MIN_VALUE || liveness.pending() > 0 || (at != Long.MAX_VALUE && stamps.peekMs() >= at);
  }

  public long appliedIndex() {
    return getLastAppliedTermIndex().getIndex();
  }

  // ------------------------------------------------------------------ heartbeats off the log (step 11)

  /**
   * R10: whether this node leads without having heard from a majority lately ({@link
   * LeaderFreshness#cutOff}); such a leader refuses linearizable reads with RETRY_LATER. Never,
   * until set (a state machine outside a server).
   */
  void judgeReadsBy(java.util.function.BooleanSupplier cutOff) {
    cutOffLeader = cutOff;
  }

  /** Step 11: how the leader's freshness is judged (the server's sampled {@link LeaderFreshness}); never, until set. */
  void judgeLeadershipBy(java.util.function.BooleanSupplier fresh) {
    judgeLeadershipWith(new OffLogLiveness.Leadership() {
      @Override
      public long freshTerm() {
        return fresh.getAsBoolean() ? leadingTerm() : -1;
      }

      @Override
      public boolean leads() {
        return leadingTerm() >= 0;
      }

      @Override
      public boolean raftLeader() {
        return CohortStateMachine.this.raftLeader();
      }
    });
  }

  /** Whether this node is the Raft leader of its term, ready or not, fresh or not. */
  boolean raftLeader() {
    RaftServer.Division d = divisionOrNull();
    return d != null && d.getInfo().isLeader();
  }

  /** The term this node leads, ready and leading its clock, fresh or not; else -1. */
  private long leadingTerm() {
    RaftServer.Division d = divisionOrNull();
    if (d == null || !d.getInfo().isLeader() || !d.getInfo().isLeaderReady()) {
      return -1;
    }
    long term = d.getInfo().getCurrentTerm();
    return stamps.leads(term) ? term : -1;
  }

  /** Who may answer quiet heartbeats: the term this node leads while fresh, else -1 (tests set it directly). */
  void judgeLeadershipWith(OffLogLiveness.Leadership leadership) {
    liveness.judgeLeadershipBy(leadership);
  }

  /** Quiet heartbeats that waited for this leader's earlier writes to be applied (tests). */
  long quietHeartbeatsWaited() {
    return liveness.waited();
  }

  /** Of those, the ones answered 200 ms or more after they arrived (tests; the log says so too). */
  long quietHeartbeatsSlow() {
    return liveness.slowWaits();
  }

  /** Quiet heartbeats this node answered (any code), and answered OK off the log (tests, metrics). */
  public long quietHeartbeatsAnswered() {
    return liveness.answered();
  }

  public long quietHeartbeatsOk() {
    return liveness.answeredOk();
  }

  /** Heartbeats sent to the log by this leader while not fresh that renewed their member (tests). */
  long unfreshRenewed() {
    return liveness.unfreshRenewed();
  }

  /** Shed heartbeats that renewed their member (tests). */
  public long shedHeartbeatsRenewed() {
    return liveness.shedRenewed();
  }

  /** Quiet heartbeats answered NEEDS_WRITE whose live member was renewed all the same (tests). */
  long needsWriteRenewed() {
    return liveness.needsWriteRenewed();
  }

  /** Renewals waiting for the next tick (tests). */
  int pendingRenewals() {
    return liveness.pending();
  }

  /** Tests: quiet heartbeats that find the state held are answered on {@code e} (else: where they came). */
  void quietAnswersOn(ExecutorService e) {
    quietAnswers = e;
  }

  /** Tests: runs {@code r} holding the applied state, as a long apply, query or freeze would. */
  void holdingAppliedState(Runnable r) {
    underLock(c -> {
      r.run();
      return null;
    });
  }

  /** Tests: runs {@code r} holding the renewals, as a tick's drain would. */
  void holdingRenewals(Runnable r) {
    liveness.holdingRenewals(r);
  }

  /** Runs {@code read} on the applied state under the apply lock. */
  private <T> T underLock(java.util.function.Function<Coordinator, T> read) {
    lock.lock();
    try {
      return read.apply(coordinator);
    } finally {
      lock.unlock();
    }
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
    liveness.clear(); // anything left from an earlier term: that term's end pushed every deadline (R6)
    if (ticker != null) {
      ticker.start();
    }
    if (settings.hasBootstrapLimits() && !limitsExplicit && tickScheduler != null) {
      tickScheduler.execute(() -> BootstrapLimits.append(localWrites, settings.bootstrapLimits()));
    }
    if (!settings.bootstrapAdmins().isEmpty() && !appliedAcl.bootstrapped() && tickScheduler != null) {
      tickScheduler.execute(() -> BootstrapAccess.append(localWrites, settings.bootstrapAdmins()));
    }
  }

  private RaftServer.Division divisionOrNull() {
    try {
      return division();
    } catch (IOException e) {
      return null;
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
    appliedAcl = coordinator.acl();
    appliedLimits = coordinator.limits();
    limitsExplicit = coordinator.limitsExplicit();
    appliedNowMs = coordinator.nowMs();
  }

  /** Outside the lock: what waits for the applied state runs on. */
  private void afterApplied() {
    if (!accessBootstrapped.isDone() && appliedAcl.bootstrapped()) {
      accessBootstrapped.complete(null);
    }
  }

  @Override
  public void notifyNotLeader(Collection<TransactionContext> pendingEntries) {
    if (ticker != null) {
      ticker.stop();
    }
    pendingWrites.clear(); // what it admitted is the next leader's to apply or drop
    liveness.clear(); // lost with the leadership: the next term's first entry pushes every deadline (R6)
    WatchService w = watches;
    if (w != null) {
      w.notLeader("");
    }
  }

  @Override
  public void notifyLeaderChanged(RaftGroupMemberId groupMemberId, RaftPeerId newLeaderId) {
    if (ticker != null && !selfId.equals(newLeaderId)) {
      ticker.stop();
    }
    if (!selfId.equals(newLeaderId)) {
      liveness.clear(); // as in notifyNotLeader
    }
    WatchService w = watches;
    if (w != null && !selfId.equals(newLeaderId)) {
      w.notLeader(newLeaderId == null ? "" : newLeaderId.toString());
    }
    events.leaderChanged(newLeaderId);
  }

  // ------------------------------------------------------------------ log failures

  /**
   * Ratis' log worker failed to write or flush (see {@link LogFailures}); it fails every later
   * write too and keeps the division running, so the node stops (step 10, RATIS-NOTES F).
   */
  @Override
  public void notifyLogFailed(Throwable cause, LogEntryProto failedEntry) {
    logFailures.failed(selfId.toString(), cause, failedEntry);
    failures.logFailed(cause, failedEntry == null ? -1 : failedEntry.getIndex());
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

  // ------------------------------------------------------------------ failures (step 10: fail-stop)

  void reportFailuresTo(NodeFailures to) {
    failures = to;
  }

  @Override
  public void notifyServerShutdown(RoleInfoProto roleInfo, boolean allServer) {
    failures.serverShutdown(roleInfo, allServer);
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
    loaded.coordinator().observe(touched);
    lock.lock();
    try {
      coordinator = loaded.coordinator();
      setLastAppliedTermIndex(loaded.termIndex());
      noteApplied();
    } finally {
      lock.unlock();
    }
    afterApplied();
    staleReads.release(loaded.termIndex().getIndex());
    WatchService w = watches;
    if (w != null) {
      w.changedAll();
    }
  }
}
