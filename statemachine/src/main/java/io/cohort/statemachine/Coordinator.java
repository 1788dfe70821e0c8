package io.cohort.statemachine;

import com.google.protobuf.InvalidProtocolBufferException;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.DigestView;
import io.cohort.statemachine.proto.Heartbeat;
import io.cohort.statemachine.proto.LogEntry;
import io.cohort.statemachine.proto.Query;
import io.cohort.statemachine.proto.QueryResult;
import io.cohort.statemachine.proto.Result;
import io.cohort.statemachine.proto.StateRecord;
import io.cohort.statemachine.proto.TickResult;
import io.cohort.statemachine.proto.WatchResult;
import com.google.protobuf.ByteString;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Iterator;

/**
 * The deterministic coordinator: applies commands in log order and answers queries. No clock, no
 * threads, no I/O: time, index and term come in with each command, so every replica that applies
 * the same log holds the same state (R8). Not thread-safe: one thread applies, and queries must not
 * run concurrently with it.
 */
public final class Coordinator {
  private final CoordinatorState state;
  private final Checkpoints checkpoints;
  private final Membership membership;
  private final Resharding resharding;
  private final Groups groups;
  private final AccessControl access;

  public Coordinator(Limits limits) {
    this(new CoordinatorState(limits));
  }

  private Coordinator(CoordinatorState state) {
    this.state = state;
    this.checkpoints = new Checkpoints(state);
    this.membership = new Membership(state, checkpoints);
    this.resharding = new Resharding(state);
    this.groups = new Groups(state);
    this.access = new AccessControl(state);
  }

  /** Rebuilds a coordinator from an exported record stream; throws if the stream is not valid. */
  public static Coordinator rebuild(Iterator<StateRecord> records, Limits limits) {
    return new Coordinator(StateRebuilder.rebuild(records, limits));
  }

  /** For tests in this package: the state itself. */
  CoordinatorState state() {
    return state;
  }

  /** The replicated limits in force (R9). */
  public Limits limits() {
    return state.limits;
  }

  /**
   * The replicated access control list (R11). Immutable: the leader's RPC threads may keep the one
   * returned after an apply and read it without the apply lock.
   */
  public Acl acl() {
    return state.acl;
  }

  /** False while the limits are the initial ones: the first leader may set its bootstrap limits. */
  public boolean limitsExplicit() {
    return state.limitsExplicit;
  }

  public long appliedIndex() {
    return state.appliedIndex;
  }

  public long appliedTerm() {
    return state.appliedTerm;
  }

  public long nowMs() {
    return state.nowMs;
  }

  /** True when some group has members, i.e. ticks can expire someone (R7). */
  public boolean hasMembers() {
    return state.counters.members > 0;
  }

  /**
   * Applies a raw log entry (a {@link LogEntry}). Bytes that do not decode get INVALID_ARGUMENT and
   * change nothing but the applied index: an entry is never skipped silently.
   */
  public Result applyLogEntry(byte[] entry, long index, long term) {
    LogEntry logEntry;
    Command command;
    try {
      logEntry = LogEntry.parseFrom(entry);
      command = Command.parseFrom(logEntry.getCommand());
    } catch (InvalidProtocolBufferException e) {
      markApplied(index, term);
      return Results.rejected(Code.INVALID_ARGUMENT, "entry " + index + " is not a Cohort command ("
          + entry.length + " bytes that do not decode)");
    }
    return apply(command, logEntry.getCommand().size(), index, term, stampOf(logEntry));
  }

  /**
   * What the leader stamped into a log entry (R6, R11). An entry without a principal was written
   * before step 8, when no command had one: it keeps the rights it had then (the internal
   * principal's). No entry written since lacks one: the leader copies it from the envelope, which
   * always names the caller.
   */
  public static Stamp stampOf(LogEntry entry) {
    String principal = entry.getPrincipal().isEmpty() ? Principals.INTERNAL : entry.getPrincipal();
    return new Stamp(entry.getTimeMs(), principal, entry.getSessionToken());
  }

  /**
   * The leader's checks before the log that need the ACL (R11): null when the principal may send
   * the command, else the PERMISSION_DENIED that apply would also give. Consumer-id ownership
   * depends on the members and is checked only by apply.
   */
  public static Result authorize(Command command, String principal, Acl acl) {
    return Authorization.check(command, principal, acl);
  }

