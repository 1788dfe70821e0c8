package io.cohort.statemachine;

import io.cohort.statemachine.proto.CheckpointRecord;
import io.cohort.statemachine.proto.GroupRecord;
import io.cohort.statemachine.proto.HeaderRecord;
import io.cohort.statemachine.proto.MemberRecord;
import io.cohort.statemachine.proto.PartitionRecord;
import io.cohort.statemachine.proto.SlotRecord;
import io.cohort.statemachine.proto.StateRecord;
import io.cohort.statemachine.proto.TopicRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * A point-in-time copy of the state, cheap to take on the apply thread (flat arrays, shared
 * immutable checkpoints) and exported as records from any thread while applies go on.
 *
 * <p>The record stream is the snapshot format's content: one header, the topics, then each group
 * followed by its members and its slots, all in sorted order.
 */
public final class FrozenState {
  public static final int FORMAT_VERSION = 1;

  private final HeaderRecord header;
  private final List<TopicRecord> topics;
  private final List<FrozenGroup> groups;

  private record FrozenGroup(GroupRecord group, List<MemberRecord> members, String[] topic,
      int[] partition, String[] holder, long[] epoch, String[] target, byte[] flags,
      Checkpoint[] checkpoint) {}

  private static final byte RELEASING = 1;
  private static final byte ANNOUNCED = 2;

  private FrozenState(HeaderRecord header, List<TopicRecord> topics, List<FrozenGroup> groups) {
    this.header = header;
    this.topics = topics;
    this.groups = groups;
  }

  public long appliedIndex() {
    return header.getAppliedIndex();
  }

  public long appliedTerm() {
    return header.getAppliedTerm();
  }

  static FrozenState of(CoordinatorState s) {
    HeaderRecord header = HeaderRecord.newBuilder().setFormatVersion(FORMAT_VERSION)
        .setAppliedIndex(s.appliedIndex).setAppliedTerm(s.appliedTerm).setNowMs(s.nowMs)
        .setLastTerm(s.lastTerm).build();
    List<TopicRecord> topics = new ArrayList<>(s.topics.size());
    for (TopicState t : s.topics.values()) {
      topics.add(topicRecord(t));
    }
    List<FrozenGroup> groups = new ArrayList<>(s.groups.size());
    for (GroupState g : s.groups.values()) {
      groups.add(freeze(g));
    }
    return new FrozenState(header, topics, groups);
  }

  private static TopicRecord topicRecord(TopicState t) {
    TopicRecord.Builder b = TopicRecord.newBuilder().setTopic(t.name);
    for (PartitionInfo p : t.partitions) {
      PartitionRecord.Builder pr = PartitionRecord.newBuilder().setId(p.id).setRangeFirst(p.first)
          .setRangeLast(p.last).setState(p.state).setWeightMicros(p.weightMicros);
      for (int parent : p.parents) {
        pr.addParents(parent);
      }
      for (int child : p.children) {
        pr.addChildren(child);
      }
      if (p.endCursor != null) {
        pr.setEndCursor(p.endCursor);
      }
      b.addPartitions(pr);
    }
    return b.build();
  }

  private static FrozenGroup freeze(GroupState g) {
    GroupRecord group = GroupRecord.newBuilder().setGroup(g.name).addAllTopics(g.slots.keySet())
        .setOrder(g.order).setSessionTimeoutMs(g.sessionTimeoutMs)
        .setHeartbeatIntervalMs(g.heartbeatIntervalMs).setStartFrom(g.startFrom).build();
    List<MemberRecord> members = new ArrayList<>(g.members.size());
    for (MemberState m : g.members.values()) {
      members.add(MemberRecord.newBuilder().setGroup(g.name).setConsumerId(m.consumerId)
          .setSession(m.session).setLastHeartbeatMs(m.lastHeartbeatMs).setDeadlineMs(m.deadlineMs)
          .build());
    }
    int n = 0;
    for (List<Slot> slots : g.slots.values()) {
      n += slots.size();
    }
    String[] topic = new String[n];
    int[] partition = new int[n];
    String[] holder = new String[n];
    long[] epoch = new long[n];
    String[] target = new String[n];
    byte[] flags = new byte[n];
    Checkpoint[] checkpoint = new Checkpoint[n];
    int i = 0;
    for (List<Slot> slots : g.slots.values()) {
      for (int k = 0, size = slots.size(); k < size; k++, i++) {
        Slot s = slots.get(k);
        topic[i] = s.topic;
        partition[i] = s.info.id;
        holder[i] = s.holder == null ? null : s.holder.consumerId;
        epoch[i] = s.epoch;
        target[i] = s.target == null ? null : s.target.consumerId;
        flags[i] = (byte) ((s.releasing ? RELEASING : 0) | (s.announced ? ANNOUNCED : 0));
        checkpoint[i] = s.checkpoint;
      }
    }
    return new FrozenGroup(group, members, topic, partition, holder, epoch, target, flags, checkpoint);
  }

  /** Streams the records in their fixed order. Slots with nothing to say are left out. */
  public void export(Consumer<StateRecord> sink) {
    sink.accept(StateRecord.newBuilder().setHeader(header).build());
    for (TopicRecord t : topics) {
      sink.accept(StateRecord.newBuilder().setTopic(t).build());
    }
    for (FrozenGroup g : groups) {
      sink.accept(StateRecord.newBuilder().setGroup(g.group).build());
      for (MemberRecord m : g.members) {
        sink.accept(StateRecord.newBuilder().setMember(m).build());
      }
      String name = g.group.getGroup();
      for (int i = 0; i < g.topic.length; i++) {
        if (g.holder[i] == null && g.epoch[i] == 0 && g.checkpoint[i] == null && g.flags[i] == 0) {
          continue;
        }
        SlotRecord.Builder b = SlotRecord.newBuilder().setGroup(name).setTopic(g.topic[i])
            .setPartition(g.partition[i]).setEpoch(g.epoch[i])
            .setReleasing((g.flags[i] & RELEASING) != 0);
        if (g.holder[i] != null) {
          b.setHolder(g.holder[i]);
        }
        if (g.target[i] != null) {
          b.setTarget(g.target[i]);
        }
        if ((g.flags[i] & ANNOUNCED) != 0) {
          b.setAnnounced(true);
        }
        if (g.checkpoint[i] != null) {
          b.setCheckpoint(checkpointRecord(g.checkpoint[i]));
        }
        sink.accept(StateRecord.newBuilder().setSlot(b).build());
      }
    }
  }

  static CheckpointRecord checkpointRecord(Checkpoint c) {
    CheckpointRecord.Builder b = CheckpointRecord.newBuilder().setCursor(c.cursor())
        .setFinished(c.finished()).setCommittedBy(c.committedBy()).setCommittedAtMs(c.committedAtMs())
        .setEpoch(c.epoch());
    if (c.lag() >= 0) {
      b.setLag(c.lag());
    }
    if (c.lagMs() >= 0) {
      b.setLagMs(c.lagMs());
    }
    return b.build();
  }
}
