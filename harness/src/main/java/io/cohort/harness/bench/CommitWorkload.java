package io.cohort.harness.bench;

import io.cohort.client.CohortClient;
import io.cohort.statemachine.proto.CheckpointEntry;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.CommitCheckpoints;
import io.cohort.statemachine.proto.CreateGroup;
import io.cohort.statemachine.proto.Grant;
import io.cohort.statemachine.proto.Heartbeat;
import io.cohort.statemachine.proto.HeartbeatResult;
import io.cohort.statemachine.proto.PartitionRef;
import io.cohort.statemachine.proto.StartFrom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongFunction;

/**
 * The commit load: a topic, a group, one member holding every partition (session 10 min, renewed
 * every 30 s); command {@code seq} commits cursor {@code seq} to partition {@code seq % partitions}.
 */
record CommitWorkload(String group, LongFunction<Command> commands, ScheduledExecutorService keepAlive) {


  /** A topic of {@code partitions}, a group, one member holding them all; commits cycle over them. */
  static CommitWorkload setUp(Scratch scratch, int partitions) {
    CohortClient client = scratch.client();
    String topic = scratch.topicAndGroup("commit", partitions, CreateGroup.newBuilder()
        .setSessionTimeoutMs(600_000).setHeartbeatIntervalMs(200_000).setStartFrom(StartFrom.BEGIN));
    String group = topic;
    String consumer = "bench-c";
    HeartbeatResult hb = client.blocking().heartbeat(Heartbeat.newBuilder().setGroup(group).setConsumerId(consumer).build());
    com.google.protobuf.ByteString session = hb.getSessionToken();
    long[] epochs = new long[partitions];
    List<PartitionRef> held = new ArrayList<>();
    for (Grant g : hb.getGrantsList()) {
      epochs[g.getPartition()] = g.getEpoch();
      held.add(PartitionRef.newBuilder().setTopic(topic).setPartition(g.getPartition()).build());
    }
    if (held.size() != partitions) {
      throw new IllegalStateException("expected " + partitions + " grants, got " + held.size());
    }
    Heartbeat keep = Heartbeat.newBuilder().setGroup(group).setConsumerId(consumer).setSessionToken(session)
        .addAllHeld(held).build();
    client.blocking().heartbeat(keep);
    ScheduledExecutorService keepAlive = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "bench-keepalive");
      t.setDaemon(true);
      return t;
    });
    keepAlive.scheduleWithFixedDelay(() -> client.heartbeat(keep), 30, 30, TimeUnit.SECONDS);
    return new CommitWorkload(group, commands(topic, consumer, session, epochs), keepAlive);
  }

  /**
   * Commands of the same shape for a cluster that does not read them (the no-op baseline before any
   * Cohort phase ran): a name as long as {@link Scratch}'s, a 16-byte session token and epochs 1.
   */
  static CommitWorkload synthetic(int partitions) {
    String topic = "bench-" + "x".repeat(10) + "-commit";
    long[] epochs = new long[partitions];
    Arrays.fill(epochs, 1);
    return new CommitWorkload(topic, commands(topic, "bench-c", com.google.protobuf.ByteString.copyFrom(new byte[16]), epochs), null);
  }

  /** Command {@code seq} commits cursor {@code seq} to partition {@code seq % partitions} (the group is the topic). */
  private static LongFunction<Command> commands(String topic, String consumer, com.google.protobuf.ByteString session, long[] epochs) {
    int partitions = epochs.length;
    return seq -> {
      int p = (int) (seq % partitions);
      return Command.newBuilder().setCommitCheckpoints(CommitCheckpoints.newBuilder().setGroup(topic)
          .setConsumerId(consumer).setSessionToken(session).addEntries(CheckpointEntry.newBuilder().setTopic(topic)
              .setPartition(p).setEpoch(epochs[p]).setCursor(Long.toString(seq)))).build();
    };
  }

  /** Stops the session keep-alive (none for a synthetic workload). */
  void stop() {
    if (keepAlive != null) {
      keepAlive.shutdownNow();
    }
  }

}