  /**
   * Checks what can be checked without the state (sizes, counts, names): the leader refuses such a
   * command before it reaches the log. Null when the command may be appended; else the rejection
   * that apply would also give.
   */
  public static Result validate(Command command, int sizeBytes, Limits limits) {
    return CommandValidator.validate(command, sizeBytes, limits);
  }

  /**
   * Applies one command. Never throws: every rejection is a result code with a message (R8). The
   * stateless checks come first, exactly as the leader ran them ({@link #validate}), then the
   * principal's rights ({@link #authorize}, R11); a command they refuse changes nothing but the
   * applied index (not even the time). The size checked is the command's encoded size.
   */
  public Result apply(Command command, long index, long term, Stamp stamp) {
    return apply(command, command.getSerializedSize(), index, term, stamp);
  }

  /**
   * {@link #apply(Command, long, long, Stamp)} for a command decoded from {@code sizeBytes} bytes
   * of the log: the size the leader checked, and the same on every replica. Saves re-measuring it
   * (on the leader its strings are decoded by then, and measuring them again took over a third of
   * the leader's apply in a profile).
   */
  public Result apply(Command command, int sizeBytes, long index, long term, Stamp stamp) {
    return apply(command, sizeBytes, null, index, term, stamp);
  }

  /**
   * As above, on the leader that admitted the command: {@code validUnder} are the limits its
   * {@link #validate} passed under. When they are the very limits in force, the stateless checks
   * are skipped, as they are a pure function of the command, its size and the limits and would
   * pass again; after any change of limits they run. Rights and state are always checked.
   */
  public Result apply(Command command, int sizeBytes, Limits validUnder, long index, long term, Stamp stamp) {
    if (index <= state.appliedIndex) {
      return Results.rejected(Code.INVALID_ARGUMENT, "entry " + index + " is not after the applied index "
          + state.appliedIndex);
    }
    Result result;
    try {
      result = validUnder == state.limits ? null : CommandValidator.validate(command, sizeBytes, state.limits);
      if (result == null) {
        result = Authorization.check(command, stamp.principal(), state.acl);
      }
      if (result == null) {
        result = membership.checkOwnership(command, stamp.principal());
      }
      if (result == null) {
        advanceClock(term, stamp.timeMs());
        Timers.fireDue(index, state);
        result = dispatch(command, index, stamp);
      }
    } catch (RuntimeException e) {
      // A broken invariant. Same input, same exception, so replicas still agree; keep serving.
      result = Results.rejected(Code.INTERNAL, "internal error applying entry " + index + " ("
          + e.getClass().getSimpleName() + "): a bug, please report it");
    }
    markApplied(index, term);
    return result;
  }

  private void markApplied(long index, long term) {
    state.appliedIndex = Math.max(state.appliedIndex, index);
    state.appliedTerm = Math.max(state.appliedTerm, term);
  }

  /** R6: time only moves forward; a new term pushes every session deadline. */
  private void advanceClock(long term, long timeMs) {
    state.nowMs = Math.max(state.nowMs, timeMs);
    if (term > state.lastTerm) {
      if (state.lastTerm != 0) {
        membership.pushDeadlines();
      }
      state.lastTerm = term;
      state.termStartMs = state.nowMs;
    }
  }

  private Result dispatch(Command c, long index, Stamp stamp) {
    return switch (c.getBodyCase()) {
      case CREATE_TOPIC -> resharding.createTopic(c.getCreateTopic());
      case DELETE_TOPIC -> resharding.deleteTopic(c.getDeleteTopic());
      case SPLIT_PARTITION -> resharding.split(c.getSplitPartition(), index);
      case MERGE_PARTITIONS -> resharding.merge(c.getMergePartitions(), index);
      case SET_WEIGHT -> resharding.setWeight(c.getSetWeight(), index);
      case CREATE_GROUP -> groups.create(c.getCreateGroup(), index);
      case UPDATE_GROUP -> groups.update(c.getUpdateGroup(), index);
      case DELETE_GROUP -> groups.delete(c.getDeleteGroup());
      case HEARTBEAT -> membership.heartbeat(c.getHeartbeat(), index, stamp);
      case LEAVE -> membership.leave(c.getLeave(), index);
      case COMMIT_CHECKPOINTS -> checkpoints.commit(c.getCommitCheckpoints(), index);
      case RESET_CHECKPOINT -> checkpoints.reset(c.getResetCheckpoint(), index);
      case TICK -> Result.newBuilder().setCode(Code.OK).setTick(tick(c.getTick(), index)).build();
      case RESET_CHECKPOINTS -> checkpoints.resetAll(c.getResetCheckpoints(), index);
      case SET_LIMITS -> setLimits(c.getSetLimits());
      case GRANT_ACCESS -> access.grant(c.getGrantAccess());
      case REVOKE_ACCESS -> access.revoke(c.getRevokeAccess());
      case BOOTSTRAP_ACCESS -> access.bootstrap(c.getBootstrapAccess());
      case BODY_NOT_SET -> Results.rejected(Code.INVALID_ARGUMENT, "empty command");
    };
  }

