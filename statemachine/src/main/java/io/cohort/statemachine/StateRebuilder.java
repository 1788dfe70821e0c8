package io.cohort.statemachine;

import io.cohort.statemachine.proto.GroupRecord;
import io.cohort.statemachine.proto.HeaderRecord;
import io.cohort.statemachine.proto.MemberRecord;
import io.cohort.statemachine.proto.PartitionRecord;
import io.cohort.statemachine.proto.SlotRecord;
import io.cohort.statemachine.proto.StateRecord;
import io.cohort.statemachine.proto.TopicRecord;
import com.google.protobuf.ByteString;
import io.cohort.statemachine.proto.AccessEntry;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/** Folds an exported record stream back into a state; refuses a stream it does not understand. */
final class StateRebuilder {
  private final CoordinatorState state;
  private boolean sawHeader;
  private int version;
  private boolean accessBootstrapped;
  private final List<AccessEntry> access = new ArrayList<>();

  StateRebuilder(Limits limits) {
    this.state = new CoordinatorState(limits);
  }

  static CoordinatorState rebuild(Iterator<StateRecord> records, Limits limits) {
    StateRebuilder r = new StateRebuilder(limits);
    while (records.hasNext()) {
      r.accept(records.next());
    }
    if (!r.sawHeader) {
      throw new IllegalArgumentException("state stream has no header record");
    }
    r.derive();
    return r.state;
  }

  private void accept(StateRecord record) {
    if (!sawHeader && record.getBodyCase() != StateRecord.BodyCase.HEADER) {
      throw new IllegalArgumentException("state stream must start with a header, got " + record.getBodyCase());
    }
    switch (record.getBodyCase()) {
      case HEADER -> header(record.getHeader());
      case ACCESS -> access.add(record.getAccess());
      case TOPIC -> topic(record.getTopic());
      case GROUP -> group(record.getGroup());
      case MEMBER -> member(record.getMember());
      case SLOT -> slot(record.getSlot());
      default -> throw new IllegalArgumentException("unknown state record " + record.getBodyCase()
          + ": written by a newer Cohort?");
    }
  }

  private void header(HeaderRecord h) {
    if (sawHeader) {
      throw new IllegalArgumentException("state stream has two header records");
    }
    if (h.getFormatVersion() < 1 || h.getFormatVersion() > FrozenState.FORMAT_VERSION) {
      throw new IllegalArgumentException("unknown state format version " + h.getFormatVersion()
          + " (this Cohort reads versions 1 to " + FrozenState.FORMAT_VERSION + ")");
    }
    version = h.getFormatVersion();
    sawHeader = true;
    state.appliedIndex = h.getAppliedIndex();
    state.appliedTerm = h.getAppliedTerm();
    state.nowMs = h.getNowMs();
    state.lastTerm = h.getLastTerm();
    // Before format 3 no release timer was kept: they restart at the snapshot's time.
    state.termStartMs = version >= 3 ? h.getTermStartMs() : h.getNowMs();
    accessBootstrapped = h.getAccessBootstrapped();
    if (h.hasLimits()) {
      state.limits = state.limits.with(h.getLimits());
      state.limitsExplicit = h.getLimitsExplicit();
    }
  }

  private void topic(TopicRecord t) {
    TopicState topic = new TopicState(t.getTopic());
    for (PartitionRecord p : t.getPartitionsList()) {
      if (p.getId() != topic.size()) {
        throw new IllegalArgumentException("topic '" + t.getTopic() + "': partition ids are not dense at " + p.getId());
      }
      PartitionInfo info = new PartitionInfo(p.getId(), p.getRangeFirst(), p.getRangeLast(),
          p.getParentsList().stream().mapToInt(Integer::intValue).toArray(),
          p.getChildrenList().stream().mapToInt(Integer::intValue).toArray(), p.getState(), p.getWeightMicros(),
          p.hasEndCursor() ? p.getEndCursor() : null);
      topic.add(info);
    }
    state.topics.put(topic.name, topic);
  }

  private void group(GroupRecord g) {
    if (state.groups.containsKey(g.getGroup())) {
      throw new IllegalArgumentException("group '" + g.getGroup() + "' appears twice");
    }
    GroupState group = state.newGroup(g.getGroup(), g.getOrder(), g.getStartFrom(),
        g.getSessionTimeoutMs(), g.getHeartbeatIntervalMs(), g.getReleaseTimeoutMs());
    // Before format 4 no group had a retention: the default; nor an empty-since: not counting until a
    // member joins and leaves (every replica that loads the record decides the same).
    group.retentionMs = g.hasRetentionMs() ? g.getRetentionMs() : Groups.DEFAULT_RETENTION_MS;
    group.emptySinceMs = g.hasEmptySinceMs() ? g.getEmptySinceMs() : -1;
    group.initialRebalanceDelayMs = g.getInitialRebalanceDelayMs();
    group.formingSinceMs = g.getFormingSinceMs();
    group.formingUntilMs = g.getFormingUntilMs();
    for (String t : g.getTopicsList()) {
      TopicState topic = state.topics.get(t);
      if (topic == null) {
        throw new IllegalArgumentException("group '" + g.getGroup() + "' reads unknown topic '" + t + "'");
      }
      group.addTopic(topic);
    }
    group.dirty = false;
    state.groups.put(group.name, group);
  }

