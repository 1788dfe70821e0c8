package io.cohort.statemachine;

import io.cohort.statemachine.proto.CheckpointList;
import io.cohort.statemachine.proto.CheckpointView;
import io.cohort.statemachine.proto.ClusterInfoView;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.GroupList;
import io.cohort.statemachine.proto.GroupPartitionView;
import io.cohort.statemachine.proto.GroupSummary;
import io.cohort.statemachine.proto.GroupView;
import io.cohort.statemachine.proto.MemberView;
import io.cohort.statemachine.proto.PartitionStatus;
import io.cohort.statemachine.proto.PartitionView;
import io.cohort.statemachine.proto.QueryResult;
import io.cohort.statemachine.proto.TopicList;
import io.cohort.statemachine.proto.TopicView;
import java.util.ArrayList;
import java.util.List;

/** Read-only views of the state for queries (R10) and `group describe` (section 5). */
final class Views {
  private Views() {}

  static String hex(long key) {
    return String.format("%016x", key);
  }

  static String hexEnd(long last) {
    return last == -1L ? "10000000000000000" : hex(last + 1);
  }

  static double weight(long micros) {
    return micros / 1_000_000.0;
  }

  static TopicView topic(TopicState topic) {
    TopicView.Builder b = TopicView.newBuilder().setTopic(topic.name);
    for (PartitionInfo p : topic.partitions()) {
      PartitionView.Builder pv = PartitionView.newBuilder().setPartition(p.id).setState(p.state)
          .setRangeBegin(hex(p.first)).setRangeEnd(hexEnd(p.last))
          .setWeight(weight(p.weightMicros));
      for (int parent : p.parents) {
        pv.addParents(parent);
      }
      for (int child : p.children) {
        pv.addChildren(child);
      }
      if (p.endCursor != null) {
        pv.setEndCursor(p.endCursor);
      }
      b.addPartitions(pv);
    }
    return b.build();
  }

  static QueryResult listTopics(CoordinatorState state) {
    TopicList.Builder b = TopicList.newBuilder();
    for (TopicState t : state.topics.values()) {
      b.addTopics(topic(t));
    }
    return QueryResult.newBuilder().setCode(Code.OK).setTopics(b).build();
  }

  static QueryResult describeTopic(CoordinatorState state, String name) {
    TopicState t = state.topics.get(name);
    if (t == null) {
      return Results.queryRejected(Code.NOT_FOUND, "topic '" + name + "' does not exist");
    }
    return QueryResult.newBuilder().setCode(Code.OK).setTopic(topic(t)).build();
  }

  static GroupSummary summary(GroupState g) {
    GroupSummary.Builder b = GroupSummary.newBuilder().setGroup(g.name).addAllTopics(g.slots.keySet())
        .setOrder(g.order).setMembers(g.members.size()).setSessionTimeoutMs(g.sessionTimeoutMs)
        .setHeartbeatIntervalMs(g.heartbeatIntervalMs).setStartFrom(g.startFrom)
        .setReleaseTimeoutMs(g.effectiveReleaseTimeoutMs()).setRetentionMs(g.retentionMs)
        .setInitialRebalanceDelayMs(g.initialRebalanceDelayMs);
    if (g.formingUntilMs != 0) {
      b.setFormingUntilMs(g.formingUntilMs);
    }
    if (g.emptySinceMs >= 0) {
      b.setEmptySinceMs(g.emptySinceMs);
      if (g.deleteAtMs() != Long.MAX_VALUE) {
        b.setDeleteAtMs(g.deleteAtMs());
      }
    }
    return b.build();
  }

  /** The groups the principal may describe (R11): every group for admins and readers. */
  static QueryResult listGroups(CoordinatorState state, String principal) {
    GroupList.Builder b = GroupList.newBuilder().setNowMs(state.nowMs);
    for (GroupState g : state.groups.values()) {
      if (state.acl.mayDescribe(principal, g.name)) {
        b.addGroups(summary(g));
      }
    }
    return QueryResult.newBuilder().setCode(Code.OK).setGroups(b).build();
  }

  /** Null when the threshold may be used, else the rejection. */
  private static QueryResult stallProblem(long stallAfterMs) {
    return stallAfterMs > 0 ? null
        : Results.queryRejected(Code.INVALID_ARGUMENT, "stall_after_ms must be positive, got " + stallAfterMs);
  }