  /** R7: the renewals the leader answered off the log (step 11), expiry, then the empty groups whose retention ran out. */
  private TickResult tick(io.cohort.statemachine.proto.Tick t, long index) {
    TickResult.Builder renewals = TickResult.newBuilder();
    Liveness.renew(state, t, renewals);
    long cutoff = t.hasExpiryCutoffMs() ? Math.min(t.getExpiryCutoffMs(), state.nowMs) : state.nowMs;
    TickResult.Builder out = membership.expire(index, cutoff).toBuilder();
    out.setRenewed(renewals.getRenewed()).setRenewalsSkipped(renewals.getRenewalsSkipped());
    groups.deleteExpired(out);
    return out.build();
  }

  /** R9: limits change only through the log, so replicas never disagree about them. */
  private Result setLimits(io.cohort.statemachine.proto.SetLimits s) {
    Limits next = state.limits.with(s.getLimits()); // each set field was checked (CommandValidator)
    state.limits = next;
    state.limitsExplicit = true;
    return Results.ok("limits set: " + next);
  }

  /**
   * Answers a read-only query against the current state, as {@code principal} may see it (R11): a
   * query it may not run is PERMISSION_DENIED; lists show only what it may describe.
   */
  public QueryResult query(Query q, String principal) {
    QueryResult denied = checkQuery(q, principal, state.acl);
    if (denied != null) {
      return denied;
    }
    return switch (q.getBodyCase()) {
      case LIST_TOPICS -> Views.listTopics(state);
      case DESCRIBE_TOPIC -> Views.describeTopic(state, q.getDescribeTopic().getTopic());
      case LIST_GROUPS -> Views.listGroups(state, principal);
      case DESCRIBE_GROUP -> Views.describeGroup(state, q.getDescribeGroup().getGroup(),
          q.getDescribeGroup().hasStallAfterMs() ? q.getDescribeGroup().getStallAfterMs() : Health.DEFAULT_STALL_AFTER_MS);
      case LIST_CHECKPOINTS -> Views.listCheckpoints(state, q.getListCheckpoints().getGroup(),
          q.getListCheckpoints().hasStallAfterMs() ? q.getListCheckpoints().getStallAfterMs()
              : Health.DEFAULT_STALL_AFTER_MS);
      case STATE_DIGEST -> QueryResult.newBuilder().setCode(Code.OK).setDigest(digest()).build();
      case CLUSTER_INFO -> Views.clusterInfo(state, principal);
      case LIST_ACCESS -> access.list(principal);
      case SNAPSHOT_CHUNK -> Results.queryRejected(Code.INVALID_ARGUMENT,
          "snapshot chunks are served by a node from its files, not by the state");
      case QUIET_HEARTBEAT -> Results.queryRejected(Code.INVALID_ARGUMENT,
          "a quiet heartbeat is answered by the leader (quietHeartbeat), not as a query of the state");
      case BODY_NOT_SET -> Results.queryRejected(Code.INVALID_ARGUMENT, "empty query");
    };
  }

  /**
   * R12: what a member's watch sees now: OK with its {@link AssignmentView}, or why it must
   * heartbeat (NOT_FOUND, UNKNOWN_MEMBER, FENCED), or PERMISSION_DENIED when the principal may not
   * heartbeat in the group as that consumer id (R11). Reads only; {@code changed} is left unset.
   */
  public WatchResult watch(String group, String consumerId, ByteString session, String principal) {
    if (!state.acl.mayConsume(principal, group)) {
      return WatchResult.newBuilder().setCode(Code.PERMISSION_DENIED).setMessage(Authorization.who(principal,
          state.acl) + " may not consume group " + Text.quote(group)).build();
    }
    GroupState g = state.groups.get(group);
    if (g == null) {
      return WatchResult.newBuilder().setCode(Code.NOT_FOUND).setMessage("group " + Text.quote(group)
          + " does not exist").build();
    }
    MemberState m = g.members.get(consumerId);
    Result problem = Membership.checkOwner(g, m, principal, state.acl);
    if (problem == null) {
      problem = Membership.checkSession(g, m, consumerId, session);
    }
    if (problem != null) {
      return WatchResult.newBuilder().setCode(problem.getCode()).setMessage(problem.getMessage()).build();
    }
    return WatchResult.newBuilder().setCode(Code.OK).setView(AssignmentView.of(m)).build();
  }

