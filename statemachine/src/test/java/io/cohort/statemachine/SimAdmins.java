package io.cohort.statemachine;

import com.google.protobuf.ByteString;
import io.cohort.statemachine.proto.CheckpointReset;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.DeleteGroup;
import io.cohort.statemachine.proto.DeleteTopic;
import io.cohort.statemachine.proto.GroupPartitionView;
import io.cohort.statemachine.proto.GroupView;
import io.cohort.statemachine.proto.LogEntry;
import io.cohort.statemachine.proto.MergePartitions;
import io.cohort.statemachine.proto.PartitionState;
import io.cohort.statemachine.proto.PartitionView;
import io.cohort.statemachine.proto.ResetCheckpoint;
import io.cohort.statemachine.proto.ResetCheckpoints;
import io.cohort.statemachine.proto.Result;
import io.cohort.statemachine.proto.SetWeight;
import io.cohort.statemachine.proto.SplitPartition;
import io.cohort.statemachine.proto.UpdateGroup;
import java.util.ArrayList;
import java.util.List;

/** What admins do in {@link Simulation}: resharding, weights, resets, groups and topics that come and go. */
abstract class SimAdmins extends SimCluster {
  SimAdmins(long seed) {
    super(seed);
  }

  // ------------------------------------------------------------------ admins

  String anyTopic() {
    return topics.isEmpty() ? "t0" : pick(new ArrayList<>(topics.keySet()));
  }

  List<Integer> active(String topic) {
    List<Integer> out = new ArrayList<>();
    for (PartitionView p : topics.getOrDefault(topic, List.of())) {
      if (p.getState() == PartitionState.ACTIVE) {
        out.add(p.getPartition());
      }
    }
    return out;
  }

  void split() {
    String topic = anyTopic();
    List<Integer> active = active(topic);
    if (active.isEmpty()) {
      return;
    }
    SplitPartition.Builder s = SplitPartition.newBuilder().setTopic(topic).setPartition(pick(active));
    if (rnd.nextBoolean()) {
      s.setEndCursor("end");
    }
    action += " split " + topic + "/" + s.getPartition();
    stats.merge("splits " + append(Command.newBuilder().setSplitPartition(s).build()).getCode(), 1, Integer::sum);
  }

  void merge() {
    String topic = anyTopic();
    List<PartitionView> parts = topics.getOrDefault(topic, List.of());
    List<PartitionView> active = parts.stream().filter(p -> p.getState() == PartitionState.ACTIVE).toList();
    for (int tries = 0; tries < 5 && active.size() > 1; tries++) {
      PartitionView a = pick(active);
      PartitionView b = pick(active);
      if (a != b && (a.getRangeEnd().equals(b.getRangeBegin()) || b.getRangeEnd().equals(a.getRangeBegin()))) {
        action += " merge " + topic + "/" + a.getPartition() + "+" + b.getPartition();
        stats.merge("merges", 1, Integer::sum);
        append(Command.newBuilder().setMergePartitions(MergePartitions.newBuilder().setTopic(topic)
            .setPartition1(a.getPartition()).setPartition2(b.getPartition())).build());
        return;
      }
    }
  }

  void weight() {
    String topic = anyTopic();
    int n = topics.getOrDefault(topic, List.of()).size();
    if (n > 0) {
      double[] weights = {0.5, 1, 1, 2, 3};
      append(Command.newBuilder().setSetWeight(SetWeight.newBuilder().setTopic(topic).setPartition(rnd.nextInt(n))
          .setWeight(weights[rnd.nextInt(weights.length)])).build());
    }
  }

  String[] groupPartition() {
    String group = pick(new ArrayList<>(groups.keySet()));
    GroupView view = describe(group);
    if (view == null || view.getPartitionsCount() == 0) {
      return null;
    }
    GroupPartitionView p = pick(view.getPartitionsList());
    return new String[] {group, p.getTopic(), Integer.toString(p.getPartition())};
  }

  void reset() {
    String[] gp = groupPartition();
    if (gp != null) {
      action += " reset " + String.join("/", gp);
      Result r = append(Command.newBuilder().setResetCheckpoint(ResetCheckpoint.newBuilder().setGroup(gp[0])
          .setTopic(gp[1]).setPartition(Integer.parseInt(gp[2])).setCursor("r" + (++cursorSeq))).build());
      stats.merge("resets " + r.getCode(), 1, Integer::sum);
    }
  }

