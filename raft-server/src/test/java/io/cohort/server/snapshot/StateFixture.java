package io.cohort.server.snapshot;

import io.cohort.statemachine.Coordinator;
import io.cohort.statemachine.Limits;
import io.cohort.statemachine.proto.CheckpointEntry;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.CommitCheckpoints;
import io.cohort.statemachine.proto.CreateGroup;
import io.cohort.statemachine.proto.CreateTopic;
import io.cohort.statemachine.proto.Grant;
import io.cohort.statemachine.proto.Heartbeat;
import io.cohort.statemachine.proto.Result;
import java.util.List;

/**
 * Builds a coordinator through {@code apply()} alone: {@code topics} topics of {@code partitions}
 * partitions, {@code groupsPerTopic} groups reading each topic, one member per group holding every
 * partition and a committed checkpoint on each. Checkpoints = topics x partitions x groupsPerTopic.
 */
public final class StateFixture {
  private final Coordinator coordinator = new Coordinator(Limits.DEFAULTS);
  private long index;
  private long timeMs = 1_700_000_000_000L;

  public static Coordinator build(int topics, int partitions, int groupsPerTopic) {
    StateFixture f = new StateFixture();
    for (int t = 0; t < topics; t++) {
      String topic = "topic-" + t;
      f.ok(Command.newBuilder().setCreateTopic(CreateTopic.newBuilder().setTopic(topic).setPartitions(partitions)).build());
      for (int g = 0; g < groupsPerTopic; g++) {
        String group = "group-" + t + "-" + g;
        f.ok(Command.newBuilder().setCreateGroup(CreateGroup.newBuilder().setGroup(group).addTopics(topic)
            .setSessionTimeoutMs(600_000)).build());
        Result joined = f.ok(Command.newBuilder().setHeartbeat(Heartbeat.newBuilder().setGroup(group)
            .setConsumerId("consumer-" + g)).build());
        com.google.protobuf.ByteString session = joined.getHeartbeat().getSessionToken();
        List<Grant> grants = joined.getHeartbeat().getGrantsList();
        int max = Limits.DEFAULTS.maxEntriesPerCommand();
        for (int from = 0; from < grants.size(); from += max) {
          CommitCheckpoints.Builder c = CommitCheckpoints.newBuilder().setGroup(group)
              .setConsumerId("consumer-" + g).setSessionToken(session);
          for (Grant grant : grants.subList(from, Math.min(grants.size(), from + max))) {
            c.addEntries(CheckpointEntry.newBuilder().setTopic(topic).setPartition(grant.getPartition())
                .setEpoch(grant.getEpoch()).setCursor("offset-" + (1000L + grant.getPartition())).setLag(3));
          }
          f.ok(Command.newBuilder().setCommitCheckpoints(c).build());
        }
      }
    }
    return f.coordinator;
  }

  private Result ok(Command c) {
    index++;
    timeMs += 10;
    byte[] token = java.nio.ByteBuffer.allocate(16).putLong(8, index).array(); // the leader draws random ones
    Result r = coordinator.apply(c, index, 1, new io.cohort.statemachine.Stamp(timeMs,
        io.cohort.statemachine.Principals.INTERNAL, com.google.protobuf.ByteString.copyFrom(token)));
    if (r.getCode() != Code.OK) {
      throw new IllegalStateException("fixture command failed: " + r.getCode() + " " + r.getMessage());
    }
    return r;
  }
}
