package io.cohort.statemachine;

import io.cohort.statemachine.proto.CheckpointEntry;
import io.cohort.statemachine.proto.CheckpointReset;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.CommitCheckpoints;
import io.cohort.statemachine.proto.CreateGroup;
import io.cohort.statemachine.proto.CreateTopic;
import io.cohort.statemachine.proto.Heartbeat;
import io.cohort.statemachine.proto.LimitsRecord;
import io.cohort.statemachine.proto.Leave;
import io.cohort.statemachine.proto.MergePartitions;
import io.cohort.statemachine.proto.PartitionRef;
import io.cohort.statemachine.proto.ReaderError;
import io.cohort.statemachine.proto.ResetCheckpoint;
import io.cohort.statemachine.proto.ResetCheckpoints;
import io.cohort.statemachine.proto.Result;
import io.cohort.statemachine.proto.SetWeight;
import io.cohort.statemachine.proto.SplitPartition;
import io.cohort.statemachine.proto.StartFrom;
import io.cohort.statemachine.proto.UpdateGroup;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Stateless checks of a command (R9): what apply refuses whatever the state — names, counts,
 * sizes, ranges. The leader runs them before the log; apply runs the very same checks first, so a
 * command refused here is refused there with the same code, and changes nothing.
 */
final class CommandValidator {
  /** The smallest weight a partition can have: weights are stored in millionths. */
  static final double MIN_WEIGHT = 1e-6;
  static final double MAX_WEIGHT = 1_000_000.0;
  static final int MAX_ERROR_MESSAGE_BYTES = Protocol.MAX_ERROR_MESSAGE_BYTES;
  /** Renewals in one Tick (step 11); the leader splits more across ticks. */
  static final int MAX_RENEWALS_PER_TICK = Protocol.MAX_RENEWALS_PER_TICK;

  private CommandValidator() {}

  static Result validate(Command c, int sizeBytes, Limits limits) {
    if (sizeBytes > limits.maxCommandBytes()) {
      return Results.rejected(Code.LIMIT_EXCEEDED, "a command is at most " + limits.maxCommandBytes()
          + " bytes, got " + sizeBytes);
    }
    return switch (c.getBodyCase()) {
      case CREATE_TOPIC -> createTopic(c.getCreateTopic(), limits);
      case DELETE_TOPIC -> name("topic", c.getDeleteTopic().getTopic());
      case SPLIT_PARTITION -> split(c.getSplitPartition(), limits);
      case MERGE_PARTITIONS -> merge(c.getMergePartitions(), limits);
      case SET_WEIGHT -> setWeight(c.getSetWeight());
      case CREATE_GROUP -> createGroup(c.getCreateGroup(), limits);
      case UPDATE_GROUP -> updateGroup(c.getUpdateGroup(), limits);
      case DELETE_GROUP -> name("group", c.getDeleteGroup().getGroup());
      case HEARTBEAT -> heartbeat(c.getHeartbeat(), limits);
      case LEAVE -> leave(c.getLeave(), limits);
      case COMMIT_CHECKPOINTS -> commit(c.getCommitCheckpoints(), limits);
      case RESET_CHECKPOINT -> reset(c.getResetCheckpoint(), limits);
      case TICK -> c.getTick().getRenewalsCount() <= MAX_RENEWALS_PER_TICK ? null
          : tooMany("a tick carries at most " + MAX_RENEWALS_PER_TICK + " renewals, got " + c.getTick().getRenewalsCount());
      case RESET_CHECKPOINTS -> resetAll(c.getResetCheckpoints(), limits);
      case SET_LIMITS -> setLimits(c.getSetLimits().getLimits());
      case GRANT_ACCESS -> grant(c.getGrantAccess());
      case REVOKE_ACCESS -> revoke(c.getRevokeAccess());
      case BOOTSTRAP_ACCESS -> bootstrap(c.getBootstrapAccess());
      case BODY_NOT_SET -> Results.rejected(Code.INVALID_ARGUMENT, "empty command (no known body)");
    };
  }

