package io.cohort.harness.bench;

import io.cohort.client.Batch;
import io.cohort.client.CohortClient;
import io.cohort.client.ConsumerConfig;
import io.cohort.client.ConsumerListener;
import io.cohort.client.GroupConsumer;
import io.cohort.client.PartitionGrant;
import io.cohort.client.PartitionId;
import io.cohort.client.PartitionReader;
import io.cohort.client.RevokeReason;
import io.cohort.statemachine.proto.GroupPartitionView;
import io.cohort.statemachine.proto.GroupView;
import io.cohort.statemachine.proto.PartitionStatus;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/** In-JVM group members on an empty log, and what each reads now (from its listener), for the benches. */
final class Members {
  private final Map<String, Set<PartitionId>> reading = new ConcurrentHashMap<>();
  private volatile long lastAssignedNanos;
  private final long watchTimeoutMs;

  Members() {
    this(ConsumerConfig.DEFAULT_WATCH_TIMEOUT_MS);
  }

  /** @param watchTimeoutMs each member's watch timeout (R12); 0: no watch, the interval only */
  Members(long watchTimeoutMs) {
    this.watchTimeoutMs = watchTimeoutMs;
  }

  /** A log with no records: every poll waits a little and returns nothing. */
  static final PartitionReader<Object> EMPTY = (grant, cursor) -> (max, waitMs) -> {
    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(Math.min(waitMs, 50)));
    return Batch.of(List.of(), cursor == null ? "0" : cursor);
  };

  GroupConsumer<Object> start(CohortClient client, String group, String id) {
    reading.put(id, ConcurrentHashMap.newKeySet());
    return GroupConsumer.start(client, ConsumerConfig.builder(group, id).watchTimeoutMs(watchTimeoutMs).build(), EMPTY, (g, records) -> { },
        new ConsumerListener() {
          @Override
          public void onAssigned(PartitionGrant grant, String startCursor) {
            reading.get(id).add(grant.id());
            lastAssignedNanos = System.nanoTime();
          }

          @Override
          public void onRevoked(PartitionGrant grant, RevokeReason reason) {
            reading.get(id).remove(grant.id());
          }
        });
  }

  int count(String id) {
    Set<PartitionId> s = reading.get(id);
    return s == null ? 0 : s.size();
  }

  long lastAssignedNanos() {
    return lastAssignedNanos;
  }

  /** Holder -> number of partitions it holds (status HELD), from a describe. */
  static Map<String, Integer> held(GroupView g) {
    Map<String, Integer> m = new TreeMap<>();
    for (GroupPartitionView p : g.getPartitionsList()) {
      if (p.hasHolder() && p.getStatus() == PartitionStatus.HELD) {
        m.merge(p.getHolder(), 1, Integer::sum);
      }
    }
    return m;
  }

  static boolean anyReleasing(GroupView g) {
    return g.getPartitionsList().stream().anyMatch(p -> p.getStatus() == PartitionStatus.RELEASING);
  }

  /** Polls every {@code everyMs} until true (exceptions count as false); false after the timeout. */
  static boolean await(BooleanSupplier condition, Duration timeout, long everyMs) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      try {
        if (condition.getAsBoolean()) {
          return true;
        }
      } catch (RuntimeException e) {
        // not yet
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(everyMs));
    }
    return false;
  }
}
