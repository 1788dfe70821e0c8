package io.cohort.server.metrics;

import io.cohort.statemachine.proto.CheckpointEntry;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.CommitCheckpoints;
import io.cohort.statemachine.proto.CreateGroup;
import io.cohort.statemachine.proto.CreateTopic;
import io.cohort.statemachine.proto.Grant;
import io.cohort.statemachine.proto.Heartbeat;
import io.cohort.statemachine.proto.Leave;
import io.cohort.statemachine.proto.PartitionRef;
import io.cohort.statemachine.proto.ReaderError;
import io.cohort.statemachine.proto.Tick;
import java.util.List;

/** Commands the metrics tests send. */
public final class Cmd {
  private Cmd() {}

  public static Command topic(String topic, int partitions) {
    return Command.newBuilder().setCreateTopic(CreateTopic.newBuilder().setTopic(topic).setPartitions(partitions))
        .build();
  }

  public static Command group(String group, String topic, long sessionTimeoutMs) {
    return Command.newBuilder().setCreateGroup(CreateGroup.newBuilder().setGroup(group).addTopics(topic)
        .setSessionTimeoutMs(sessionTimeoutMs)).build();
  }

  public static Command join(String group, String consumer) {
    return Command.newBuilder().setHeartbeat(Heartbeat.newBuilder().setGroup(group).setConsumerId(consumer)).build();
  }

  public static Command heartbeat(String group, String consumer, com.google.protobuf.ByteString session, List<Grant> held, List<CheckpointEntry> commits) {
    Heartbeat.Builder b = Heartbeat.newBuilder().setGroup(group).setConsumerId(consumer).setSessionToken(session)
        .addAllCommits(commits);
    for (Grant g : held) {
      b.addHeld(PartitionRef.newBuilder().setTopic(g.getTopic()).setPartition(g.getPartition()));
    }
    return Command.newBuilder().setHeartbeat(b).build();
  }

  /** A heartbeat that reports reader errors (step 9). */
  public static Command heartbeat(String group, String consumer, com.google.protobuf.ByteString session,
      List<Grant> held, List<CheckpointEntry> commits, List<ReaderError> errors) {
    Command c = heartbeat(group, consumer, session, held, commits);
    return c.toBuilder().setHeartbeat(c.getHeartbeat().toBuilder().addAllErrors(errors)).build();
  }

  /** The reader of {@code grant} failed, {@code attempts} times in a row. */
  public static ReaderError error(Grant grant, String message, int attempts) {
    return ReaderError.newBuilder().setTopic(grant.getTopic()).setPartition(grant.getPartition())
        .setEpoch(grant.getEpoch()).setMessage(message).setAttempts(attempts).build();
  }

  public static Command commit(String group, String consumer, com.google.protobuf.ByteString session, List<CheckpointEntry> entries) {
    return Command.newBuilder().setCommitCheckpoints(CommitCheckpoints.newBuilder().setGroup(group)
        .setConsumerId(consumer).setSessionToken(session).addAllEntries(entries)).build();
  }

  /** A checkpoint of {@code grant} at {@code cursor}, with the reader's lag (records, ms). */
  public static CheckpointEntry entry(Grant grant, String cursor, long lag, long lagMs) {
    return CheckpointEntry.newBuilder().setTopic(grant.getTopic()).setPartition(grant.getPartition())
        .setEpoch(grant.getEpoch()).setCursor(cursor).setLag(lag).setLagMs(lagMs).build();
  }

  public static Command leave(String group, String consumer, com.google.protobuf.ByteString session) {
    return Command.newBuilder().setLeave(Leave.newBuilder().setGroup(group).setConsumerId(consumer)
        .setSessionToken(session)).build();
  }

  public static Command tick() {
    return Command.newBuilder().setTick(Tick.getDefaultInstance()).build();
  }
}
