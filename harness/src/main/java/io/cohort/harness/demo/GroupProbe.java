package io.cohort.harness.demo;

import io.cohort.client.CohortClient;
import io.cohort.statemachine.proto.GroupPartitionView;
import io.cohort.statemachine.proto.GroupView;
import io.cohort.statemachine.proto.PartitionStatus;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/** What the demo asks the cluster about a group, and waiting for a condition on it. */
final class GroupProbe {
  private static final Duration PATIENCE = Duration.ofSeconds(60);

  private final CohortClient client;

  GroupProbe(CohortClient client) {
    this.client = client;
  }

  GroupView describe(String group) {
    return client.blocking().describeGroup(group);
  }

  /** Each member and the partitions it holds (not those it is releasing). */
  Map<String, TreeSet<Integer>> holders(String group) {
    Map<String, TreeSet<Integer>> out = new TreeMap<>();
    GroupView g = describe(group);
    g.getMembersList().forEach(m -> out.put(m.getConsumerId(), new TreeSet<>()));
    for (GroupPartitionView p : g.getPartitionsList()) {
      if (p.hasHolder() && p.getStatus() == PartitionStatus.HELD) {
        out.get(p.getHolder()).add(p.getPartition());
      }
    }
    return out;
  }

  /** Waits until each named consumer holds that many partitions and no handoff is in flight. */
  void awaitHeld(String group, Map<String, Integer> counts) {
    await(counts + " in " + group, () -> {
      GroupView g = describe(group);
      if (g.getMembersCount() != counts.size()
          || g.getPartitionsList().stream().anyMatch(p -> p.getStatus() == PartitionStatus.RELEASING)) {
        return false;
      }
      Map<String, TreeSet<Integer>> h = holders(group);
      return counts.entrySet().stream()
          .allMatch(e -> h.getOrDefault(e.getKey(), new TreeSet<>()).size() == e.getValue());
    });
  }

  GroupPartitionView partition(String group, String topic, int partition) {
    for (GroupPartitionView p : describe(group).getPartitionsList()) {
      if (p.getTopic().equals(topic) && p.getPartition() == partition) {
        return p;
      }
    }
    throw new IllegalStateException("no " + topic + "/" + partition + " in " + group);
  }

  PartitionStatus status(String group, String topic, int partition) {
    return partition(group, topic, partition).getStatus();
  }

  String cursor(String group, String topic, int partition) {
    GroupPartitionView p = partition(group, topic, partition);
    return p.hasCheckpoint() ? p.getCheckpoint().getCursor() : "";
  }

  /** Polls until the condition holds; a failing call counts as "not yet" (a leader may be changing). */
  static void await(String what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + PATIENCE.toNanos();
    while (true) {
      try {
        if (condition.getAsBoolean()) {
          return;
        }
      } catch (RuntimeException e) {
        // the cluster may be electing a leader; ask again
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("timed out after " + PATIENCE.toSeconds() + " s waiting for " + what);
      }
      sleepMs(100);
    }
  }

  static void sleepMs(long ms) {
    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(ms));
  }
}