  private static Result invalid(String message) {
    return Results.rejected(Code.INVALID_ARGUMENT, message);
  }

  private static Result tooMany(String message) {
    return Results.rejected(Code.LIMIT_EXCEEDED, message);
  }

  private static Result name(String kind, String name) {
    String problem = Names.problem(kind, name);
    return problem == null ? null : invalid(problem);
  }

  private static Result partition(String topic, int partition) {
    Result r = name("topic", topic);
    if (r == null && partition < 0) {
      r = invalid("partition ids are not negative, got " + topic + "/" + partition);
    }
    return r;
  }

  private static Result cursor(String what, String cursor, Limits limits) {
    return limits.cursorFits(cursor) ? null
        : tooMany(what + " is longer than " + limits.maxCursorBytes() + " bytes");
  }

  private static Result createTopic(CreateTopic c, Limits limits) {
    Result r = name("topic", c.getTopic());
    if (r != null) {
      return r;
    }
    int n = c.getPartitions();
    if (n < 1) {
      return invalid("a topic needs at least 1 partition, got " + n);
    }
    if (n > limits.maxPartitionsPerTopic()) {
      return tooMany("a topic has at most " + limits.maxPartitionsPerTopic() + " partitions, got " + n);
    }
    return null;
  }

  private static Result split(SplitPartition s, Limits limits) {
    Result r = partition(s.getTopic(), s.getPartition());
    if (r == null && s.hasEndCursor()) {
      r = cursor("end cursor", s.getEndCursor(), limits);
    }
    return r;
  }

  private static Result merge(MergePartitions m, Limits limits) {
    Result r = partition(m.getTopic(), m.getPartition1());
    if (r == null) {
      r = partition(m.getTopic(), m.getPartition2());
    }
    if (r == null && m.getPartition1() == m.getPartition2()) {
      r = invalid("cannot merge partition " + m.getPartition1() + " with itself");
    }
    if (r == null && m.hasEndCursor1()) {
      r = cursor("end cursor", m.getEndCursor1(), limits);
    }
    if (r == null && m.hasEndCursor2()) {
      r = cursor("end cursor", m.getEndCursor2(), limits);
    }
    return r;
  }

  private static Result setWeight(SetWeight w) {
    Result r = partition(w.getTopic(), w.getPartition());
    double weight = w.getWeight();
    if (r == null && !(weight >= MIN_WEIGHT && weight <= MAX_WEIGHT)) { // NaN fails too
      r = invalid("weight must be in [" + MIN_WEIGHT + ", " + (long) MAX_WEIGHT + "] (stored in millionths), got "
          + weight);
    }
    return r;
  }

  private static Result topics(List<String> topics, Limits limits) {
    Set<String> seen = new HashSet<>();
    for (String t : topics) {
      Result r = name("topic", t);
      if (r != null) {
        return r;
      }
      if (!seen.add(t)) {
        return invalid("topic '" + t + "' is named twice");
      }
    }
    if (seen.size() > limits.maxTopicsPerGroup()) {
      return tooMany("a group reads at most " + limits.maxTopicsPerGroup() + " topics, got " + seen.size());
    }
    return null;
  }

  private static Result createGroup(CreateGroup c, Limits limits) {
    Result r = name("group", c.getGroup());
    if (r != null) {
      return r;
    }
    if (c.getTopicsCount() == 0) {
      return invalid("a group reads at least one topic");
    }
    r = topics(c.getTopicsList(), limits);
    if (r != null) {
      return r;
    }
    if (c.getStartFrom() == StartFrom.UNRECOGNIZED) {
      return invalid("unknown start position " + c.getStartFromValue());
    }
    if (c.getSessionTimeoutMs() < 0 || c.getHeartbeatIntervalMs() < 0 || c.getReleaseTimeoutMs() < 0) {
      return invalid("timeouts and intervals are not negative");
    }
    if (c.hasRetentionMs()) {
      r = Groups.checkRetention(c.getRetentionMs());
      if (r != null) {
        return r;
      }
    }
    r = Groups.checkInitialRebalanceDelay(c.getInitialRebalanceDelayMs());
    if (r != null) {
      return r;
    }
    return Groups.checkTiming(Groups.sessionOf(c), Groups.intervalOf(c), c.getReleaseTimeoutMs());
  }

