package io.cohort.statemachine;

import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.CreateGroup;
import io.cohort.statemachine.proto.DeleteGroup;
import io.cohort.statemachine.proto.Result;
import io.cohort.statemachine.proto.StartFrom;
import io.cohort.statemachine.proto.UpdateGroup;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/** Create, change and delete groups. */
final class Groups {
  static final long DEFAULT_SESSION_TIMEOUT_MS = 10_000;
  static final long DEFAULT_HEARTBEAT_INTERVAL_MS = 1_000;
  static final long MIN_SESSION_TIMEOUT_MS = 1_000;
  static final long MAX_SESSION_TIMEOUT_MS = 600_000;
  static final long MIN_HEARTBEAT_INTERVAL_MS = 10;

  private final CoordinatorState state;

  Groups(CoordinatorState state) {
    this.state = state;
  }

  Result create(CreateGroup c, long index) {
    String problem = Names.problem("group", c.getGroup());
    if (problem != null) {
      return Results.rejected(Code.INVALID_ARGUMENT, problem);
    }
    if (state.groups.containsKey(c.getGroup())) {
      return Results.rejected(Code.ALREADY_EXISTS, "group '" + c.getGroup() + "' already exists");
    }
    if (state.groups.size() >= state.limits.maxGroups()) {
      return Results.rejected(Code.LIMIT_EXCEEDED, "the cluster has the maximum of "
          + state.limits.maxGroups() + " groups");
    }
    TreeSet<String> topics = new TreeSet<>(c.getTopicsList());
    Result topicProblem = checkTopics(topics, 0);
    if (topicProblem != null) {
      return topicProblem;
    }
    long session = c.getSessionTimeoutMs() == 0 ? DEFAULT_SESSION_TIMEOUT_MS : c.getSessionTimeoutMs();
    long interval = c.getHeartbeatIntervalMs() == 0
        ? Math.min(DEFAULT_HEARTBEAT_INTERVAL_MS, session / 3) : c.getHeartbeatIntervalMs();
    Result timing = checkTiming(session, interval);
    if (timing != null) {
      return timing;
    }
    StartFrom startFrom = c.getStartFrom() == StartFrom.END ? StartFrom.END : StartFrom.BEGIN;
    GroupState group = new GroupState(c.getGroup(), c.getOrder(), startFrom, session, interval);
    for (String t : topics) {
      group.addTopic(state.topics.get(t));
    }
    state.groups.put(group.name, group);
    Assignor.rebalance(group, index);
    return Results.ok("group '" + group.name + "' created on " + String.join(", ", topics)
        + (group.order ? " (order=true)" : ""));
  }

  private Result checkTopics(TreeSet<String> topics, int already) {
    if (topics.isEmpty() && already == 0) {
      return Results.rejected(Code.INVALID_ARGUMENT, "a group reads at least one topic");
    }
    if (topics.size() + already > state.limits.maxTopicsPerGroup()) {
      return Results.rejected(Code.LIMIT_EXCEEDED, "a group reads at most "
          + state.limits.maxTopicsPerGroup() + " topics");
    }
    for (String t : topics) {
      if (!state.topics.containsKey(t)) {
        return Results.rejected(Code.NOT_FOUND, "topic '" + t + "' does not exist");
      }
    }
    return null;
  }

  private static Result checkTiming(long sessionMs, long intervalMs) {
    if (sessionMs < MIN_SESSION_TIMEOUT_MS || sessionMs > MAX_SESSION_TIMEOUT_MS) {
      return Results.rejected(Code.INVALID_ARGUMENT, "session timeout must be in "
          + MIN_SESSION_TIMEOUT_MS + ".." + MAX_SESSION_TIMEOUT_MS + " ms, got " + sessionMs);
    }
    if (intervalMs < MIN_HEARTBEAT_INTERVAL_MS || intervalMs > sessionMs / 3) {
      return Results.rejected(Code.INVALID_ARGUMENT, "heartbeat interval must be in "
          + MIN_HEARTBEAT_INTERVAL_MS + ".." + (sessionMs / 3) + " ms (a third of the session timeout), got "
          + intervalMs);
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
    Result timing = checkTiming(session, interval);
    if (timing != null) {
      return timing;
    }
    TreeSet<String> added = new TreeSet<>(u.getAddTopicsList());
    added.removeAll(group.slots.keySet());
    Result topicProblem = checkTopics(added, group.slots.size());
    if (topicProblem != null) {
      return topicProblem;
    }
    group.sessionTimeoutMs = session;
    group.heartbeatIntervalMs = interval;
    for (String t : added) {
      group.addTopic(state.topics.get(t));
    }
    if (group.dirty) {
      Assignor.rebalance(group, index);
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
    state.groups.remove(group.name);
    return Results.ok("group '" + group.name + "' deleted");
  }
}
