package io.cohort.statemachine;

import io.cohort.statemachine.proto.CheckpointEntry;
import io.cohort.statemachine.proto.CheckpointReset;
import io.cohort.statemachine.proto.CheckpointView;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.Grant;
import io.cohort.statemachine.proto.GroupPartitionView;
import io.cohort.statemachine.proto.GroupView;
import io.cohort.statemachine.proto.PartitionStatus;
import io.cohort.statemachine.proto.Result;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * What {@link Simulation} knows independently of the coordinator's state: every applied command
 * and its answer (delivered to its sender or not). From them: the checkpoint each partition must
 * have (the last acknowledged commit or reset), and the epoch in force (the newest grant or reset
 * epoch seen); an acknowledged commit carrying an older epoch is a fencing failure (R3).
 */
final class SimOracle {
  static final String NONE = "<none>";
  static final String AT_END = "<end>";

  private final Consumer<String> fail;
  /** "group/topic/partition" -> cursor (or NONE, AT_END) as last acknowledged. */
  final Map<String, String> acked = new HashMap<>();
  /** "group/topic/partition" -> the newest epoch granted or set by a reset. */
  final Map<String, Long> epochInForce = new HashMap<>();
  /** "group/topic/partition" -> the highest epoch the coordinator showed. */
  private final Map<String, Long> shownEpoch = new HashMap<>();

  SimOracle(Consumer<String> fail) {
    this.fail = fail;
  }

  static String key(String group, String topic, int partition) {
    return group + "/" + topic + "/" + partition;
  }

  /** Every applied command with its answer, in log order. */
  void observe(Command c, Result r, long index) {
    if (r.getCode() != Code.OK) {
      return;
    }
    switch (c.getBodyCase()) {
      case HEARTBEAT -> {
        commits(c.getHeartbeat().getGroup(), c.getHeartbeat().getCommitsList(), r.getHeartbeat().getCommitCodesList());
        for (Grant g : r.getHeartbeat().getGrantsList()) {
          epochInForce.merge(key(c.getHeartbeat().getGroup(), g.getTopic(), g.getPartition()), g.getEpoch(), Math::max);
        }
      }
      case COMMIT_CHECKPOINTS -> commits(c.getCommitCheckpoints().getGroup(), c.getCommitCheckpoints().getEntriesList(),
          r.getCommit().getCodesList());
      case LEAVE -> commits(c.getLeave().getGroup(), c.getLeave().getCommitsList(), r.getCommit().getCodesList());
      case RESET_CHECKPOINT -> {
        var reset = c.getResetCheckpoint();
        String k = key(reset.getGroup(), reset.getTopic(), reset.getPartition());
        acked.put(k, reset.getCursor());
        epochInForce.put(k, index); // R3: a reset bumps the epoch to its own index
      }
      case RESET_CHECKPOINTS -> {
        var resets = c.getResetCheckpoints();
        for (CheckpointReset e : resets.getEntriesList()) {
          String k = key(resets.getGroup(), e.getTopic(), e.getPartition());
          acked.put(k, switch (e.getTargetCase()) {
            case CURSOR -> e.getCursor();
            case TO_END -> AT_END;
            default -> NONE;
          });
          epochInForce.put(k, index);
        }
      }
      case DELETE_GROUP -> {
        String prefix = c.getDeleteGroup().getGroup() + "/";
        acked.keySet().removeIf(k -> k.startsWith(prefix));
        epochInForce.keySet().removeIf(k -> k.startsWith(prefix));
        shownEpoch.keySet().removeIf(k -> k.startsWith(prefix));
      }
      default -> { }
    }
  }

  private void commits(String group, List<CheckpointEntry> entries, List<Code> codes) {
    if (entries.size() != codes.size()) {
      fail.accept("R3: " + entries.size() + " commit entries got " + codes.size() + " codes");
      return;
    }
    for (int i = 0; i < entries.size(); i++) {
      if (codes.get(i) != Code.OK) {
        continue;
      }
      CheckpointEntry e = entries.get(i);
      String k = key(group, e.getTopic(), e.getPartition());
      long inForce = epochInForce.getOrDefault(k, 0L);
      if (e.getEpoch() < inForce) {
        fail.accept("R3: a commit of " + k + " with epoch " + e.getEpoch() + " was acknowledged, but epoch "
            + inForce + " is in force (a reset or a newer grant must fence it)");
      }
      acked.put(k, e.getCursor());
    }
  }

  /** The coordinator's view of a group against what was acknowledged; epochs only grow. */
  void checkGroup(GroupView view) {
    String group = view.getSummary().getGroup();
    for (GroupPartitionView p : view.getPartitionsList()) {
      String k = key(group, p.getTopic(), p.getPartition());
      Long before = shownEpoch.put(k, p.getEpoch());
      if (before != null && p.getEpoch() < before) {
        fail.accept("epochs never decrease: " + k + " went from " + before + " to " + p.getEpoch());
      }
      String ack = acked.get(k);
      if (ack == null) {
        continue;
      }
      CheckpointView cp = p.hasCheckpoint() ? p.getCheckpoint() : null;
      String has = cp == null ? NONE : cp.getAtEnd() ? AT_END : cp.getCursor();
      if (!ack.equals(has)) {
        fail.accept("no acknowledged commit is lost: " + k + " has " + has + ", the last acknowledged is " + ack);
      }
    }
  }

  /** R5, at the moment a process starts reading a partition of an order=true group. */
  static String unfinishedAncestor(Map<Integer, GroupPartitionView> topic, Map<Integer, int[]> parents, int partition) {
    for (int parent : parents.getOrDefault(partition, new int[0])) {
      GroupPartitionView p = topic.get(parent);
      if (p != null && p.getStatus() != PartitionStatus.FINISHED) {
        return parent + " is " + p.getStatus();
      }
      String up = unfinishedAncestor(topic, parents, parent);
      if (up != null) {
        return up;
      }
    }
    return null;
  }

  static Map<String, Map<Integer, GroupPartitionView>> byTopic(GroupView view) {
    Map<String, Map<Integer, GroupPartitionView>> out = new HashMap<>();
    for (GroupPartitionView p : view.getPartitionsList()) {
      out.computeIfAbsent(p.getTopic(), t -> new HashMap<>()).put(p.getPartition(), p);
    }
    return out;
  }
}
