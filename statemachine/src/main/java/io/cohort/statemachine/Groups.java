package io.cohort.statemachine;

import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.CreateGroup;
import io.cohort.statemachine.proto.DeleteGroup;
import io.cohort.statemachine.proto.Result;
import io.cohort.statemachine.proto.StartFrom;
import io.cohort.statemachine.proto.TickResult;
import io.cohort.statemachine.proto.UpdateGroup;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/** Create, change and delete groups. Names, counts and timing ranges were checked before (CommandValidator). */
final class Groups {
  static final long DEFAULT_SESSION_TIMEOUT_MS = 10_000;
  static final long DEFAULT_HEARTBEAT_INTERVAL_MS = 1_000;
  static final long MIN_SESSION_TIMEOUT_MS = 1_000;
  static final long MAX_SESSION_TIMEOUT_MS = 600_000;
  static final long MIN_HEARTBEAT_INTERVAL_MS = 10;
  static final long MAX_RELEASE_TIMEOUT_MS = 3_600_000;
  /** R7: an empty group is deleted after this long unless its retention says otherwise. */
  static final long DEFAULT_RETENTION_MS = 7L * 24 * 3600 * 1000;
  static final long MIN_RETENTION_MS = 1_000;
  static final long MAX_RETENTION_MS = 3650L * 24 * 3600 * 1000;
  /** R4: the longest initial rebalance delay (Kafka's default is 3 s). */
  static final long MAX_INITIAL_REBALANCE_DELAY_MS = 30_000;

  private final CoordinatorState state;

  Groups(CoordinatorState state) {
    this.state = state;
  }

  static long sessionOf(CreateGroup c) {
    return c.getSessionTimeoutMs() == 0 ? DEFAULT_SESSION_TIMEOUT_MS : c.getSessionTimeoutMs();
  }

  static long intervalOf(CreateGroup c) {
    return c.getHeartbeatIntervalMs() == 0
        ? Math.min(DEFAULT_HEARTBEAT_INTERVAL_MS, sessionOf(c) / 3) : c.getHeartbeatIntervalMs();
  }

  /**
   * Null when the settings go together: session timeout in range, heartbeat interval at most a third
   * of it, release timeout 0 (= the session timeout) or at least the session timeout — a holder that
   * has not heard the release request may read until its own session runs out (R2).
   */
  static Result checkTiming(long sessionMs, long intervalMs, long releaseMs) {
    if (sessionMs < MIN_SESSION_TIMEOUT_MS || sessionMs > MAX_SESSION_TIMEOUT_MS) {
      return Results.rejected(Code.INVALID_ARGUMENT, "session timeout must be in "
          + MIN_SESSION_TIMEOUT_MS + ".." + MAX_SESSION_TIMEOUT_MS + " ms, got " + sessionMs);
    }
    if (intervalMs < MIN_HEARTBEAT_INTERVAL_MS || intervalMs > sessionMs / 3) {
      return Results.rejected(Code.INVALID_ARGUMENT, "heartbeat interval must be in "
          + MIN_HEARTBEAT_INTERVAL_MS + ".." + (sessionMs / 3) + " ms (a third of the session timeout), got "
          + intervalMs);
    }
    if (releaseMs != 0 && (releaseMs < sessionMs || releaseMs > MAX_RELEASE_TIMEOUT_MS)) {
      return Results.rejected(Code.INVALID_ARGUMENT, "release timeout must be 0 (the session timeout) or in "
          + sessionMs + ".." + MAX_RELEASE_TIMEOUT_MS + " ms (at least the session timeout), got " + releaseMs);
    }
    return null;
  }

  /** Null when the initial rebalance delay is in range. */
  static Result checkInitialRebalanceDelay(long delayMs) {
    if (delayMs < 0 || delayMs > MAX_INITIAL_REBALANCE_DELAY_MS) {
      return Results.rejected(Code.INVALID_ARGUMENT, "initial rebalance delay must be in 0.."
          + MAX_INITIAL_REBALANCE_DELAY_MS + " ms, got " + delayMs);
    }
    return null;
  }

  /** Null when the retention is 0 (kept forever) or in range. */
  static Result checkRetention(long retentionMs) {
    if (retentionMs != 0 && (retentionMs < MIN_RETENTION_MS || retentionMs > MAX_RETENTION_MS)) {
      return Results.rejected(Code.INVALID_ARGUMENT, "retention must be 0 (kept forever) or in "
          + MIN_RETENTION_MS + ".." + MAX_RETENTION_MS + " ms, got " + retentionMs);
    }
    return null;
  }

