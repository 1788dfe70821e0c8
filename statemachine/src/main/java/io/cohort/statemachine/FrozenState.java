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
  /**
   * 4: the access control list (header flag, one record per principal after the header), session
   * tokens and consumer-id owners (R11); group retention and empty-since (R7), slot's last reader
   * error and release-asked time (step 9). 3: release timers (slot deadline, header term start)
   * and pending takeovers (member's replaced
   * session, slot flag). 2: the header carries the replicated limits. Versions 1 to 3 are still read.
   */
  public static final int FORMAT_VERSION = 4;

  private final HeaderRecord header;
  private final List<io.cohort.statemachine.proto.AccessEntry> access;
  private final List<FrozenTopic> topics;
  private final List<FrozenGroup> groups;

  /**
   * One group's slots, topic after topic, partition ids in order (slot i of a topic is partition
   * i). Members are kept as references: a member's id never changes, so names are read at export.
   */
  private record FrozenGroup(GroupRecord group, List<MemberRecord> members, String[] topics,
      int[] topicStart, MemberState[] holder, long[] epoch, MemberState[] target, byte[] flags,
      Checkpoint[] checkpoint, long[] releaseDeadline, long[] releaseAskedAt, ReaderFailure[] failure) {}

  private static final byte RELEASING = 1;
  private static final byte ANNOUNCED = 2;
  private static final byte OLD_SESSION = 4;

  /** One topic: its partitions and their array are never changed in place, so sharing them is a snapshot. */
  private record FrozenTopic(String name, PartitionInfo[] partitions) {

    static FrozenTopic of(TopicState t) {
      return new FrozenTopic(t.name, t.shared());
    }

    /** Built at export, off the apply thread: kept built, it would cost ~80 bytes per partition. */
    TopicRecord record() {
      TopicRecord.Builder b = TopicRecord.newBuilder().setTopic(name);
      for (PartitionInfo p : partitions) {
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
  }

  private FrozenState(HeaderRecord header, List<io.cohort.statemachine.proto.AccessEntry> access,
      List<FrozenTopic> topics, List<FrozenGroup> groups) {
    this.header = header;
    this.access = access;
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
        .setLastTerm(s.lastTerm).setLimits(s.limits.toRecord()).setLimitsExplicit(s.limitsExplicit)
        .setTermStartMs(s.termStartMs).setAccessBootstrapped(s.acl.bootstrapped()).build();
    List<FrozenTopic> topics = new ArrayList<>(s.topics.size());
    for (TopicState t : s.topics.values()) {
      topics.add(FrozenTopic.of(t));
    }
    List<FrozenGroup> groups = new ArrayList<>(s.groups.size());
    for (GroupState g : s.groups.values()) {
      groups.add(freeze(g));
    }
    return new FrozenState(header, s.acl.records(), topics, groups);
  }

  private static FrozenGroup freeze(GroupState g) {
    GroupRecord group = GroupRecord.newBuilder().setGroup(g.name).addAllTopics(g.slots.keySet())
        .setOrder(g.order).setSessionTimeoutMs(g.sessionTimeoutMs)
        .setHeartbeatIntervalMs(g.heartbeatIntervalMs).setStartFrom(g.startFrom)
        .setReleaseTimeoutMs(g.releaseTimeoutMs).setRetentionMs(g.retentionMs)
        .setInitialRebalanceDelayMs(g.initialRebalanceDelayMs)
        .build();
    if (g.emptySinceMs >= 0) {
      group = group.toBuilder().setEmptySinceMs(g.emptySinceMs).build();
    }
    if (g.formingUntilMs != 0) {
      group = group.toBuilder().setFormingSinceMs(g.formingSinceMs).setFormingUntilMs(g.formingUntilMs).build();
    }
    List<MemberRecord> members = new ArrayList<>(g.members.size());
    for (MemberState m : g.members.values()) {
      MemberRecord.Builder mr = MemberRecord.newBuilder().setGroup(g.name).setConsumerId(m.consumerId)
          .setSessionToken(m.session).setOwner(m.owner).setLastHeartbeatMs(m.lastHeartbeatMs)
          .setDeadlineMs(m.deadlineMs()).setReplacedDeadlineMs(m.oldDeadlineMs).setReplacedLeaveEnds(m.oldLeaveEnds);
      if (m.oldSession != null) {
        mr.setReplacedSessionToken(m.oldSession);
      }
      members.add(mr.build());
    }
    int n = 0;
    String[] topics = new String[g.slots.size()];
    int[] topicStart = new int[g.slots.size() + 1];
    int t = 0;
    for (var e : g.slots.entrySet()) {
      topics[t] = e.getKey();
      topicStart[t] = n;
      n += e.getValue().size();
      t++;
    }
    topicStart[t] = n;
    MemberState[] holder = new MemberState[n];
    long[] epoch = new long[n];
    MemberState[] target = new MemberState[n];
    byte[] flags = new byte[n];
    Checkpoint[] checkpoint = new Checkpoint[n];
    long[] releaseDeadline = null; // only while some slot is releasing: usually none
    long[] releaseAskedAt = null;
    ReaderFailure[] failure = null; // only while some reader reported an error
    int i = 0;
    for (List<Slot> slots : g.slots.values()) {
      for (int k = 0, size = slots.size(); k < size; k++, i++) {
        Slot s = slots.get(k);
        holder[i] = s.holder;
        epoch[i] = s.epoch;
        target[i] = s.target;
        flags[i] = (byte) ((s.releasing ? RELEASING : 0) | (s.announced ? ANNOUNCED : 0)
            | (s.oldSession ? OLD_SESSION : 0));
        checkpoint[i] = s.checkpoint;
        if (s.releaseDeadlineMs != 0) {
          if (releaseDeadline == null) {
            releaseDeadline = new long[n];
          }
          releaseDeadline[i] = s.releaseDeadlineMs;
        }
        if (s.releaseAskedAtMs != 0) {
          if (releaseAskedAt == null) {
            releaseAskedAt = new long[n];
          }
          releaseAskedAt[i] = s.releaseAskedAtMs;
        }
        if (s.failure != null) {
          if (failure == null) {
            failure = new ReaderFailure[n];
          }
          failure[i] = s.failure;
        }
      }
    }
    return new FrozenGroup(group, members, topics, topicStart, holder, epoch, target, flags, checkpoint,
        releaseDeadline, releaseAskedAt, failure);
  }

  /** Streams the records in their fixed order. Slots with nothing to say are left out. */
  public void export(Consumer<StateRecord> sink) {
    sink.accept(StateRecord.newBuilder().setHeader(header).build());
    for (var a : access) {
      sink.accept(StateRecord.newBuilder().setAccess(a).build());
    }
    for (FrozenTopic t : topics) {
      sink.accept(StateRecord.newBuilder().setTopic(t.record()).build());
    }
    for (FrozenGroup g : groups) {
      sink.accept(StateRecord.newBuilder().setGroup(g.group).build());
      for (MemberRecord m : g.members) {
        sink.accept(StateRecord.newBuilder().setMember(m).build());
      }
      String name = g.group.getGroup();
      for (int t = 0; t < g.topics.length; t++) {
        for (int i = g.topicStart[t]; i < g.topicStart[t + 1]; i++) {
          long askedAt = g.releaseAskedAt == null ? 0 : g.releaseAskedAt[i];
          ReaderFailure failure = g.failure == null ? null : g.failure[i];
          if (g.holder[i] == null && g.epoch[i] == 0 && g.checkpoint[i] == null && g.flags[i] == 0
              && askedAt == 0 && failure == null) {
            continue;
          }
          SlotRecord.Builder b = SlotRecord.newBuilder().setGroup(name).setTopic(g.topics[t])
              .setPartition(i - g.topicStart[t]).setEpoch(g.epoch[i])
              .setReleasing((g.flags[i] & RELEASING) != 0);
          if (g.holder[i] != null) {
            b.setHolder(g.holder[i].consumerId);
          }
          if (g.target[i] != null) {
            b.setTarget(g.target[i].consumerId);
          }
          if ((g.flags[i] & ANNOUNCED) != 0) {
            b.setAnnounced(true);
          }
          if ((g.flags[i] & OLD_SESSION) != 0) {
            b.setHeldByReplacedSession(true);
          }
          if (g.releaseDeadline != null && g.releaseDeadline[i] != 0) {
            b.setReleaseDeadlineMs(g.releaseDeadline[i]);
          }
          if (g.checkpoint[i] != null) {
            b.setCheckpoint(checkpointRecord(g.checkpoint[i]));
          }
          if (askedAt != 0) {
            b.setReleaseAskedAtMs(askedAt);
          }
          if (failure != null) {
            b.setLastError(failure.toRecord());
          }
          sink.accept(StateRecord.newBuilder().setSlot(b).build());
        }
      }
    }
  }

  static CheckpointRecord checkpointRecord(Checkpoint c) {
    CheckpointRecord.Builder b = CheckpointRecord.newBuilder().setCursor(c.cursor())
        .setFinished(c.finished()).setCommittedBy(c.committedBy()).setCommittedAtMs(c.committedAtMs())
        .setEpoch(c.epoch()).setAtEnd(c.atEnd());
    if (c.lag() >= 0) {
      b.setLag(c.lag());
    }
    if (c.lagMs() >= 0) {
      b.setLagMs(c.lagMs());
    }
    return b.build();
  }
}
