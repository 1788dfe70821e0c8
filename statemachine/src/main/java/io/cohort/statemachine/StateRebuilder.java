package io.cohort.statemachine;

import io.cohort.statemachine.proto.GroupRecord;
import io.cohort.statemachine.proto.HeaderRecord;
import io.cohort.statemachine.proto.MemberRecord;
import io.cohort.statemachine.proto.PartitionRecord;
import io.cohort.statemachine.proto.SlotRecord;
import io.cohort.statemachine.proto.StateRecord;
import io.cohort.statemachine.proto.TopicRecord;
import java.util.Iterator;

/** Folds an exported record stream back into a state; refuses a stream it does not understand. */
final class StateRebuilder {
  private final CoordinatorState state;
  private boolean sawHeader;

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
    return r.state;
  }

  private void accept(StateRecord record) {
    if (!sawHeader && record.getBodyCase() != StateRecord.BodyCase.HEADER) {
      throw new IllegalArgumentException("state stream must start with a header, got " + record.getBodyCase());
    }
    switch (record.getBodyCase()) {
      case HEADER -> header(record.getHeader());
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
    if (h.getFormatVersion() != FrozenState.FORMAT_VERSION && h.getFormatVersion() != 1) {
      throw new IllegalArgumentException("unknown state format version " + h.getFormatVersion()
          + " (this Cohort reads version " + FrozenState.FORMAT_VERSION + ")");
    }
    sawHeader = true;
    state.appliedIndex = h.getAppliedIndex();
    state.appliedTerm = h.getAppliedTerm();
    state.nowMs = h.getNowMs();
    state.lastTerm = h.getLastTerm();
    if (h.hasLimits()) {
      state.limits = state.limits.with(h.getLimits());
      state.limitsExplicit = h.getLimitsExplicit();
    }
  }

  private void topic(TopicRecord t) {
    TopicState topic = new TopicState(t.getTopic());
    for (PartitionRecord p : t.getPartitionsList()) {
      if (p.getId() != topic.partitions.size()) {
        throw new IllegalArgumentException("topic '" + t.getTopic() + "': partition ids are not dense at " + p.getId());
      }
      PartitionInfo info = new PartitionInfo(p.getId(), p.getRangeFirst(), p.getRangeLast(),
          p.getParentsList().stream().mapToInt(Integer::intValue).toArray());
      info.children = p.getChildrenList().stream().mapToInt(Integer::intValue).toArray();
      info.state = p.getState();
      info.weightMicros = p.getWeightMicros();
      info.endCursor = p.hasEndCursor() ? p.getEndCursor() : null;
      topic.partitions.add(info);
    }
    state.topics.put(topic.name, topic);
  }

  private void group(GroupRecord g) {
    GroupState group = new GroupState(g.getGroup(), g.getOrder(), g.getStartFrom(),
        g.getSessionTimeoutMs(), g.getHeartbeatIntervalMs());
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
    MemberState member = new MemberState(m.getConsumerId());
    member.session = m.getSession();
    member.lastHeartbeatMs = m.getLastHeartbeatMs();
    member.deadlineMs = m.getDeadlineMs();
    group.members.put(member.consumerId, member);
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
    if (!r.getHolder().isEmpty()) {
      slot.holder = memberOf(group, r.getHolder());
      slot.holder.addHeld(slot);
    }
    if (!r.getTarget().isEmpty()) {
      slot.target = memberOf(group, r.getTarget());
      slot.target.incoming++;
    }
    if (r.hasCheckpoint()) {
      var c = r.getCheckpoint();
      slot.checkpoint = new Checkpoint(c.getCursor(), c.getFinished(), c.hasLag() ? c.getLag() : -1,
          c.hasLagMs() ? c.getLagMs() : -1, c.getCommittedBy(), c.getCommittedAtMs(), c.getEpoch(),
          c.getAtEnd());
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
