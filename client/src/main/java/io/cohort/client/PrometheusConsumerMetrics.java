package io.cohort.client;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * {@link ConsumerMetrics} into a Prometheus registry, every series labelled with group and
 * consumer. The only class that touches the Prometheus library: loaded only when an application asks
 * for it. The metrics are registered once per registry and shared by the consumers using it.
 */
final class PrometheusConsumerMetrics implements ConsumerMetrics {
  /** Per registry (by identity; a registry the application drops is forgotten). */
  private static final Map<PrometheusRegistry, Instruments> REGISTERED = new WeakHashMap<>();

  private static final class Instruments {
    final Counter records;
    final Histogram processing;
    final Histogram commitLatency;
    final Counter assigned;
    final Counter revoked;
    final Counter errors;
    final Gauge lag;
    final Gauge lagSeconds;

    Instruments(PrometheusRegistry registry) {
      records = Counter.builder().name("cohort_consumer_records_processed_total")
          .help("Records processed (process returned)").labelNames("group", "consumer").withoutExemplars()
          .register(registry);
      processing = Histogram.builder().name("cohort_consumer_processing_seconds")
          .help("Time to process one batch").labelNames("group", "consumer").classicOnly()
          .classicUpperBounds(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
          .withoutExemplars().register(registry);
      commitLatency = Histogram.builder().name("cohort_consumer_commit_latency_seconds")
          .help("From sending a heartbeat or commit carrying checkpoints to its acknowledgement")
          .labelNames("group", "consumer").classicOnly()
          .classicUpperBounds(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)
          .withoutExemplars().register(registry);
      assigned = Counter.builder().name("cohort_consumer_partitions_assigned_total")
          .help("Readers started on a grant").labelNames("group", "consumer").withoutExemplars().register(registry);
      revoked = Counter.builder().name("cohort_consumer_partitions_revoked_total")
          .help("Readers stopped, by reason (RELEASED = handed over, FINISHED, RESET, FENCED, POISONED, ...)")
          .labelNames("group", "consumer", "reason").withoutExemplars().register(registry);
      errors = Counter.builder().name("cohort_consumer_errors_total")
          .help("Failures by kind: poll, process, poison_skipped, poison_stopped, commit_refused, request_failed, "
              + "shed, no_leader, fenced")
          .labelNames("group", "consumer", "kind").withoutExemplars().register(registry);
      lag = Gauge.builder().name("cohort_consumer_partition_lag_records")
          .help("Records behind, as the reader last saw it").labelNames("group", "consumer", "topic", "partition")
          .withoutExemplars().register(registry);
      lagSeconds = Gauge.builder().name("cohort_consumer_partition_lag_seconds")
          .help("Age of the newest record read, as the reader last saw it")
          .labelNames("group", "consumer", "topic", "partition").withoutExemplars().register(registry);
    }
  }

  private final Instruments m;
  private final String group;
  private final String consumer;

  private PrometheusConsumerMetrics(Instruments m, String group, String consumer) {
    this.m = m;
    this.group = group;
    this.consumer = consumer;
  }

  static ConsumerMetrics of(PrometheusRegistry registry, String group, String consumer) {
    Instruments m;
    synchronized (REGISTERED) {
      m = REGISTERED.computeIfAbsent(registry, Instruments::new);
    }
    return new PrometheusConsumerMetrics(m, group, consumer);
  }

  @Override
  public void processed(PartitionId partition, int records, long nanos) {
    m.records.labelValues(group, consumer).inc(records);
    m.processing.labelValues(group, consumer).observe(nanos / 1e9);
  }

  @Override
  public void failed(PartitionId partition, String kind) {
    m.errors.labelValues(group, consumer, kind).inc();
  }

  @Override
  public void committed(int entries, long nanos) {
    m.commitLatency.labelValues(group, consumer).observe(nanos / 1e9);
  }

  @Override
  public void assigned(PartitionId partition) {
    m.assigned.labelValues(group, consumer).inc();
  }

  @Override
  public void revoked(PartitionId partition, RevokeReason reason) {
    m.revoked.labelValues(group, consumer, reason.name()).inc();
    String p = Integer.toString(partition.partition());
    m.lag.remove(group, consumer, partition.topic(), p); // not ours any more: no frozen series
    m.lagSeconds.remove(group, consumer, partition.topic(), p);
  }

  @Override
  public void lag(PartitionId partition, Long lag, Long lagMs) {
    String p = Integer.toString(partition.partition());
    if (lag != null) {
      m.lag.labelValues(group, consumer, partition.topic(), p).set(lag);
    }
    if (lagMs != null) {
      m.lagSeconds.labelValues(group, consumer, partition.topic(), p).set(lagMs / 1e3);
    }
  }
}