  private GroupState groupOf(String name) {
    GroupState group = state.groups.get(name);
    if (group == null) {
      throw new IllegalArgumentException("record for unknown group '" + name + "'");
    }
    return group;
  }

  private void member(MemberRecord m) {
    GroupState group = groupOf(m.getGroup());
    MemberState member = new MemberState(m.getConsumerId(), m.getOwner(), version >= 4 ? m.getSessionToken()
        : legacyToken(m.getLegacySession()));
    member.lastHeartbeatMs = m.getLastHeartbeatMs();
    member.setDeadline(group, m.getDeadlineMs());
    if (version >= 4) {
      member.oldSession = m.getReplacedSessionToken().isEmpty() ? null : m.getReplacedSessionToken();
    } else {
      member.oldSession = m.getLegacyReplacedSession() == 0 ? null : legacyToken(m.getLegacyReplacedSession());
    }
    member.oldDeadlineMs = m.getReplacedDeadlineMs();
    member.oldLeaveEnds = m.getReplacedLeaveEnds();
    if (group.members.containsKey(member.consumerId)) {
      throw new IllegalArgumentException("group '" + group.name + "': member '" + member.consumerId
          + "' appears twice");
    }
    long emptySince = group.emptySinceMs;
    group.addMember(member);
    if (emptySince >= 0) {
      throw new IllegalArgumentException("group '" + group.name + "' has members and an empty-since time");
    }
  }

  private void slot(SlotRecord r) {
    GroupState group = groupOf(r.getGroup());
    Slot slot = group.slot(r.getTopic(), r.getPartition());
    if (slot == null) {
      throw new IllegalArgumentException("group '" + r.getGroup() + "' has no slot "
          + r.getTopic() + "/" + r.getPartition());
    }
    slot.epoch = r.getEpoch();
    slot.releasing = r.getReleasing();
    slot.announced = r.getAnnounced();
    slot.oldSession = r.getHeldByReplacedSession();
    slot.releaseDeadlineMs = r.getReleaseDeadlineMs();
    slot.releaseAskedAtMs = r.getReleaseAskedAtMs();
    if (r.hasLastError()) {
      slot.failure = ReaderFailure.of(r.getLastError());
    }
    if (!r.getHolder().isEmpty()) {
      slot.holder = memberOf(group, r.getHolder());
      slot.holder.addHeld(slot);
    }
    if (!r.getTarget().isEmpty()) {
      slot.target = memberOf(group, r.getTarget());
    }
    if (r.hasCheckpoint()) {
      var c = r.getCheckpoint();
      slot.checkpoint = new Checkpoint(c.getCursor(), c.getFinished(), c.hasLag() ? c.getLag() : -1,
          c.hasLagMs() ? c.getLagMs() : -1, c.getCommittedBy(), c.getCommittedAtMs(), c.getEpoch(),
          c.getAtEnd());
    }
  }

  /** Formats 1-3 used log indexes as sessions: their 8 bytes, big-endian, stand for the token. */
  @SuppressWarnings("deprecation")
  private static ByteString legacyToken(long session) {
    byte[] b = new byte[8];
    for (int i = 7; i >= 0; i--) {
      b[i] = (byte) session;
      session >>>= 8;
    }
    return ByteString.copyFrom(b);
  }

  /**
   * What the live state derives as it goes: the members' incoming handoffs and the groups' releasing
   * slots, in slot order, and the time of each group's next timer.
   */
  private void derive() {
    state.acl = Acl.of(access, accessBootstrapped);
    for (GroupState group : state.groups.values()) {
      for (var list : group.slots.values()) {
        for (Slot slot : list) {
          if (slot.releasing) {
            if (slot.releaseDeadlineMs == 0 && slot.holder != null) {
              // Written before format 3, which kept no release timer: it starts at the snapshot's time.
              slot.releaseDeadlineMs = Math.max(state.nowMs + group.effectiveReleaseTimeoutMs(), slot.holder.deadlineMs());
            }
            group.releasing.add(slot);
            if (slot.target != null) {
              slot.target.incoming.add(slot);
            }
          }
        }
      }
      group.dirty = false;
      Timers.reschedule(group, state);
    }
  }

  private static MemberState memberOf(GroupState group, String consumerId) {
    MemberState m = group.members.get(consumerId);
    if (m == null) {
      throw new IllegalArgumentException("group '" + group.name + "': slot names unknown member '" + consumerId + "'");
    }
    return m;
  }
}
