package io.cohort.statemachine.bench;

import io.cohort.statemachine.Coordinator;
import io.cohort.statemachine.FrozenState;
import io.cohort.statemachine.Limits;
import io.cohort.statemachine.proto.CheckpointEntry;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.CommitCheckpoints;
import io.cohort.statemachine.proto.CreateGroup;
import io.cohort.statemachine.proto.CreateTopic;
import io.cohort.statemachine.proto.Grant;
import io.cohort.statemachine.proto.Heartbeat;
import io.cohort.statemachine.proto.HeartbeatResult;
import io.cohort.statemachine.proto.LimitsRecord;
import io.cohort.statemachine.proto.Result;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.ref.Reference;

/**
 * Heap bytes per (group, partition) slot with a checkpoint, and per member (R9), as used heap after
 * a full GC before and after building the state through {@code Coordinator.apply()}; then what a
 * snapshot freeze (FrozenState) adds while it is held. Run with
 * {@code scripts/bench-apply.sh --memory 100000 1000000}.
 *
 * <p>Slots: topics of 10,000 partitions, one group per topic ("own topic") or ten groups on each
 * topic ("shared topics"); one member per group holding every partition; every partition has a
 * committed checkpoint (a 10-digit cursor, lag and lagMs), as a consumer leaves it. Members: groups
 * of 1,000 members over a one-partition topic.
 */
public final class MemoryFootprint {
  private static final int PARTITIONS_PER_TOPIC = 10_000;
  private static final Limits LIMITS = Limits.DEFAULTS.with(LimitsRecord.newBuilder().setMaxSlots(100_000_000)
      .setMaxMembers(10_000_000).setMaxGroups(1_000_000).setMaxTopics(1_000_000).build());

  private Coordinator coordinator = new Coordinator(LIMITS);
  private long index;

  public static void main(String[] args) {
    System.out.printf("JVM %s, max heap %d MB, %s%n", System.getProperty("java.version"),
        Runtime.getRuntime().maxMemory() >> 20, ManagementFactory.getRuntimeMXBean().getInputArguments());
    for (String a : args) {
      int slots = Integer.parseInt(a);
      new MemoryFootprint().slots("own topic", slots, 1);
      new MemoryFootprint().slots("shared topics", slots, 10);
    }
    new MemoryFootprint().members(100_000);
  }

  private Result apply(Command c) {
    Result r = coordinator.apply(c, ++index, 1, 1_000_000 + index);
    if (r.getCode() != Code.OK) {
      throw new IllegalStateException(r.getMessage());
    }
    return r;
  }

  private void slots(String layout, int slots, int groupsPerTopic) {
    long before = usedAfterGc();
    int groups = slots / PARTITIONS_PER_TOPIC;
    int topics = Math.max(1, groups / groupsPerTopic);
    for (int t = 0; t < topics; t++) {
      apply(Command.newBuilder().setCreateTopic(CreateTopic.newBuilder().setTopic("topic-" + t)
          .setPartitions(PARTITIONS_PER_TOPIC)).build());
    }
    long cursor = 1_000_000_000L;
    for (int g = 0; g < groups; g++) {
      String group = "group-" + g;
      apply(Command.newBuilder().setCreateGroup(CreateGroup.newBuilder().setGroup(group)
          .addTopics("topic-" + (g % topics)).setSessionTimeoutMs(600_000).setHeartbeatIntervalMs(1000)).build());
      HeartbeatResult hb = apply(Command.newBuilder().setHeartbeat(Heartbeat.newBuilder().setGroup(group)
          .setConsumerId("consumer-" + g)).build()).getHeartbeat();
      CommitCheckpoints.Builder commit = CommitCheckpoints.newBuilder().setGroup(group)
          .setConsumerId("consumer-" + g).setSession(hb.getSession());
      for (Grant grant : hb.getGrantsList()) {
        commit.addEntries(CheckpointEntry.newBuilder().setTopic(grant.getTopic()).setPartition(grant.getPartition())
            .setEpoch(grant.getEpoch()).setCursor(Long.toString(cursor++)).setLag(17).setLagMs(250));
      }
      apply(Command.newBuilder().setCommitCheckpoints(commit).build());
    }
    long built = usedAfterGc();
    for (int i = 0; i < 3; i++) {
      Reference.reachabilityFence(coordinator.freeze()); // the first ones touch fresh heap pages
    }
    long[] freezeUs = new long[7];
    for (int i = 0; i < freezeUs.length; i++) {
      long start = System.nanoTime();
      Reference.reachabilityFence(coordinator.freeze());
      freezeUs[i] = (System.nanoTime() - start) / 1_000;
      if (Boolean.getBoolean("freeze.trace")) {
        System.out.println("    freeze " + i + ": " + freezeUs[i] + " us");
      }
    }
    java.util.Arrays.sort(freezeUs);
    FrozenState frozen = coordinator.freeze();
    long withFrozen = usedAfterGc();
    System.out.printf("%,d slots (%s: %d topics, %d groups): state %,d MB = %d bytes per slot;"
            + " a frozen copy adds %,d MB = %d bytes per slot%n", slots, layout, topics, groups,
        (built - before) >> 20, (built - before) / slots, (withFrozen - built) >> 20, (withFrozen - built) / slots);
    System.out.printf("    freeze (the apply pause of a snapshot): median %.1f ms, max %.1f ms of 7 after 3 warm-up%n",
        freezeUs[3] / 1000.0, freezeUs[6] / 1000.0);
    Reference.reachabilityFence(frozen);
    Reference.reachabilityFence(coordinator);
  }

  private void members(int members) {
    apply(Command.newBuilder().setCreateTopic(CreateTopic.newBuilder().setTopic("one").setPartitions(1)).build());
    long before = usedAfterGc();
    int perGroup = 1_000;
    for (int g = 0; g < members / perGroup; g++) {
      String group = "members-" + g;
      apply(Command.newBuilder().setCreateGroup(CreateGroup.newBuilder().setGroup(group).addTopics("one")
          .setSessionTimeoutMs(600_000).setHeartbeatIntervalMs(1000)).build());
      for (int m = 0; m < perGroup; m++) {
        apply(Command.newBuilder().setHeartbeat(Heartbeat.newBuilder().setGroup(group)
            .setConsumerId(String.format("consumer-%06d", m))).build());
      }
    }
    long built = usedAfterGc();
    System.out.printf("%,d members (groups of %,d, one slot each): %,d MB = %d bytes per member (slots included)%n",
        members, perGroup, (built - before) >> 20, (built - before) / members);
    Reference.reachabilityFence(coordinator);
  }

  private static long usedAfterGc() {
    MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
    long used = Long.MAX_VALUE;
    for (int i = 0; i < 5; i++) {
      System.gc();
      used = Math.min(used, memory.getHeapMemoryUsage().getUsed());
    }
    return used;
  }
}