  void resetMany() {
    String group = pick(new ArrayList<>(groups.keySet()));
    GroupView view = describe(group);
    if (view == null || view.getPartitionsCount() == 0) {
      return;
    }
    ResetCheckpoints.Builder r = ResetCheckpoints.newBuilder().setGroup(group);
    java.util.Set<String> named = new java.util.HashSet<>();
    for (int i = 1 + rnd.nextInt(4); i > 0; i--) {
      GroupPartitionView p = pick(view.getPartitionsList());
      if (!named.add(p.getTopic() + "/" + p.getPartition())) {
        continue;
      }
      CheckpointReset.Builder e = CheckpointReset.newBuilder().setTopic(p.getTopic()).setPartition(p.getPartition());
      switch (rnd.nextInt(3)) {
        case 0 -> e.setCursor("r" + (++cursorSeq));
        case 1 -> e.setDelete(true);
        default -> e.setToEnd(true);
      }
      r.addEntries(e);
    }
    action += " bulk reset in " + group;
    stats.merge("bulk resets", 1, Integer::sum);
    append(Command.newBuilder().setResetCheckpoints(r).build());
  }

  void updateGroup() {
    String group = pick(new ArrayList<>(groups.keySet()));
    long session = 1_000 + rnd.nextInt(4) * 1_000;
    UpdateGroup.Builder u = UpdateGroup.newBuilder().setGroup(group).setSessionTimeoutMs(session)
        .setHeartbeatIntervalMs(session / 4).setReleaseTimeoutMs(rnd.nextBoolean() ? 0 : session + rnd.nextInt(2_000));
    if (rnd.nextInt(4) == 0) {
      u.addAddTopics(anyTopic());
    }
    if (delays.nextInt(3) == 0) {
      u.setInitialRebalanceDelayMs(initialRebalanceDelayMs()); // 0 ends a forming group's wait at once
    }
    action += " update " + group + " session " + session;
    append(Command.newBuilder().setUpdateGroup(u).build());
  }

  /** Topics and groups that come and go; a deleted group's name is never used again. */
  void dynamicGroup() {
    List<String> dynamic = groups.keySet().stream().filter(g -> g.startsWith("d")).toList();
    int roll = rnd.nextInt(4);
    if (roll == 0 || dynamic.isEmpty()) {
      String topic = "x" + (++dynamicSeq);
      if (createTopic(topic, 1 + rnd.nextInt(6)).getCode() == Code.OK) {
        createGroup("d" + dynamicSeq, rnd.nextBoolean(), 1_000 + rnd.nextInt(3) * 1_000, topic);
        action += " new group d" + dynamicSeq;
      }
    } else {
      String g = pick(dynamic);
      boolean force = rnd.nextBoolean();
      Result r = append(Command.newBuilder().setDeleteGroup(DeleteGroup.newBuilder().setGroup(g).setForce(force)).build());
      action += " delete group " + g + " " + r.getCode();
      if (r.getCode() == Code.OK) {
        groups.remove(g);
        stats.merge("groups deleted", 1, Integer::sum);
        for (String topic : new ArrayList<>(topics.keySet())) {
          if (topic.startsWith("x")) {
            append(Command.newBuilder().setDeleteTopic(DeleteTopic.newBuilder().setTopic(topic)).build());
          }
        }
      }
    }
  }

  void garbage() {
    byte[] junk = new byte[1 + rnd.nextInt(20)];
    rnd.nextBytes(junk);
    byte[] entry = rnd.nextBoolean() ? junk
        : LogEntry.newBuilder().setTimeMs(wallMs()).setCommand(ByteString.copyFrom(junk)).build().toByteArray();
    index++;
    Result r = primary.applyLogEntry(entry, index, term);
    check(r.equals(replica.applyLogEntry(entry, index, term)), "R8: replicas disagree on junk");
    if (rebuilt != null) {
      check(r.equals(rebuilt.applyLogEntry(entry, index, term)), "R8: the rebuilt replica disagrees on junk");
    }
    check(r.getCode() != Code.INTERNAL, "R8: " + r.getMessage());
  }

}