  static QueryResult describeGroup(CoordinatorState state, String name, long stallAfterMs) {
    QueryResult problem = stallProblem(stallAfterMs);
    if (problem != null) {
      return problem;
    }
    GroupState g = state.groups.get(name);
    if (g == null) {
      return Results.queryRejected(Code.NOT_FOUND, "group '" + name + "' does not exist");
    }
    GroupView.Builder b = GroupView.newBuilder().setSummary(summary(g)).setNowMs(state.nowMs);
    for (MemberState m : g.members.values()) {
      MemberView.Builder mv = MemberView.newBuilder().setConsumerId(m.consumerId)
          .setSessionId(SessionIds.of(m.session)).setOwner(m.owner)
          .setLastHeartbeatMs(m.lastHeartbeatMs).setDeadlineMs(m.deadlineMs())
          .setReplacedSessionId(SessionIds.of(m.oldSession)).setReplacedDeadlineMs(m.oldDeadlineMs);
      for (Slot s : m.held) {
        if (!s.oldSession) {
          mv.addGrants(Membership.grantOf(g, s));
        }
      }
      b.addMembers(mv);
    }
    for (List<Slot> slots : g.slots.values()) {
      Readiness.Lineage lineage = g.order ? new Readiness.Lineage(g, slots) : null;
      for (Slot s : slots) {
        b.addPartitions(partition(g, s, slots, lineage, state.nowMs, stallAfterMs));
      }
    }
    return QueryResult.newBuilder().setCode(Code.OK).setGroup(b).build();
  }

  private static GroupPartitionView partition(GroupState g, Slot s, List<Slot> slots,
      Readiness.Lineage lineage, long nowMs, long stallAfterMs) {
    GroupPartitionView.Builder pv = GroupPartitionView.newBuilder().setTopic(s.topic)
        .setPartition(s.info.id).setState(s.info.state).setEpoch(s.epoch)
        .setWeight(weight(s.info.weightMicros));
    if (s.holder != null) {
      pv.setHolder(s.holder.consumerId);
    }
    if (s.target != null) {
      pv.setTarget(s.target.consumerId);
    } else if (s.oldSession && !s.releasing) {
      pv.setTarget(s.holder.consumerId); // its new session, once the replaced one ended (R2)
    }
    if (s.oldSession) {
      pv.setHeldByReplacedSessionId(SessionIds.of(s.holder.oldSession));
    }
    if (s.releasing) {
      pv.setReleaseDeadlineMs(s.releaseDeadlineMs);
    }
    int id = s.info.id;
    PartitionStatus status = Statuses.of(g, s, lineage);
    if (status != PartitionStatus.FINISHED && lineage != null && !lineage.ancestorsDone[id]) {
      pv.addAllWaitingFor(lineage.waitingForAncestors(g, slots, id));
    } else if (status != PartitionStatus.FINISHED && lineage != null && lineage.descendantHeld[id]) {
      pv.addAllWaitingFor(lineage.heldDescendants(slots, id));
    }
    pv.setStatus(status);
    if (s.checkpoint != null) {
      pv.setCheckpoint(checkpoint(s));
    }
    pv.setHealth(Health.view(Health.of(g, s, nowMs, stallAfterMs), s.failure, stallAfterMs));
    return pv.build();
  }

  static CheckpointView checkpoint(Slot s) {
    Checkpoint c = s.checkpoint;
    CheckpointView.Builder b = CheckpointView.newBuilder().setTopic(s.topic).setPartition(s.info.id)
        .setCursor(c.cursor()).setFinished(c.finished()).setCommittedBy(c.committedBy())
        .setCommittedAtMs(c.committedAtMs()).setEpoch(c.epoch()).setAtEnd(c.atEnd());
    if (c.lag() >= 0) {
      b.setLag(c.lag());
    }
    if (c.lagMs() >= 0) {
      b.setLagMs(c.lagMs());
    }
    return b.build();
  }

  /** O(1): the counts are kept as the state changes (R9). */
  static QueryResult clusterInfo(CoordinatorState state, String principal) {
    return QueryResult.newBuilder().setCode(Code.OK).setClusterInfo(ClusterInfoView.newBuilder()
        .setLimits(state.limits.toRecord()).setTopics(state.topics.size()).setGroups(state.groups.size())
        .setMembers(state.counters.members).setSlots(state.counters.slots)
        .setAppliedIndex(state.appliedIndex).setNowMs(state.nowMs)
        .setPrincipal(principal).setRole(state.acl.role(principal)))
        .build();
  }

  static QueryResult listCheckpoints(CoordinatorState state, String name, long stallAfterMs) {
    QueryResult problem = stallProblem(stallAfterMs);
    if (problem != null) {
      return problem;
    }
    GroupState g = state.groups.get(name);
    if (g == null) {
      return Results.queryRejected(Code.NOT_FOUND, "group '" + name + "' does not exist");
    }
    List<CheckpointView> out = new ArrayList<>();
    for (List<Slot> slots : g.slots.values()) {
      for (Slot s : slots) {
        if (s.checkpoint != null) {
          out.add(checkpoint(s).toBuilder()
              .setHealth(Health.view(Health.of(g, s, state.nowMs, stallAfterMs), s.failure, stallAfterMs)).build());
        }
      }
    }
    return QueryResult.newBuilder().setCode(Code.OK)
        .setCheckpoints(CheckpointList.newBuilder().setGroup(name).addAllCheckpoints(out)).build();
  }
}
