package io.cohort.statemachine;

import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.CreateTopic;
import io.cohort.statemachine.proto.DeleteTopic;
import io.cohort.statemachine.proto.MergePartitions;
import io.cohort.statemachine.proto.PartitionState;
import io.cohort.statemachine.proto.Result;
import io.cohort.statemachine.proto.SetWeight;
import io.cohort.statemachine.proto.SplitPartition;
import io.cohort.statemachine.proto.SplitResult;
import java.math.BigInteger;

/** Topics and their partitions: create, delete, split, merge, weigh (R5), and telling groups. */
final class Resharding {
  private static final BigInteger KEY_SPACE = BigInteger.ONE.shiftLeft(64);

  private final CoordinatorState state;

  Resharding(CoordinatorState state) {
    this.state = state;
  }

  Result createTopic(CreateTopic c) {
    int n = c.getPartitions();
    if (state.topics.containsKey(c.getTopic())) {
      return Results.rejected(Code.ALREADY_EXISTS, "topic '" + c.getTopic() + "' already exists");
    }
    if (state.topics.size() >= state.limits.maxTopics()) {
      return Results.rejected(Code.LIMIT_EXCEEDED, "the cluster has the maximum of "
          + state.limits.maxTopics() + " topics");
    }
    TopicState topic = new TopicState(c.getTopic());
    BigInteger count = BigInteger.valueOf(n);
    PartitionInfo[] partitions = new PartitionInfo[n];
    for (int i = 0; i < n; i++) {
      long first = KEY_SPACE.multiply(BigInteger.valueOf(i)).divide(count).longValue();
      long last = KEY_SPACE.multiply(BigInteger.valueOf(i + 1)).divide(count).longValue() - 1;
      partitions[i] = new PartitionInfo(i, first, last, PartitionInfo.NONE);
    }
    topic.add(partitions);
    state.topics.put(topic.name, topic);
    return Result.newBuilder().setCode(Code.OK).setTopic(Views.topic(topic))
        .setMessage("topic '" + topic.name + "' created with " + n + " partitions").build();
  }

  Result deleteTopic(DeleteTopic d) {
    TopicState topic = state.topics.get(d.getTopic());
    if (topic == null) {
      return Results.rejected(Code.NOT_FOUND, "topic '" + d.getTopic() + "' does not exist");
    }
    for (GroupState group : state.groups.values()) {
      if (group.slots.containsKey(topic.name)) {
        return Results.rejected(Code.FAILED_PRECONDITION, "topic '" + topic.name
            + "' is read by group '" + group.name + "': delete or change the group first");
      }
    }
    state.topics.remove(topic.name);
    return Results.ok("topic '" + topic.name + "' deleted");
  }

  Result split(SplitPartition s, long index) {
    TopicState topic = state.topics.get(s.getTopic());
    if (topic == null) {
      return Results.rejected(Code.NOT_FOUND, "topic '" + s.getTopic() + "' does not exist");
    }
    PartitionInfo parent = topic.partition(s.getPartition());
    if (parent == null) {
      return Results.rejected(Code.NOT_FOUND, "topic '" + topic.name + "' has no partition " + s.getPartition());
    }
    if (parent.sealed()) {
      return Results.rejected(Code.FAILED_PRECONDITION,
          "partition " + topic.name + "/" + parent.id + " is sealed and cannot split");
    }
    if (parent.first == parent.last) {
      return Results.rejected(Code.FAILED_PRECONDITION,
          "partition " + topic.name + "/" + parent.id + " covers a single key and cannot split");
    }
    long key = s.hasSplitKey() ? s.getSplitKey() : parent.middleKey();
    if (Long.compareUnsigned(key, parent.first) <= 0 || Long.compareUnsigned(key, parent.last) > 0) {
      return Results.rejected(Code.INVALID_ARGUMENT, "split key " + Views.hex(key)
          + " is not inside partition " + parent.id + "'s range (" + Views.hex(parent.first) + ", "
          + Views.hex(parent.last) + "]");
    }
    if (topic.size() + 2 > state.limits.maxPartitionsPerTopic()) {
      return Results.rejected(Code.LIMIT_EXCEEDED, "topic '" + topic.name + "' would exceed "
          + state.limits.maxPartitionsPerTopic() + " partitions");
    }
    Result slots = checkSlots(topic, 2);
    if (slots != null) {
      return slots;
    }
    int lowId = topic.size();
    long lowWeight = Math.max(1, parent.weightMicros / 2);
    PartitionInfo low = new PartitionInfo(lowId, parent.first, key - 1, new int[] {parent.id}).withWeight(lowWeight);
    PartitionInfo high = new PartitionInfo(lowId + 1, key, parent.last, new int[] {parent.id})
        .withWeight(Math.max(1, parent.weightMicros - lowWeight));
    seal(topic, parent, s.hasEndCursor() ? s.getEndCursor() : null, new int[] {low.id, high.id});
    topic.add(low, high);
    tellGroups(topic, index);
    return Result.newBuilder().setCode(Code.OK)
        .setSplit(SplitResult.newBuilder().addChildren(low.id).addChildren(high.id))
        .setMessage("partition " + topic.name + "/" + parent.id + " split into " + low.id + " and " + high.id)
        .build();
  }