  private static Result updateGroup(UpdateGroup u, Limits limits) {
    Result r = name("group", u.getGroup());
    if (r == null) {
      r = topics(u.getAddTopicsList(), limits);
    }
    if (r != null) {
      return r;
    }
    // Each given value must be possible whatever the group's other settings; apply checks them together.
    long session = u.getSessionTimeoutMs();
    if (u.hasSessionTimeoutMs()
        && (session < Groups.MIN_SESSION_TIMEOUT_MS || session > Groups.MAX_SESSION_TIMEOUT_MS)) {
      return invalid("session timeout must be in " + Groups.MIN_SESSION_TIMEOUT_MS + ".."
          + Groups.MAX_SESSION_TIMEOUT_MS + " ms, got " + session);
    }
    long maxSession = u.hasSessionTimeoutMs() ? session : Groups.MAX_SESSION_TIMEOUT_MS;
    long interval = u.getHeartbeatIntervalMs();
    if (u.hasHeartbeatIntervalMs() && (interval < Groups.MIN_HEARTBEAT_INTERVAL_MS || interval > maxSession / 3)) {
      return invalid("heartbeat interval must be in " + Groups.MIN_HEARTBEAT_INTERVAL_MS + ".." + (maxSession / 3)
          + " ms (a third of the session timeout), got " + interval);
    }
    long minRelease = u.hasSessionTimeoutMs() ? session : Groups.MIN_SESSION_TIMEOUT_MS;
    long release = u.getReleaseTimeoutMs();
    if (u.hasReleaseTimeoutMs() && release != 0
        && (release < minRelease || release > Groups.MAX_RELEASE_TIMEOUT_MS)) {
      return invalid("release timeout must be 0 (the session timeout) or in " + minRelease + ".."
          + Groups.MAX_RELEASE_TIMEOUT_MS + " ms (at least the session timeout), got " + release);
    }
    if (u.hasInitialRebalanceDelayMs()) {
      r = Groups.checkInitialRebalanceDelay(u.getInitialRebalanceDelayMs());
      if (r != null) {
        return r;
      }
    }
    return u.hasRetentionMs() ? Groups.checkRetention(u.getRetentionMs()) : null;
  }

  private static Result group(String group, String consumerId) {
    Result r = name("group", group);
    return r != null ? r : name("consumer", consumerId);
  }

  /** A session token is what a join returned (R11): opaque, {@link Stamp#TOKEN_BYTES} bytes. */
  private static Result session(com.google.protobuf.ByteString token, boolean joinAllowed) {
    if ((token.isEmpty() && !joinAllowed) || (!token.isEmpty() && token.size() != Stamp.TOKEN_BYTES)) {
      return invalid("session token must be the " + Stamp.TOKEN_BYTES + " bytes a join returned, got "
          + token.size() + " bytes");
    }
    return null;
  }

  private static Result principal(String p) {
    String problem = Principals.problem(p);
    return problem == null ? null : invalid(problem);
  }

  private static Result groupPatterns(java.util.List<String> patterns) {
    if (patterns.size() > Acl.MAX_GROUPS_PER_PRINCIPAL) {
      return tooMany("at most " + Acl.MAX_GROUPS_PER_PRINCIPAL + " group patterns per command, got " + patterns.size());
    }
    for (String pattern : patterns) {
      String problem = Principals.groupPatternProblem(pattern);
      if (problem != null) {
        return invalid(problem);
      }
    }
    return null;
  }

