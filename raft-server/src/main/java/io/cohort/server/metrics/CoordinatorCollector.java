package io.cohort.server.metrics;

import io.cohort.statemachine.Health;
import io.cohort.statemachine.MetricsView;
import io.cohort.statemachine.proto.PartitionStatus;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The coordinator's state at scrape time: groups, members, partitions by status, and per-partition
 * lag signals (step 9). The state lock is held only while {@link MetricsView} walks the slots once;
 * the series are built afterwards.
 *
 * <p>Per-partition series (group, topic, partition) cover unfinished partitions only, at most
 * {@link MetricsSettings#maxSeriesPerMetric} per metric, in (group, topic, partition) order; the
 * rest are dropped with one WARN line each time the cap starts to bite and counted.
 *
 * <p>{@code stalled}, {@code lag_stale} and {@code reader_failing} are decided by the state
 * machine's {@link io.cohort.statemachine.Health} with {@code --stall-after-ms}, the same decision
 * `group describe` and `checkpoint list` show: a live holder behind (or failing) with no progress for
 * that long is stalled; a known lag with no live holder is stale. Ages use the state machine's time,
 * which the leader's ticks advance while any group has members.
 */
final class CoordinatorCollector implements MultiCollector {
  private static final Logger LOG = LoggerFactory.getLogger(CoordinatorCollector.class);
  private static final List<PartitionStatus> STATUSES = PartitionStatus.getDescriptor().getValues().stream()
      .map(v -> PartitionStatus.forNumber(v.getNumber()))
      .filter(s -> s != PartitionStatus.PARTITION_STATUS_UNSPECIFIED).toList();

  private final IntFunction<MetricsView.Summary> summary;
  private final MetricsSettings settings;
  private final String node;
  private final LongAdder seriesDropped = new LongAdder();
  private final AtomicBoolean overCap = new AtomicBoolean();

  /** @param summary the state machine's {@code metricsView(maxPartitions, stallAfterMs)} for a cap */
  CoordinatorCollector(IntFunction<MetricsView.Summary> summary, MetricsSettings settings, String node) {
    this.summary = summary;
    this.settings = settings;
    this.node = node;
  }

  @Override
  public MetricSnapshots collect() {
    MetricsView.Summary s = summary.apply(settings.maxSeriesPerMetric());
    noteCap(s.partitionsOmitted());
    List<io.prometheus.metrics.model.snapshots.MetricSnapshot> out = new ArrayList<>();
    out.add(gauge("cohort_topics", "Topics", Labels.EMPTY, s.topics()));
    out.add(gauge("cohort_groups", "Consumer groups", Labels.EMPTY, s.groups().size()));
    out.add(gauge("cohort_state_time_seconds", "The state machine's time (R6): ages are measured against it",
        Labels.EMPTY, s.nowMs() / 1e3));

    GaugeSnapshot.Builder members = GaugeSnapshot.builder().name("cohort_members").help("Live members, by group");
    GaugeSnapshot.Builder partitions = GaugeSnapshot.builder().name("cohort_partitions")
        .help("Partitions by group and status, as group describe shows them");
    for (MetricsView.GroupCounts g : s.groups()) {
      members.dataPoint(point(Labels.of("group", g.group()), g.members()));
      for (PartitionStatus status : STATUSES) {
        partitions.dataPoint(point(Labels.of("group", g.group(), "status", status.name()), g.partitions(status)));
      }
    }
    out.add(members.build());
    out.add(partitions.build());
    out.addAll(partitionSeries(s));
    out.add(gauge("cohort_metrics_partitions_omitted",
        "Unfinished partitions left out of the per-partition series at the last scrape (the cap)",
        Labels.EMPTY, s.partitionsOmitted()));
    out.add(CounterSnapshot.builder().name("cohort_metrics_series_dropped")
        .help("Per-partition series dropped by the cap, per per-partition metric, summed over scrapes")
        .dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder().value(seriesDropped.sum()).build()).build());
    return new MetricSnapshots(out);
  }

  private List<GaugeSnapshot> partitionSeries(MetricsView.Summary s) {
    GaugeSnapshot.Builder lag = GaugeSnapshot.builder().name("cohort_partition_lag_records")
        .help("Records behind, as the reader last reported with a commit (R3)");
    GaugeSnapshot.Builder lagSeconds = GaugeSnapshot.builder().name("cohort_partition_lag_seconds")
        .help("Age of the newest record read, as the reader last reported with a commit (R3)");
    GaugeSnapshot.Builder stale = GaugeSnapshot.builder().name("cohort_partition_lag_stale")
        .help("1 when the partition has no holder: its reported lag is frozen, not current");
    GaugeSnapshot.Builder checkpointAge = GaugeSnapshot.builder().name("cohort_partition_checkpoint_age_seconds")
        .help("State machine time since the checkpoint was committed or reset");
    GaugeSnapshot.Builder heartbeatAge = GaugeSnapshot.builder().name("cohort_partition_holder_heartbeat_age_seconds")
        .help("State machine time since the holder's last heartbeat");
    GaugeSnapshot.Builder stalled = GaugeSnapshot.builder().name("cohort_partition_stalled")
        .help("1 when a live holder, behind or failing, has made no progress for --stall-after-ms");
    GaugeSnapshot.Builder failing = GaugeSnapshot.builder().name("cohort_partition_reader_failing")
        .help("1 when the holder reported a reader error after its last commit and keeps retrying");
    for (MetricsView.PartitionSample p : s.partitions()) {
      Health.Verdict v = p.health();
      Labels labels = Labels.of("group", p.group(), "topic", p.topic(), "partition", Integer.toString(p.partition()));
      boolean lagKnown = p.lag() >= 0 || p.lagMs() >= 0;
      if (p.lag() >= 0) {
        lag.dataPoint(point(labels, p.lag()));
      }
      if (p.lagMs() >= 0) {
        lagSeconds.dataPoint(point(labels, p.lagMs() / 1e3));
      }
      if (lagKnown) {
        stale.dataPoint(point(labels, v.lagStale() ? 1 : 0));
      }
      if (v.checkpointAgeMs() >= 0) {
        checkpointAge.dataPoint(point(labels, v.checkpointAgeMs() / 1e3));
      }
      if (p.holder() != null) {
        heartbeatAge.dataPoint(point(labels, v.holderHeartbeatAgeMs() / 1e3));
        stalled.dataPoint(point(labels, v.stalled() ? 1 : 0));
        failing.dataPoint(point(labels, v.failing() ? 1 : 0));
      }
    }
    return List.of(lag.build(), lagSeconds.build(), stale.build(), checkpointAge.build(), heartbeatAge.build(),
        stalled.build(), failing.build());
  }

  private void noteCap(long omitted) {
    if (omitted > 0) {
      seriesDropped.add(omitted);
      if (overCap.compareAndSet(false, true)) {
        LOG.warn("[{}] metrics: more than {} unfinished partitions; {} left out of the cohort_partition_* series "
            + "(raise --metrics-max-series, or read them with group describe)", node,
            settings.maxSeriesPerMetric(), omitted);
      }
    } else {
      overCap.set(false);
    }
  }

  static GaugeSnapshot gauge(String name, String help, Labels labels, double value) {
    return GaugeSnapshot.builder().name(name).help(help).dataPoint(point(labels, value)).build();
  }

  static GaugeSnapshot.GaugeDataPointSnapshot point(Labels labels, double value) {
    return GaugeSnapshot.GaugeDataPointSnapshot.builder().labels(labels).value(value).build();
  }
}
