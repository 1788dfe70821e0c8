package io.cohort.server;

import io.cohort.statemachine.proto.CheckpointEntry;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.CommitCheckpoints;
import io.cohort.statemachine.proto.CreateGroup;
import io.cohort.statemachine.proto.CreateTopic;
import io.cohort.statemachine.proto.DescribeGroupQuery;
import io.cohort.statemachine.proto.Grant;
import io.cohort.statemachine.proto.Heartbeat;
import io.cohort.statemachine.proto.ListCheckpoints;
import io.cohort.statemachine.proto.PartitionRef;
import io.cohort.statemachine.proto.Query;
import io.cohort.statemachine.proto.StateDigest;
import java.util.List;

/** Builders for the commands and queries the integration tests send. */
final class Commands {
  private Commands() {}

  static Command createTopic(String topic, int partitions) {
    return Command.newBuilder().setCreateTopic(CreateTopic.newBuilder().setTopic(topic)
        .setPartitions(partitions)).build();
  }

  static Command createGroup(String group, String topic, long sessionTimeoutMs) {
    return Command.newBuilder().setCreateGroup(CreateGroup.newBuilder().setGroup(group).addTopics(topic)
        .setSessionTimeoutMs(sessionTimeoutMs)).build();
  }

  static Command join(String group, String consumer) {
    return Command.newBuilder().setHeartbeat(Heartbeat.newBuilder().setGroup(group)
        .setConsumerId(consumer)).build();
  }

  static Command heartbeat(String group, String consumer, com.google.protobuf.ByteString session, List<Grant> held) {
    Heartbeat.Builder b = Heartbeat.newBuilder().setGroup(group).setConsumerId(consumer).setSessionToken(session);
    for (Grant g : held) {
      b.addHeld(PartitionRef.newBuilder().setTopic(g.getTopic()).setPartition(g.getPartition()));
    }
    return Command.newBuilder().setHeartbeat(b).build();
  }

  static Command commit(String group, String consumer, com.google.protobuf.ByteString session, Grant grant, String cursor) {
    return Command.newBuilder().setCommitCheckpoints(CommitCheckpoints.newBuilder().setGroup(group)
        .setConsumerId(consumer).setSessionToken(session).addEntries(CheckpointEntry.newBuilder()
            .setTopic(grant.getTopic()).setPartition(grant.getPartition()).setEpoch(grant.getEpoch())
            .setCursor(cursor))).build();
  }

  static Query describeGroup(String group) {
    return Query.newBuilder().setDescribeGroup(DescribeGroupQuery.newBuilder().setGroup(group)).build();
  }

  static Query listCheckpoints(String group) {
    return Query.newBuilder().setListCheckpoints(ListCheckpoints.newBuilder().setGroup(group)).build();
  }

  static Query digest() {
    return Query.newBuilder().setStateDigest(StateDigest.getDefaultInstance()).build();
  }
}
