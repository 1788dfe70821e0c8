package io.cohort.server.metrics;

/**
 * The node's HTTP endpoint ({@code /metrics}, {@code /livez}, {@code /readyz}) and what its
 * metrics judge (step 9).
 *
 * @param httpPort the port, on the node's own host; 0 = no endpoint (and no apply counters)
 * @param readyMaxLagEntries {@code /readyz} fails while the applied index is further than this
 *     behind the leader's commit index this node knows
 * @param stallAfterMs a held partition with lag > 0 whose holder heartbeats but has not committed
 *     for this long is {@code stalled}
 * @param maxSeriesPerMetric at most this many per-partition series per metric; the rest are
 *     dropped (one WARN line, and {@code cohort_metrics_series_dropped_total})
 */
public record MetricsSettings(int httpPort, long readyMaxLagEntries, long stallAfterMs, int maxSeriesPerMetric) {
  /** Added to the Raft port when no HTTP port is given. */
  public static final int DEFAULT_PORT_OFFSET = 1000;
  public static final long DEFAULT_READY_MAX_LAG_ENTRIES = 1000;
  public static final long DEFAULT_STALL_AFTER_MS = 30_000;
  public static final int DEFAULT_MAX_SERIES_PER_METRIC = 10_000;

  /** No endpoint: what tests get unless they ask for one. */
  public static final MetricsSettings OFF = new MetricsSettings(0, DEFAULT_READY_MAX_LAG_ENTRIES,
      DEFAULT_STALL_AFTER_MS, DEFAULT_MAX_SERIES_PER_METRIC);

  public MetricsSettings {
    if (httpPort < 0 || httpPort > 65535) {
      throw new IllegalArgumentException("--http-port must be in 0..65535 (0 = off): " + httpPort);
    }
    if (readyMaxLagEntries < 0) {
      throw new IllegalArgumentException("--ready-max-lag-entries must be 0 or more: " + readyMaxLagEntries);
    }
    if (stallAfterMs <= 0) {
      throw new IllegalArgumentException("--stall-after-ms must be positive: " + stallAfterMs);
    }
    if (maxSeriesPerMetric < 0) {
      throw new IllegalArgumentException("--metrics-max-series must be 0 or more: " + maxSeriesPerMetric);
    }
  }

  /** The defaults with the endpoint on {@code raftPort + 1000}. */
  public static MetricsSettings defaultsFor(int raftPort) {
    return OFF.withHttpPort(raftPort + DEFAULT_PORT_OFFSET);
  }

  public boolean enabled() {
    return httpPort > 0;
  }

  public MetricsSettings withHttpPort(int port) {
    return new MetricsSettings(port, readyMaxLagEntries, stallAfterMs, maxSeriesPerMetric);
  }

  public MetricsSettings withReadyMaxLagEntries(long entries) {
    return new MetricsSettings(httpPort, entries, stallAfterMs, maxSeriesPerMetric);
  }

  public MetricsSettings withStallAfterMs(long ms) {
    return new MetricsSettings(httpPort, readyMaxLagEntries, ms, maxSeriesPerMetric);
  }

  public MetricsSettings withMaxSeriesPerMetric(int n) {
    return new MetricsSettings(httpPort, readyMaxLagEntries, stallAfterMs, n);
  }
}
