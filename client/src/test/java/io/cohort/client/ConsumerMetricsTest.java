package io.cohort.client;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.DataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Step 9: a consumer given a Prometheus registry reports what it does there; the values move. */
class ConsumerMetricsTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  private final LocalCoordinator coordinator = new LocalCoordinator();
  private final InMemoryLog log = new InMemoryLog();
  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final List<GroupConsumer<InMemoryLog.Record>> consumers = new ArrayList<>();

  @AfterEach
  void tearDown() {
    consumers.forEach(GroupConsumer::close);
    coordinator.close();
  }

  /** The value of one data point whose labels include {@code labels}; 0 when there is none. */
  private double value(String name, Map<String, String> labels) {
    for (MetricSnapshot m : registry.scrape()) {
      if (!m.getMetadata().getPrometheusName().equals(name)) {
        continue;
      }
      double sum = 0;
      for (DataPointSnapshot d : m.getDataPoints()) {
        if (labels.entrySet().stream().allMatch(e -> e.getValue().equals(d.getLabels().get(e.getKey())))) {
          sum += d instanceof CounterSnapshot.CounterDataPointSnapshot c ? c.getValue()
              : d instanceof GaugeSnapshot.GaugeDataPointSnapshot g ? g.getValue()
              : ((HistogramSnapshot.HistogramDataPointSnapshot) d).getCount();
        }
      }
      return sum;
    }
    return 0;
  }

  private long series(String name) {
    return registry.scrape().stream().filter(m -> m.getMetadata().getPrometheusName().equals(name))
        .mapToLong(m -> m.getDataPoints().size()).sum();
  }

  @Test
  void recordsProcessingCommitsHandoffsErrorsAndLagMove() {
    coordinator.createTopic("t", 2);
    coordinator.createGroup("g", "t", 10_000, 100);
    log.append("t", 0, 10);
    log.append("t", 1, 4);
    List<Recorder.Processed> processed = new CopyOnWriteArrayList<>();
    Recorder recorder = new Recorder("a", new AtomicLong(), processed);
    AtomicBoolean failOnce = new AtomicBoolean(true);
    RecordProcessor<InMemoryLog.Record> processor = (grant, records) -> {
      if (grant.partition() == 0 && failOnce.compareAndSet(true, false)) {
        throw new IllegalStateException("first batch fails once");
      }
      recorder.process(grant, records);
    };
    GroupConsumer<InMemoryLog.Record> a = GroupConsumer.start(coordinator, ConsumerConfig.builder("g", "a")
        .maxBatchRecords(3).commitIntervalMs(50).pollWaitMs(20).errorBackoffMs(20).metrics(registry).build(),
        log, processor, recorder);
    consumers.add(a);
    await().atMost(TIMEOUT).until(() -> recorder.acked.getOrDefault(new PartitionId("t", 0), 0L) == 10L
        && recorder.acked.getOrDefault(new PartitionId("t", 1), 0L) == 4L);

    Map<String, String> me = Map.of("group", "g", "consumer", "a");
    assertEquals(14, value("cohort_consumer_records_processed", me));
    assertTrue(value("cohort_consumer_processing_seconds", me) >= 6, "one observation per batch (4 + 2)");
    assertEquals(1, value("cohort_consumer_errors", Map.of("consumer", "a", "kind", "process")));
    assertEquals(2, value("cohort_consumer_partitions_assigned", me));
    assertTrue(value("cohort_consumer_commit_latency_seconds", me) >= 1, "acknowledged commits are timed");
    assertEquals(0, value("cohort_consumer_partition_lag_records", Map.of("topic", "t", "partition", "0")));
    assertEquals(2, series("cohort_consumer_partition_lag_records"), "one per partition read");

    // A second consumer on the same registry shares the metrics; a handoff shows on both sides.
    Recorder rb = new Recorder("b", new AtomicLong(), processed);
    GroupConsumer<InMemoryLog.Record> b = GroupConsumer.start(coordinator, ConsumerConfig.builder("g", "b")
        .commitIntervalMs(50).pollWaitMs(20).metrics(registry).build(), log, rb, rb);
    consumers.add(b);
    await().atMost(TIMEOUT).until(() -> b.assignment().size() == 1);
    await().atMost(TIMEOUT).until(() ->
        value("cohort_consumer_partitions_revoked", Map.of("consumer", "a", "reason", "RELEASED")) == 1);
    assertEquals(1, value("cohort_consumer_partitions_assigned", Map.of("consumer", "b")));
    assertEquals(1, lagSeriesOf("a"), "the released partition's lag is no longer a's");

    a.close();
    assertEquals(1, value("cohort_consumer_partitions_revoked", Map.of("consumer", "a", "reason", "CLOSED")));
    assertEquals(0, lagSeriesOf("a"), "a released everything: no frozen lag");
  }

  private long lagSeriesOf(String consumer) {
    return registry.scrape().stream().filter(m -> m.getMetadata().getPrometheusName()
        .equals("cohort_consumer_partition_lag_records")).flatMap(m -> m.getDataPoints().stream())
        .filter(d -> consumer.equals(d.getLabels().get("consumer"))).count();
  }
}
