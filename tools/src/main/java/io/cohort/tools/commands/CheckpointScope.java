package io.cohort.tools.commands;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.ParameterException;
import io.cohort.statemachine.proto.GroupPartitionView;
import io.cohort.statemachine.proto.GroupView;
import io.cohort.tools.cli.CommandFailedException;
import java.util.ArrayList;
import java.util.List;

/** Which of a group's partitions an offset command touches: --topic (repeatable), --partitions, --all-topics. */
final class CheckpointScope {
  @Parameter(names = "--topic", description = "a topic of the group (repeatable)")
  List<String> topics = new ArrayList<>();

  @Parameter(names = "--partitions", description = "only these partitions, e.g. 0,3 (with exactly one --topic)")
  String partitions;

  @Parameter(names = "--all-topics", description = "every partition of every topic the group reads")
  boolean allTopics;

  boolean given() {
    return !topics.isEmpty() || partitions != null || allTopics;
  }

  /** Checks the combination before anything is sent; bad usage otherwise. */
  void check() {
    if (allTopics && !topics.isEmpty()) {
      throw new ParameterException("give either --all-topics or --topic, not both");
    }
    if (partitions != null && topics.size() != 1) {
      throw new ParameterException("--partitions needs exactly one --topic");
    }
    Args.distinctTopics(topics);
    if (partitions != null) {
      Args.partitions(partitions);
    }
  }

  void require() {
    if (!given()) {
      throw new ParameterException("say which partitions: --topic T [--partitions P,...] (repeatable) or --all-topics");
    }
    check();
  }

  /**
   * The selected partitions, in the group's order. Named partitions the group does not read are
   * kept (marked unknown): the cluster refuses the whole command for them, all or none.
   */
  List<ResetPlan.Slot> select(GroupView group) {
    List<ResetPlan.Slot> out = new ArrayList<>();
    if (partitions != null) {
      String topic = topics.get(0);
      for (int p : Args.partitions(partitions)) {
        out.add(ResetPlan.Slot.of(group, topic, p));
      }
      return out;
    }
    for (String t : topics) {
      if (!group.getSummary().getTopicsList().contains(t)) {
        throw new CommandFailedException("group '" + group.getSummary().getGroup() + "' does not read topic '" + t
            + "' (it reads " + String.join(", ", group.getSummary().getTopicsList()) + ")");
      }
    }
    for (GroupPartitionView p : group.getPartitionsList()) {
      if (allTopics || topics.contains(p.getTopic())) {
        out.add(ResetPlan.Slot.of(group, p.getTopic(), p.getPartition()));
      }
    }
    return out;
  }

  /** Whether a partition named elsewhere (e.g. in a file) is inside this scope; no scope: all are. */
  boolean contains(String topic, int partition) {
    if (!given() || allTopics) {
      return true;
    }
    if (!topics.contains(topic)) {
      return false;
    }
    return partitions == null || Args.partitions(partitions).contains(partition);
  }
}