  private static Result grant(io.cohort.statemachine.proto.GrantAccess g) {
    Result r = principal(g.getPrincipal());
    if (r != null) {
      return r;
    }
    io.cohort.statemachine.proto.Role role = g.getRole();
    if (role != io.cohort.statemachine.proto.Role.ADMIN && role != io.cohort.statemachine.proto.Role.CONSUMER
        && role != io.cohort.statemachine.proto.Role.READER) {
      return invalid("role must be admin, consumer or reader");
    }
    if (role != io.cohort.statemachine.proto.Role.CONSUMER && g.getGroupsCount() > 0) {
      return invalid("only a consumer is granted groups; " + role.name().toLowerCase(java.util.Locale.ROOT)
          + " covers every group");
    }
    return groupPatterns(g.getGroupsList());
  }

  private static Result revoke(io.cohort.statemachine.proto.RevokeAccess r) {
    Result problem = principal(r.getPrincipal());
    return problem != null ? problem : groupPatterns(r.getGroupsList());
  }

  private static Result bootstrap(io.cohort.statemachine.proto.BootstrapAccess b) {
    if (b.getAdminsCount() == 0 || b.getAdminsCount() > 100) {
      return invalid("bootstrap names 1 to 100 admins, got " + b.getAdminsCount());
    }
    for (String admin : b.getAdminsList()) {
      Result r = principal(admin);
      if (r != null) {
        return r;
      }
    }
    return null;
  }

  private static Result entries(List<CheckpointEntry> entries, String what, Limits limits) {
    if (entries.size() > limits.maxEntriesPerCommand()) {
      return tooMany("a " + what + " carries at most " + limits.maxEntriesPerCommand() + " commits, got "
          + entries.size());
    }
    for (int i = 0, n = entries.size(); i < n; i++) {
      CheckpointEntry e = entries.get(i);
      Result r = partition(e.getTopic(), e.getPartition());
      if (r == null) {
        r = cursor("cursor of " + e.getTopic() + "/" + e.getPartition(), e.getCursor(), limits);
      }
      if (r == null && ((e.hasLag() && e.getLag() < 0) || (e.hasLagMs() && e.getLagMs() < 0))) {
        r = invalid("lag of " + e.getTopic() + "/" + e.getPartition() + " is negative");
      }
      if (r != null) {
        return r;
      }
    }
    return null;
  }

  private static Result heartbeat(Heartbeat hb, Limits limits) {
    Result r = group(hb.getGroup(), hb.getConsumerId());
    if (r == null) {
      r = session(hb.getSessionToken(), true);
    }
    if (r != null) {
      return r;
    }
    if (hb.getHeldCount() > limits.maxHeldPerHeartbeat()) {
      return tooMany("a heartbeat lists at most " + limits.maxHeldPerHeartbeat() + " held partitions, got "
          + hb.getHeldCount());
    }
    for (int i = 0, n = hb.getHeldCount(); i < n; i++) {
      PartitionRef ref = hb.getHeld(i);
      r = partition(ref.getTopic(), ref.getPartition());
      if (r != null) {
        return r;
      }
    }
    r = entries(hb.getCommitsList(), "heartbeat", limits);
    return r != null ? r : errors(hb.getErrorsList(), "heartbeat", limits);
  }

  private static Result leave(Leave l, Limits limits) {
    Result r = group(l.getGroup(), l.getConsumerId());
    if (r == null) {
      r = session(l.getSessionToken(), false);
    }
    return r != null ? r : entries(l.getCommitsList(), "leave", limits);
  }

  private static Result commit(CommitCheckpoints c, Limits limits) {
    Result r = group(c.getGroup(), c.getConsumerId());
    if (r == null) {
      r = session(c.getSessionToken(), false);
    }
    if (r == null) {
      r = entries(c.getEntriesList(), "commit", limits);
    }
    return r != null ? r : errors(c.getErrorsList(), "commit", limits);
  }

