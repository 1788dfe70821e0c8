package io.cohort.client;

import static org.awaitility.Awaitility.await;

import io.cohort.server.testing.MiniCluster;
import io.cohort.statemachine.proto.CreateGroup;
import io.cohort.statemachine.proto.GroupPartitionView;
import io.cohort.statemachine.proto.GroupView;
import io.cohort.statemachine.proto.PartitionStatus;
import io.cohort.statemachine.proto.StartFrom;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/** A three-node MiniCluster, an admin client, an in-memory log and the consumers of one test class. */
final class ClusterFixture implements AutoCloseable {
  static final Duration TIMEOUT = Duration.ofSeconds(90);

  final MiniCluster cluster;
  final CohortClient admin;
  final InMemoryLog log = new InMemoryLog();
  final AtomicLong sequence = new AtomicLong();
  final List<Recorder.Processed> processed = new CopyOnWriteArrayList<>();
  private final List<GroupConsumer<?>> consumers = new CopyOnWriteArrayList<>();
  private final List<CohortClient> clients = new CopyOnWriteArrayList<>();

  ClusterFixture(Path dir) throws IOException {
    this(dir, false);
  }

  /** @param insecure plaintext (only for tests that must read the wire, e.g. a proxy that drops replies) */
  ClusterFixture(Path dir, boolean insecure) throws IOException {
    this.cluster = insecure ? MiniCluster.builder(3, dir).insecure().start() : MiniCluster.start(3, dir);
    this.admin = newClient();
    cluster.leaderId();
  }

  CohortClient newClient() {
    // the default group id: client and servers must agree on it without being told
    CohortClientConfig.Builder b = CohortClientConfig.builder(cluster.peers());
    CohortClient c = CohortClient.connect((cluster.isSecure() ? b.tls(cluster.adminTls()) : b.insecure())
        .callTimeout(Duration.ofSeconds(20)).build());
    clients.add(c);
    return c;
  }

  void createGroup(String group, String topic, boolean order, long sessionTimeoutMs, long heartbeatMs) {
    admin.blocking().createGroup(CreateGroup.newBuilder().setGroup(group).addTopics(topic).setOrder(order)
        .setSessionTimeoutMs(sessionTimeoutMs).setHeartbeatIntervalMs(heartbeatMs)
        .setStartFrom(StartFrom.BEGIN).build());
  }

  /** A consumer with its own CohortClient (as in its own process). */
  GroupConsumer<InMemoryLog.Record> consumer(String group, String id, Recorder recorder) {
    return consumer(ConsumerConfig.builder(group, id).commitIntervalMs(200).pollWaitMs(50).build(), recorder);
  }

  GroupConsumer<InMemoryLog.Record> consumer(ConsumerConfig config, Recorder recorder) {
    return consumer(config, recorder, recorder);
  }

  GroupConsumer<InMemoryLog.Record> consumer(ConsumerConfig config, RecordProcessor<InMemoryLog.Record> processor,
      ConsumerListener listener) {
    GroupConsumer<InMemoryLog.Record> c = GroupConsumer.start(newClient(), config, log, processor, listener);
    consumers.add(c);
    return c;
  }

  /** Closes this consumer with the others. */
  void track(GroupConsumer<?> c) {
    consumers.add(c);
  }

  Recorder recorder(String id) {
    return new Recorder(id, sequence, processed);
  }

  GroupView describe(String group) {
    return admin.blocking().describeGroup(group);
  }

  /** Holder per partition, as the coordinator sees it. */
  static Map<Integer, String> holders(GroupView view) {
    Map<Integer, String> out = new TreeMap<>();
    for (GroupPartitionView p : view.getPartitionsList()) {
      out.put(p.getPartition(), p.hasHolder() ? p.getHolder() : null);
    }
    return out;
  }

  /**
   * Waits until every active partition is HELD, the given consumers' counts differ by at most one
   * (R4, unit weights) and each consumer reads exactly what the coordinator says it holds.
   */
  GroupView awaitBalanced(String group, Collection<GroupConsumer<InMemoryLog.Record>> members) {
    return await("balanced " + group).atMost(TIMEOUT).pollInterval(Duration.ofMillis(100))
        .until(() -> describe(group), v -> isBalanced(v, members));
  }

  static boolean isBalanced(GroupView v, Collection<GroupConsumer<InMemoryLog.Record>> members) {
    Map<String, Set<Integer>> byHolder = new TreeMap<>();
    for (GroupConsumer<?> c : members) {
      byHolder.put(c.config().consumerId(), new TreeSet<>());
    }
    for (GroupPartitionView p : v.getPartitionsList()) {
      if (p.getStatus() == PartitionStatus.FINISHED) {
        continue;
      }
      if (p.getStatus() != PartitionStatus.HELD || !byHolder.containsKey(p.getHolder())) {
        return false;
      }
      byHolder.get(p.getHolder()).add(p.getPartition());
    }
    int min = Integer.MAX_VALUE;
    int max = 0;
    for (Set<Integer> s : byHolder.values()) {
      min = Math.min(min, s.size());
      max = Math.max(max, s.size());
    }
    if (max - min > 1) {
      return false;
    }
    for (GroupConsumer<?> c : members) {
      Set<Integer> reading = new TreeSet<>();
      c.assignment().forEach(p -> reading.add(p.partition()));
      if (!reading.equals(byHolder.get(c.config().consumerId()))) {
        return false;
      }
    }
    return true;
  }

  void closeConsumers() {
    List<GroupConsumer<?>> all = new ArrayList<>(consumers);
    consumers.clear();
    for (GroupConsumer<?> c : all) {
      c.close();
    }
  }

  @Override
  public void close() {
    closeConsumers();
    for (CohortClient c : clients) {
      c.close();
    }
    cluster.close();
  }
}