  Result create(CreateGroup c, long index) {
    if (state.groups.containsKey(c.getGroup())) {
      return Results.rejected(Code.ALREADY_EXISTS, "group '" + c.getGroup() + "' already exists");
    }
    if (state.groups.size() >= state.limits.maxGroups()) {
      return Results.rejected(Code.LIMIT_EXCEEDED, "the cluster has the maximum of "
          + state.limits.maxGroups() + " groups");
    }
    TreeSet<String> topics = new TreeSet<>(c.getTopicsList());
    Result topicProblem = checkTopics(topics);
    if (topicProblem != null) {
      return topicProblem;
    }
    StartFrom startFrom = c.getStartFrom() == StartFrom.END ? StartFrom.END : StartFrom.BEGIN;
    GroupState group = state.newGroup(c.getGroup(), c.getOrder(), startFrom, sessionOf(c), intervalOf(c),
        c.getReleaseTimeoutMs());
    group.retentionMs = c.hasRetentionMs() ? c.getRetentionMs() : DEFAULT_RETENTION_MS;
    group.initialRebalanceDelayMs = c.getInitialRebalanceDelayMs();
    group.emptySinceMs = state.nowMs; // no members yet: its retention runs from its creation (R7)
    for (String t : topics) {
      group.addTopic(state.topics.get(t));
    }
    state.groups.put(group.name, group);
    Assignor.rebalance(group, index, state);
    return Results.ok("group '" + group.name + "' created on " + String.join(", ", topics)
        + (group.order ? " (order=true)" : ""));
  }

  /** The topics exist, and their slots fit under the cluster's slot limit (R9). */
  private Result checkTopics(TreeSet<String> topics) {
    long slots = 0;
    for (String t : topics) {
      TopicState topic = state.topics.get(t);
      if (topic == null) {
        return Results.rejected(Code.NOT_FOUND, "topic '" + t + "' does not exist");
      }
      slots += topic.size();
    }
    if (state.counters.slots + slots > state.limits.maxSlots()) {
      return Results.rejected(Code.LIMIT_EXCEEDED, "the cluster holds " + state.counters.slots
          + " group partitions (slots) of at most " + state.limits.maxSlots() + "; this needs " + slots + " more");
    }
    return null;
  }

  Result update(UpdateGroup u, long index) {
    GroupState group = state.groups.get(u.getGroup());
    if (group == null) {
      return Results.rejected(Code.NOT_FOUND, "group '" + u.getGroup() + "' does not exist");
    }
    long session = u.hasSessionTimeoutMs() ? u.getSessionTimeoutMs() : group.sessionTimeoutMs;
    long interval = u.hasHeartbeatIntervalMs() ? u.getHeartbeatIntervalMs() : group.heartbeatIntervalMs;
    long release = u.hasReleaseTimeoutMs() ? u.getReleaseTimeoutMs() : group.releaseTimeoutMs;
    Result timing = checkTiming(session, interval, release);
    if (timing != null) {
      return timing;
    }
    TreeSet<String> added = new TreeSet<>(u.getAddTopicsList());
    added.removeAll(group.slots.keySet());
    if (added.size() + group.slots.size() > state.limits.maxTopicsPerGroup()) {
      return Results.rejected(Code.LIMIT_EXCEEDED, "a group reads at most "
          + state.limits.maxTopicsPerGroup() + " topics");
    }
    Result topicProblem = checkTopics(added);
    if (topicProblem != null) {
      return topicProblem;
    }
    group.sessionTimeoutMs = session;
    group.heartbeatIntervalMs = interval;
    if (group.releaseTimeoutMs != release) {
      group.releaseTimeoutMs = release;
      Timers.reschedule(group, state);
    }
    if (u.hasRetentionMs()) {
      group.retentionMs = u.getRetentionMs();
    }
    if (u.hasInitialRebalanceDelayMs()) {
      group.initialRebalanceDelayMs = u.getInitialRebalanceDelayMs();
      if (group.initialRebalanceDelayMs == 0 && group.formingUntilMs != 0) {
        group.endForming(); // no delay any more: it assigns now
      }
    }
    for (String t : added) {
      group.addTopic(state.topics.get(t));
    }
    if (group.dirty) {
      Assignor.rebalance(group, index, state);
    }
    return Results.ok("group '" + group.name + "' updated");
  }

  Result delete(DeleteGroup d) {
    GroupState group = state.groups.get(d.getGroup());
    if (group == null) {
      return Results.rejected(Code.NOT_FOUND, "group '" + d.getGroup() + "' does not exist");
    }
    if (!group.members.isEmpty() && !d.getForce()) {
      List<String> ids = new ArrayList<>(group.members.keySet());
      return Results.rejected(Code.FAILED_PRECONDITION, "group '" + group.name + "' has "
          + ids.size() + " live member(s) " + ids.subList(0, Math.min(5, ids.size()))
          + ": stop them first or delete with force");
    }
    group.dropCounts();
    state.groups.remove(group.name);
    return Results.ok("group '" + group.name + "' deleted");
  }

  /**
   * R7, on each Tick: deletes with its checkpoints every group that has had no members for longer
   * than its retention (empty-since + retention before now). Never one with members: a join clears
   * empty-since.
   */
  void deleteExpired(TickResult.Builder out) {
    List<GroupState> due = null;
    for (GroupState g : state.groups.values()) {
      if (g.members.isEmpty() && g.deleteAtMs() < state.nowMs) {
        if (due == null) {
          due = new ArrayList<>();
        }
        due.add(g);
      }
    }
    if (due != null) {
      for (GroupState g : due) {
        g.dropCounts();
        state.groups.remove(g.name);
        out.addDeletedGroups(g.name);
      }
    }
  }
}
