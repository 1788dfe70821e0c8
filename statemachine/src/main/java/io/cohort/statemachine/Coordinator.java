package io.cohort.statemachine;

import com.google.protobuf.InvalidProtocolBufferException;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.DigestView;
import io.cohort.statemachine.proto.LogEntry;
import io.cohort.statemachine.proto.Query;
import io.cohort.statemachine.proto.QueryResult;
import io.cohort.statemachine.proto.Result;
import io.cohort.statemachine.proto.StateRecord;
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
  private CoordinatorEvents events = CoordinatorEvents.NONE;

  public Coordinator(Limits limits) {
    this(new CoordinatorState(limits));
  }

  private Coordinator(CoordinatorState state) {
    this.state = state;
    this.checkpoints = new Checkpoints(state);
    this.membership = new Membership(state, checkpoints);
    this.resharding = new Resharding(state);
    this.groups = new Groups(state);
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
    return apply(command, index, term, logEntry.getTimeMs());
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
   * stateless checks come first, exactly as the leader ran them ({@link #validate}); a command they
   * refuse changes nothing but the applied index (not even the time).
   */
  public Result apply(Command command, long index, long term, long timeMs) {
    if (index <= state.appliedIndex) {
      return Results.rejected(Code.INVALID_ARGUMENT, "entry " + index + " is not after the applied index "
          + state.appliedIndex);
    }
    Result result;
    try {
      result = CommandValidator.validate(command, command.getSerializedSize(), state.limits);
      if (result == null) {
        advanceClock(term, timeMs);
        result = dispatch(command, index);
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

  private Result dispatch(Command c, long index) {
    return switch (c.getBodyCase()) {
      case CREATE_TOPIC -> resharding.createTopic(c.getCreateTopic());
      case DELETE_TOPIC -> resharding.deleteTopic(c.getDeleteTopic());
      case SPLIT_PARTITION -> resharding.split(c.getSplitPartition(), index);
      case MERGE_PARTITIONS -> resharding.merge(c.getMergePartitions(), index);
      case SET_WEIGHT -> resharding.setWeight(c.getSetWeight(), index);
      case CREATE_GROUP -> groups.create(c.getCreateGroup(), index);
      case UPDATE_GROUP -> groups.update(c.getUpdateGroup(), index);
      case DELETE_GROUP -> groups.delete(c.getDeleteGroup());
      case HEARTBEAT -> membership.heartbeat(c.getHeartbeat(), index);
      case LEAVE -> membership.leave(c.getLeave(), index);
      case COMMIT_CHECKPOINTS -> checkpoints.commit(c.getCommitCheckpoints(), index);
      case RESET_CHECKPOINT -> checkpoints.reset(c.getResetCheckpoint(), index);
      case TICK -> Result.newBuilder().setCode(Code.OK).setTick(membership.expire(index)).build();
      case RESET_CHECKPOINTS -> checkpoints.resetAll(c.getResetCheckpoints(), index);
      case SET_LIMITS -> setLimits(c.getSetLimits());
      case BODY_NOT_SET -> Results.rejected(Code.INVALID_ARGUMENT, "empty command");
    };
  }

  /** R9: limits change only through the log, so replicas never disagree about them. */
  private Result setLimits(io.cohort.statemachine.proto.SetLimits s) {
    Limits next = state.limits.with(s.getLimits()); // each set field was checked (CommandValidator)
    state.limits = next;
    state.limitsExplicit = true;
    return Results.ok("limits set: " + next);
  }

  /** Answers a read-only query against the current state. */
  public QueryResult query(Query q) {
    return switch (q.getBodyCase()) {
      case LIST_TOPICS -> Views.listTopics(state);
      case DESCRIBE_TOPIC -> Views.describeTopic(state, q.getDescribeTopic().getTopic());
      case LIST_GROUPS -> Views.listGroups(state);
      case DESCRIBE_GROUP -> Views.describeGroup(state, q.getDescribeGroup().getGroup());
      case LIST_CHECKPOINTS -> Views.listCheckpoints(state, q.getListCheckpoints().getGroup());
      case STATE_DIGEST -> QueryResult.newBuilder().setCode(Code.OK).setDigest(digest()).build();
      case CLUSTER_INFO -> Views.clusterInfo(state);
      case SNAPSHOT_CHUNK -> Results.queryRejected(Code.INVALID_ARGUMENT,
          "snapshot chunks are served by a node from its files, not by the state");
      case BODY_NOT_SET -> Results.queryRejected(Code.INVALID_ARGUMENT, "empty query");
    };
  }

  /**
   * Metrics (step 9): counts per group and samples of up to {@code maxPartitions} unfinished
   * partitions; one pass over the slots.
   */
  public MetricsView.Summary metricsView(int maxPartitions) {
    return MetricsView.of(state, maxPartitions);
  }

  /** Sets the observer of grants and release timeouts (metrics); not part of the state. */
  public void observe(CoordinatorEvents observer) {
    events = observer == null ? CoordinatorEvents.NONE : observer;
  }

  /** The observer set by {@link #observe}; the assignor reports to it. */
  public CoordinatorEvents events() {
    return events;
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
