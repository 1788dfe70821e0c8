package io.cohort.client;

import io.cohort.statemachine.proto.StartFrom;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The snippets of client/USAGE.md, compiled so that they keep matching the API, and run by
 * {@code UsageExampleTest} and, against a cluster, harness's {@code GroupConsumerClusterTest.usageExample_*}.
 */
final class UsageExample {
  private static final Logger log = LoggerFactory.getLogger(UsageExample.class);

  /** The application's log store, as the example assumes it. */
  interface Store {
    long size(PartitionId id);

    List<String> read(PartitionId id, long from, int max, long waitMs) throws Exception;

    boolean sealedAt(PartitionId id, long position);
  }

  /** Where the acknowledge-later example writes, asynchronously. */
  interface Sink {
    CompletableFuture<Void> writeAsync(List<String> records);
  }

  /** The application's record handling. */
  static final class App {
    static final List<String> HANDLED = new CopyOnWriteArrayList<>();

    static void handle(String record) {
      log.debug("{}", record);
      HANDLED.add(record);
    }
  }

  private UsageExample() {}

  /** The first snippet (with the client's configuration as a parameter). */
  static void run(CohortClientConfig config, Store store, CountDownLatch shutdown) throws Exception {
    // A reader for your log store: cursors are your positions as strings ("next offset" here).
    PartitionReader<String> reader = (grant, cursor) -> new PartitionReader.Session<>() {
      long next = cursor != null ? Long.parseLong(cursor) : grant.startFrom() == StartFrom.END ? store.size(grant.id()) : 0;
      public Batch<String> poll(int max, long waitMs) throws Exception {
        List<String> records = store.read(grant.id(), next, max, waitMs);   // waits up to waitMs
        next += records.size();
        return new Batch<>(records, Long.toString(next), store.sealedAt(grant.id(), next), null, null);
      }
    };
    ConsumerListener listener = new ConsumerListener() {
      public void onAssigned(PartitionGrant g, String from) { log.info("reading {} epoch {} from {}", g.id(), g.epoch(), from); }
      public void onRevoked(PartitionGrant g, RevokeReason why) { log.info("stopped {}: {}", g.id(), why); }
    };
    try (CohortClient client = CohortClient.connect(config);
         GroupConsumer<String> consumer = GroupConsumer.start(client, ConsumerConfig.builder("analytics", "worker-1").build(),
             reader, (grant, records) -> records.forEach(App::handle), listener)) {
      shutdown.await();   // close() stops the readers, commits their last positions and leaves the group
    }
  }

  /** The deadline snippet. */
  static RecordProcessor<String> careful() {
    RecordProcessor<String> careful = RecordProcessor.withContext((ctx, records) -> {
      for (String r : records) {
        if (ctx.expired() || ctx.stopRequested()) {   // deadline passed, or the partition is being moved
          throw new IllegalStateException("gave up on " + ctx.grant().id());   // the batch counts as not processed
        }
        App.handle(r);
      }
    });
    return careful;
  }

  /** The pause snippet. */
  static boolean pauseHot(GroupConsumer<String> consumer, Runnable drainDownstream) {
    PartitionId hot = new PartitionId("clicks", 3);
    if (consumer.pause(hot)) {          // false when this consumer is not reading it
      drainDownstream.run();            // the grant is kept and heartbeated; other partitions read on
      consumer.resume(hot);             // reads on from the same position: nothing skipped or repeated
      return true;
    }
    return false;
  }

  /** The acknowledge-later snippet: its config and processor. */
  static GroupConsumer<String> acknowledgingLater(CohortClient client, PartitionReader<String> reader, Sink sink) {
    ConsumerConfig config = ConsumerConfig.builder("analytics", "worker-1").autoCommit(false).build();
    RecordProcessor<String> async = RecordProcessor.withContext((ctx, records) ->
        sink.writeAsync(records).thenRun(() -> ctx.acknowledge(ctx.nextCursor())));   // commit once written
    return GroupConsumer.start(client, config, reader, async);
  }

  /** A store in memory for running the examples; positions are offsets. */
  /** The poison policies snippet: retry, skip, stop. */
  static List<ConsumerConfig> poisonPolicies() {
    ConsumerConfig retrying = ConsumerConfig.builder("analytics", "worker-1").build();   // retry() is the default
    ConsumerConfig skipping = ConsumerConfig.builder("analytics", "worker-1")
        .poisonPolicy(PoisonPolicy.skipAfter(5)).build();   // after 5 failures in a row: skip the batch, report it
    ConsumerConfig stopping = ConsumerConfig.builder("analytics", "worker-1")
        .poisonPolicy(PoisonPolicy.stopAfter(5)).build();   // after 5: stop reading the partition and release it
    return List.of(retrying, skipping, stopping);
  }

  /** The metrics snippet. */
  static ConsumerConfig withMetrics() {
    ConsumerConfig config = ConsumerConfig.builder("analytics", "worker-1")
        .metrics(PrometheusRegistry.defaultRegistry).build();   // the registry your exporter serves
    return config;
  }

  static final class MemoryStore implements Store {
    private final Map<PartitionId, List<String>> data = new ConcurrentHashMap<>();

    synchronized void append(PartitionId id, String... records) {
      data.computeIfAbsent(id, k -> new CopyOnWriteArrayList<>()).addAll(List.of(records));
      notifyAll();
    }

    @Override
    public synchronized long size(PartitionId id) {
      return data.getOrDefault(id, List.of()).size();
    }

    @Override
    public synchronized List<String> read(PartitionId id, long from, int max, long waitMs) throws InterruptedException {
      long until = System.nanoTime() + waitMs * 1_000_000;
      while (size(id) <= from && System.nanoTime() < until) {
        wait(Math.max(1, (until - System.nanoTime()) / 1_000_000));
      }
      List<String> all = data.getOrDefault(id, List.of());
      return new ArrayList<>(all.subList((int) Math.min(from, all.size()), (int) Math.min(all.size(), from + max)));
    }

    @Override
    public boolean sealedAt(PartitionId id, long position) {
      return false;
    }

    /** The first snippet's reader, for the other examples. */
    PartitionReader<String> reader() {
      return (grant, cursor) -> new PartitionReader.Session<>() {
        long next = cursor != null ? Long.parseLong(cursor) : 0;

        @Override
        public Batch<String> poll(int max, long waitMs) throws Exception {
          List<String> records = read(grant.id(), next, max, waitMs);
          next += records.size();
          return Batch.of(records, Long.toString(next));
        }
      };
    }
  }
}
