package io.cohort.server.metrics;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.DataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.util.ArrayList;
import java.util.List;

/** One scrape of a registry in-process (no HTTP), for unit tests. Names without {@code _total}. */
final class Samples {
  private final MetricSnapshots snapshots;

  private Samples(MetricSnapshots snapshots) {
    this.snapshots = snapshots;
  }

  static Samples of(PrometheusRegistry registry) {
    return new Samples(registry.scrape());
  }

  /** Series of {@code family} whose labels include {@code labels} (name, value, ...). */
  List<DataPointSnapshot> series(String family, String... labels) {
    List<DataPointSnapshot> out = new ArrayList<>();
    for (MetricSnapshot s : snapshots) {
      if (!s.getMetadata().getPrometheusName().equals(family)) {
        continue;
      }
      for (DataPointSnapshot p : s.getDataPoints()) {
        boolean all = true;
        for (int i = 0; i < labels.length; i += 2) {
          all &= labels[i + 1].equals(p.getLabels().get(labels[i]));
        }
        if (all) {
          out.add(p);
        }
      }
    }
    return out;
  }

  /** The value of the one matching series (a histogram's count), or 0 when none matches. */
  double value(String family, String... labels) {
    List<DataPointSnapshot> found = series(family, labels);
    if (found.size() > 1) {
      throw new IllegalStateException(found.size() + " series of " + family + " match " + List.of(labels));
    }
    if (found.isEmpty()) {
      return 0;
    }
    DataPointSnapshot p = found.get(0);
    if (p instanceof GaugeSnapshot.GaugeDataPointSnapshot g) {
      return g.getValue();
    }
    if (p instanceof CounterSnapshot.CounterDataPointSnapshot c) {
      return c.getValue();
    }
    if (p instanceof HistogramSnapshot.HistogramDataPointSnapshot h) {
      return h.getCount();
    }
    throw new IllegalStateException("unexpected " + p.getClass());
  }

  double histogramSum(String family, String... labels) {
    return ((HistogramSnapshot.HistogramDataPointSnapshot) series(family, labels).get(0)).getSum();
  }

  boolean has(String family, String... labels) {
    return !series(family, labels).isEmpty();
  }
}