  /** Reader errors (step 9): as many as commit entries may be, each message and cursor bounded. */
  private static Result errors(List<ReaderError> errors, String what, Limits limits) {
    if (errors.size() > limits.maxEntriesPerCommand()) {
      return tooMany("a " + what + " carries at most " + limits.maxEntriesPerCommand() + " reader errors, got "
          + errors.size());
    }
    for (int i = 0, n = errors.size(); i < n; i++) {
      ReaderError e = errors.get(i);
      String name = e.getTopic() + "/" + e.getPartition();
      Result r = partition(e.getTopic(), e.getPartition());
      if (r == null && e.getMessage().getBytes(StandardCharsets.UTF_8).length > MAX_ERROR_MESSAGE_BYTES) {
        r = tooMany("the error message of " + name + " is longer than " + MAX_ERROR_MESSAGE_BYTES + " bytes");
      }
      if (r == null && e.getAttempts() < 0) {
        r = invalid("attempts of " + name + " is negative");
      }
      if (r == null && e.hasCursor()) {
        r = cursor("error cursor of " + name, e.getCursor(), limits);
      }
      if (r != null) {
        return r;
      }
    }
    return null;
  }

  private static Result reset(ResetCheckpoint r, Limits limits) {
    Result problem = name("group", r.getGroup());
    if (problem == null) {
      problem = partition(r.getTopic(), r.getPartition());
    }
    return problem != null ? problem : cursor("cursor", r.getCursor(), limits);
  }

  private static Result resetAll(ResetCheckpoints r, Limits limits) {
    Result problem = name("group", r.getGroup());
    if (problem != null) {
      return problem;
    }
    int n = r.getEntriesCount();
    if (n == 0) {
      return invalid("a reset names at least one partition");
    }
    if (n > limits.maxEntriesPerCommand()) {
      return tooMany("a reset carries at most " + limits.maxEntriesPerCommand() + " partitions, got " + n);
    }
    Set<String> seen = new HashSet<>();
    for (CheckpointReset e : r.getEntriesList()) {
      problem = partition(e.getTopic(), e.getPartition());
      if (problem != null) {
        return problem;
      }
      String name = e.getTopic() + "/" + e.getPartition();
      if (!seen.add(name)) {
        return invalid("partition " + name + " is named twice: nothing was reset");
      }
      if (e.getTargetCase() == CheckpointReset.TargetCase.TARGET_NOT_SET) {
        return invalid("partition " + name + " has no target (cursor, delete or to_end): nothing was reset");
      }
      if (e.getTargetCase() == CheckpointReset.TargetCase.CURSOR) {
        problem = cursor("cursor of " + name, e.getCursor(), limits);
        if (problem != null) {
          return problem;
        }
      }
    }
    return null;
  }

  /** A set field must be a valid limit on its own; unset fields keep the state's values. */
  private static Result setLimits(LimitsRecord r) {
    boolean positive = (!r.hasMaxTopics() || r.getMaxTopics() > 0)
        && (!r.hasMaxPartitionsPerTopic() || r.getMaxPartitionsPerTopic() > 0)
        && (!r.hasMaxGroups() || r.getMaxGroups() > 0)
        && (!r.hasMaxTopicsPerGroup() || r.getMaxTopicsPerGroup() > 0)
        && (!r.hasMaxMembersPerGroup() || r.getMaxMembersPerGroup() > 0)
        && (!r.hasMaxEntriesPerCommand() || r.getMaxEntriesPerCommand() > 0)
        && (!r.hasMaxCursorBytes() || r.getMaxCursorBytes() > 0)
        && (!r.hasMaxSlots() || r.getMaxSlots() > 0)
        && (!r.hasMaxMembers() || r.getMaxMembers() > 0)
        && (!r.hasMaxHeldPerHeartbeat() || r.getMaxHeldPerHeartbeat() > 0)
        && (!r.hasMaxCommandBytes() || r.getMaxCommandBytes() > 0);
    if (!positive) {
      return invalid("every limit must be positive");
    }
    if (r.hasMaxCommandBytes() && r.getMaxCommandBytes() < Limits.MIN_COMMAND_BYTES) {
      return invalid("max_command_bytes must be at least " + Limits.MIN_COMMAND_BYTES + ", got "
          + r.getMaxCommandBytes());
    }
    return null;
  }
}
