package io.cohort.client;

import static io.cohort.client.ClusterFixture.TIMEOUT;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cohort.statemachine.proto.CheckpointView;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Real consumers ({@link GroupConsumer} over the {@link InMemoryLog}, which records any two readers
 * of one partition) committing throughout a cluster change, and what must hold afterwards: no
 * acknowledged commit lost, never two readers, no record skipped, and no healthy consumer expired
 * (each keeps the session it started with).
 */
final class ConsumerLoad implements AutoCloseable {
  private static final long MAX_RECORDS_PER_PARTITION = 200_000;

  private final ClusterFixture fx;
  private final String topic;
  private final String group;
  private final int partitions;
  private final List<Recorder> recorders = new ArrayList<>();
  private final List<GroupConsumer<InMemoryLog.Record>> consumers = new ArrayList<>();
  private final Map<String, com.google.protobuf.ByteString> sessions = new HashMap<>();
  private final ScheduledExecutorService producer = Executors.newSingleThreadScheduledExecutor();
  private final AtomicLong produced = new AtomicLong();

  /** A topic, a group (session 10 s, heartbeat 500 ms), a producer and {@code consumers} consumers. */
  ConsumerLoad(ClusterFixture fx, String name, int partitions, int consumerCount) {
    this.fx = fx;
    this.topic = name;
    this.group = name + "-g";
    this.partitions = partitions;
    fx.admin.blocking().createTopic(topic, partitions);
    fx.createGroup(group, topic, false, 10_000, 500);
    producer.scheduleAtFixedRate(() -> {
      if (produced.get() < MAX_RECORDS_PER_PARTITION) {
        for (int p = 0; p < partitions; p++) {
          fx.log.append(topic, p, 5);
        }
        produced.addAndGet(5);
      }
    }, 0, 20, TimeUnit.MILLISECONDS);
    for (int i = 0; i < consumerCount; i++) {
      String id = "c" + i;
      Recorder r = fx.recorder(id);
      recorders.add(r);
      consumers.add(fx.consumer(ConsumerConfig.builder(group, id).commitIntervalMs(100).pollWaitMs(20).build(), r));
    }
    fx.awaitBalanced(group, consumers);
    for (GroupConsumer<?> c : consumers) {
      sessions.put(c.config().consumerId(), c.session());
    }
  }

  /** Waits until every partition's acknowledged cursor moved on by at least {@code records}. */
  void awaitProgress(long records) {
    Map<PartitionId, Long> mark = acked();
    await("commits go on").atMost(TIMEOUT).until(() -> {
      Map<PartitionId, Long> now = acked();
      if (now.size() < partitions) {
        return false;
      }
      for (Map.Entry<PartitionId, Long> e : now.entrySet()) {
        if (e.getValue() < mark.getOrDefault(e.getKey(), 0L) + records) {
          return false;
        }
      }
      return true;
    });
  }

  /** Highest acknowledged cursor per partition, over every consumer. */
  Map<PartitionId, Long> acked() {
    Map<PartitionId, Long> out = new HashMap<>();
    for (Recorder r : recorders) {
      r.acked.forEach((p, c) -> out.merge(p, c, Math::max));
    }
    return out;
  }

  /** Stops producing, closes the consumers (they leave after their final commits), checks. */
  void finishAndCheck() {
    producer.shutdownNow();
    Map<String, com.google.protobuf.ByteString> sessionsAtEnd = new HashMap<>();
    for (GroupConsumer<?> c : consumers) {
      sessionsAtEnd.put(c.config().consumerId(), c.session());
    }
    for (GroupConsumer<?> c : consumers) {
      c.close();
    }
    Map<PartitionId, Long> acked = acked();
    Map<PartitionId, Long> stored = new HashMap<>();
    for (CheckpointView c : fx.admin.blocking().listCheckpoints(group).getCheckpointsList()) {
      stored.put(new PartitionId(c.getTopic(), c.getPartition()), Long.parseLong(c.getCursor()));
    }
    assertEquals(partitions, acked.size(), "every partition had acknowledged commits");
    acked.forEach((p, c) -> assertTrue(stored.getOrDefault(p, -1L) >= c,
        "no acknowledged commit lost: " + p + " acknowledged " + c + ", stored " + stored.get(p)));
    assertEquals(List.of(), fx.log.doubleReaders, "R2: never two readers of one partition");
    for (int p = 0; p < partitions; p++) {
      PartitionId id = new PartitionId(topic, p);
      Set<Long> offsets = new TreeSet<>();
      fx.processed.stream().filter(r -> r.partition().equals(id)).forEach(r -> offsets.add(r.offset()));
      long end = stored.get(id);
      for (long o = 0; o < end; o++) {
        assertTrue(offsets.contains(o), id + " skipped offset " + o);
      }
    }
    for (Recorder r : recorders) {
      for (RevokeReason bad : List.of(RevokeReason.SESSION_LOST, RevokeReason.CONSUMER_FENCED, RevokeReason.FENCED)) {
        assertEquals(0, r.revoked(bad), "no healthy consumer loses its partitions as " + bad + ": " + r.events);
      }
      assertTrue(!r.fenced, "no consumer fenced");
    }
    assertEquals(sessions, sessionsAtEnd, "no healthy consumer expired: each kept its session");
  }

  @Override
  public void close() {
    producer.shutdownNow();
  }
}