  Result merge(MergePartitions m, long index) {
    TopicState topic = state.topics.get(m.getTopic());
    if (topic == null) {
      return Results.rejected(Code.NOT_FOUND, "topic '" + m.getTopic() + "' does not exist");
    }
    PartitionInfo a = topic.partition(m.getPartition1());
    PartitionInfo b = topic.partition(m.getPartition2());
    if (a == null || b == null) {
      return Results.rejected(Code.NOT_FOUND, "topic '" + topic.name + "' has no partition "
          + (a == null ? m.getPartition1() : m.getPartition2()));
    }
    if (a.sealed() || b.sealed()) {
      return Results.rejected(Code.FAILED_PRECONDITION, "partition " + (a.sealed() ? a.id : b.id)
          + " is sealed: only active partitions merge");
    }
    if (!a.adjacentTo(b)) {
      return Results.rejected(Code.FAILED_PRECONDITION, "partitions " + a.id + " and " + b.id
          + " are not adjacent in the key space");
    }
    if (topic.size() + 1 > state.limits.maxPartitionsPerTopic()) {
      return Results.rejected(Code.LIMIT_EXCEEDED, "topic '" + topic.name + "' would exceed "
          + state.limits.maxPartitionsPerTopic() + " partitions");
    }
    Result slots = checkSlots(topic, 1);
    if (slots != null) {
      return slots;
    }
    PartitionInfo lower = Long.compareUnsigned(a.first, b.first) < 0 ? a : b;
    PartitionInfo upper = lower == a ? b : a;
    PartitionInfo child = new PartitionInfo(topic.size(), lower.first, upper.last,
        new int[] {lower.id, upper.id}).withWeight(Math.min(Long.MAX_VALUE / 4, a.weightMicros + b.weightMicros));
    seal(topic, a, m.hasEndCursor1() ? m.getEndCursor1() : null, new int[] {child.id});
    seal(topic, b, m.hasEndCursor2() ? m.getEndCursor2() : null, new int[] {child.id});
    topic.add(child);
    tellGroups(topic, index);
    return Result.newBuilder().setCode(Code.OK)
        .setSplit(SplitResult.newBuilder().addChildren(child.id))
        .setMessage("partitions " + topic.name + "/" + a.id + " and " + b.id + " merged into " + child.id)
        .build();
  }

  private static void seal(TopicState topic, PartitionInfo p, String endCursor, int[] children) {
    topic.replace(p.sealed(endCursor, children));
  }

  Result setWeight(SetWeight w, long index) {
    TopicState topic = state.topics.get(w.getTopic());
    if (topic == null) {
      return Results.rejected(Code.NOT_FOUND, "topic '" + w.getTopic() + "' does not exist");
    }
    PartitionInfo p = topic.partition(w.getPartition());
    if (p == null) {
      return Results.rejected(Code.NOT_FOUND, "topic '" + topic.name + "' has no partition " + w.getPartition());
    }
    // In range (CommandValidator); stored in millionths, and the reply says what was stored.
    PartitionInfo weighed = p.withWeight(Math.round(w.getWeight() * 1_000_000.0));
    topic.replace(weighed);
    for (GroupState group : state.groups.values()) {
      if (group.slots.containsKey(topic.name)) {
        group.slot(topic.name, p.id).info = weighed;
        Assignor.rebalance(group, index, state);
      }
    }
    double stored = Views.weight(weighed.weightMicros);
    return Results.ok("weight of " + topic.name + "/" + p.id + " set to " + stored
        + (stored == w.getWeight() ? "" : " (" + w.getWeight() + " rounded to millionths)"));
  }

  /** R9: the partitions a split or merge adds become slots in every group reading the topic. */
  private Result checkSlots(TopicState topic, int added) {
    long readers = 0;
    for (GroupState group : state.groups.values()) {
      if (group.slots.containsKey(topic.name)) {
        readers++;
      }
    }
    if (state.counters.slots + readers * added > state.limits.maxSlots()) {
      return Results.rejected(Code.LIMIT_EXCEEDED, "the cluster holds " + state.counters.slots
          + " group partitions (slots) of at most " + state.limits.maxSlots() + "; " + readers
          + " group(s) read topic '" + topic.name + "', so this needs " + readers * added + " more");
    }
    return null;
  }

  /** Every group reading the topic gets slots for new partitions and rebalances. */
  private void tellGroups(TopicState topic, long index) {
    for (GroupState group : state.groups.values()) {
      if (group.slots.containsKey(topic.name)) {
        group.addNewPartitions(topic);
        for (Slot slot : group.slots.get(topic.name)) {
          slot.info = topic.partition(slot.info.id); // the sealed parents are new objects
        }
        Assignor.rebalance(group, index, state);
      }
    }
  }
}