  /**
   * Step 11: what applying {@code hb} as {@code principal} now would answer, when it would change
   * nothing but the member's last heartbeat and deadline, and mark new grants told (no join,
   * commit, error or release, no timer due, the deadline not passed at {@code atMs}, the leader's
   * time of the answer);
   * else NEEDS_WRITE: send it through the log. Refusals apply would give (PERMISSION_DENIED,
   * NOT_FOUND, UNKNOWN_MEMBER, FENCED, a validation code) come as they are. Reads only: the
   * liveness it proves reaches the state as a {@code Renewal} in a later tick.
   */
  public Result quietHeartbeat(Heartbeat hb, String principal, long atMs) {
    Command c = Command.newBuilder().setHeartbeat(hb).build();
    Result r = CommandValidator.validate(c, c.getSerializedSize(), state.limits);
    if (r == null) {
      r = Authorization.check(c, principal, state.acl);
    }
    if (r == null) {
      r = membership.checkOwnership(c, principal);
    }
    return r != null ? r : Liveness.quiet(state, hb, atMs);
  }

  /**
   * After a quiet heartbeat got NEEDS_WRITE: whether it is from its member's current session, not
   * past its deadline at {@code atMs}, so the leader may count it as life while the log carries it.
   */
  public boolean sessionLive(Heartbeat hb, long atMs) {
    return Liveness.live(state, hb, atMs);
  }

  /** Null when the principal may run the query on this ACL, else the PERMISSION_DENIED it gets (R11). */
  public static QueryResult checkQuery(Query q, String principal, Acl acl) {
    return Authorization.checkQuery(q, principal, acl);
  }

  /**
   * Metrics (step 9): counts per group and samples of up to {@code maxPartitions} unfinished
   * partitions, judged with {@code stallAfterMs} exactly as `group describe` judges them; one pass
   * over the slots.
   */
  public MetricsView.Summary metricsView(int maxPartitions, long stallAfterMs) {
    return MetricsView.of(state, maxPartitions, stallAfterMs);
  }

  /** {@link #metricsView(int, long)} with {@link Health#DEFAULT_STALL_AFTER_MS}. */
  public MetricsView.Summary metricsView(int maxPartitions) {
    return metricsView(maxPartitions, Health.DEFAULT_STALL_AFTER_MS);
  }

  /** Sets the observer of grants and release timeouts (metrics); not part of the state. */
  public void observe(CoordinatorEvents observer) {
    state.events = observer == null ? CoordinatorEvents.NONE : observer;
  }

  /** The observer set by {@link #observe}; the assignor reports to it. */
  public CoordinatorEvents events() {
    return state.events;
  }

  /**
   * When the leader's ticker should append a Tick (R7): always while some group has members (to
   * expire them), else from the earliest time an empty group's retention runs out; MAX_VALUE = no
   * need. O(groups) when no group has members.
   */
  public long tickWantedAtMs() {
    if (state.counters.members > 0) {
      return Long.MIN_VALUE;
    }
    long at = Long.MAX_VALUE;
    for (GroupState g : state.groups.values()) {
      at = Math.min(at, g.deleteAtMs());
    }
    return at == Long.MAX_VALUE ? at : at + 1; // deleted once empty-since + retention < now
  }

  /** A copy of the state that can be exported from another thread while applies continue. */
  public FrozenState freeze() {
    return FrozenState.of(state);
  }

  /** SHA-256 of the exported records: equal on replicas that applied the same log. */
  public DigestView digest() {
    MessageDigest sha;
    try {
      sha = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JVM has no SHA-256", e);
    }
    long[] count = {0};
    freeze().export(r -> {
      byte[] bytes = r.toByteArray();
      sha.update(intBytes(bytes.length));
      sha.update(bytes);
      count[0]++;
    });
    return DigestView.newBuilder().setAppliedIndex(state.appliedIndex)
        .setSha256(HexFormat.of().formatHex(sha.digest())).setRecords(count[0]).build();
  }

  private static byte[] intBytes(int v) {
    return new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
  }
}
