package io.cohort.server.metrics;

import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.Quantile;
import io.prometheus.metrics.model.snapshots.Quantiles;
import io.prometheus.metrics.model.snapshots.SummarySnapshot;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.ratis.metrics.MetricRegistries;
import org.apache.ratis.metrics.MetricRegistryInfo;
import org.apache.ratis.metrics.RatisMetricRegistry;
import org.apache.ratis.metrics.impl.RatisMetricRegistryImpl;
import org.apache.ratis.thirdparty.com.codahale.metrics.Counter;
import org.apache.ratis.thirdparty.com.codahale.metrics.Gauge;
import org.apache.ratis.thirdparty.com.codahale.metrics.Histogram;
import org.apache.ratis.thirdparty.com.codahale.metrics.Meter;
import org.apache.ratis.thirdparty.com.codahale.metrics.Metric;
import org.apache.ratis.thirdparty.com.codahale.metrics.MetricRegistry;
import org.apache.ratis.thirdparty.com.codahale.metrics.Sampling;
import org.apache.ratis.thirdparty.com.codahale.metrics.Snapshot;
import org.apache.ratis.thirdparty.com.codahale.metrics.Timer;

/**
 * Ratis' own metrics (shaded Dropwizard registries, RATIS-NOTES E) in Prometheus form, enumerated
 * at each scrape because Ratis creates and removes registries as divisions and leaders come and go.
 *
 * <ul>
 *   <li>Only this node's registries (prefix {@code <id>} or {@code <id>@group-...}): a test JVM
 *       runs several nodes, and clients, against one global Ratis registry set.
 *   <li>Names: {@code <application>_<component>_<short name>}, camelCase to snake_case, other
 *       characters to {@code _}, all under {@code ratis_} (e.g. {@code ratis_leader_election_election_time_seconds}).
 *   <li>Peer ids inside a short name ({@code n2_peerCommitIndex}, {@code follower_n2_match_index})
 *       become a {@code peer} label; gRPC message counters become {@code ..._rpc_started} / {@code
 *       ..._rpc_completed} with {@code service}, {@code method} and {@code status} labels.
 *   <li>Gauges (numeric only) as gauges, counters and meters as counters, timers as summaries in
 *       seconds and histograms as summaries, with Dropwizard's quantiles and count (no sum).
 * </ul>
 */
final class RatisRegistryCollector implements MultiCollector {
  private static final Pattern RPC = Pattern.compile(
      "^([A-Za-z0-9.]+)_([A-Za-z0-9]+)_(?:([A-Z_]+)_)?(started|completed)_total$");
  private static final double[] QUANTILES = {0.5, 0.75, 0.95, 0.98, 0.99, 0.999};
  private static final String[] RESERVED_SUFFIXES = {"_total", "_created", "_bucket", "_info"};

  private enum Kind { GAUGE, COUNTER, TIMER, HISTOGRAM }

  private record Family(Kind kind, String help, Map<Labels, Metric> points) {}

  private final String self;
  private final Supplier<Collection<String>> peerIds;

  /** @param peerIds the peers whose ids may appear inside metric names (the group's, at scrape time) */
  RatisRegistryCollector(String self, Supplier<Collection<String>> peerIds) {
    this.self = self;
    this.peerIds = peerIds;
  }

  @Override
  public MetricSnapshots collect() {
    List<String> peers = new ArrayList<>(peerIds.get());
    peers.sort(Comparator.comparingInt(String::length).reversed()); // "n10" before "n1"
    Map<String, Family> families = new TreeMap<>();
    for (RatisMetricRegistry r : MetricRegistries.global().getMetricRegistries()) {
      MetricRegistryInfo info = r.getMetricRegistryInfo();
      String prefix = info.getPrefix();
      if (!(prefix.equals(self) || prefix.startsWith(self + "@")) || !(r instanceof RatisMetricRegistryImpl impl)) {
        continue;
      }
      String dwPrefix = MetricRegistry.name(info.getApplicationName(), info.getMetricsComponentName(), prefix) + ".";
      String familyPrefix = info.getApplicationName() + "_" + info.getMetricsComponentName() + "_";
      for (Map.Entry<String, Metric> e : impl.getDropWizardMetricRegistry().getMetrics().entrySet()) {
        String full = e.getKey();
        String shortName = full.startsWith(dwPrefix) ? full.substring(dwPrefix.length()) : full;
        if (prefix.equals(self) && shortName.startsWith(self + "_")) {
          shortName = shortName.substring(self.length() + 1); // gRPC message metrics repeat the node's id
        }
        add(families, familyPrefix, shortName, info.getMetricsDescription(), e.getValue(), peers);
      }
    }
    List<MetricSnapshot> out = new ArrayList<>(families.size());
    families.forEach((name, f) -> {
      MetricSnapshot s = snapshot(name, f);
      if (s != null) {
        out.add(s);
      }
    });
    return new MetricSnapshots(out);
  }

  private static void add(Map<String, Family> families, String familyPrefix, String shortName, String description,
      Metric metric, List<String> peers) {
    Kind kind = metric instanceof Gauge ? Kind.GAUGE : metric instanceof Timer ? Kind.TIMER
        : metric instanceof Counter || metric instanceof Meter ? Kind.COUNTER
        : metric instanceof Histogram ? Kind.HISTOGRAM : null;
    if (kind == null) {
      return;
    }
    String rest = shortName;
    Labels labels = Labels.EMPTY;
    Matcher rpc = RPC.matcher(shortName);
    if (rpc.matches()) {
      rest = "rpc_" + rpc.group(4);
      labels = rpc.group(3) == null ? Labels.of("service", rpc.group(1), "method", rpc.group(2))
          : Labels.of("service", rpc.group(1), "method", rpc.group(2), "status", rpc.group(3));
    } else {
      for (String peer : peers) {
        String without = withoutToken(shortName, peer);
        if (without != null) {
          rest = without;
          labels = Labels.of("peer", peer);
          break;
        }
      }
    }
    String name = familyName(familyPrefix + rest) + (kind == Kind.TIMER ? "_seconds" : "");
    String help = "Ratis " + description + ": " + familyPrefix + rest;
    Family f = families.computeIfAbsent(name, n -> new Family(kind, help, new TreeMap<>()));
    if (f.kind() == kind) {
      f.points().putIfAbsent(labels, metric);
    }
  }

  /** {@code name} without the token {@code peer} (at the start, end, or between underscores), or null. */
  static String withoutToken(String name, String peer) {
    if (name.startsWith(peer + "_")) {
      return name.substring(peer.length() + 1);
    }
    int mid = name.indexOf("_" + peer + "_");
    if (mid >= 0) {
      return name.substring(0, mid) + name.substring(mid + peer.length() + 1);
    }
    if (name.endsWith("_" + peer)) {
      return name.substring(0, name.length() - peer.length() - 1);
    }
    return null;
  }

  /** snake_case of letters and digits, anything else one '_', without the suffixes Prometheus reserves. */
  static String familyName(String raw) {
    StringBuilder b = new StringBuilder(raw.length() + 8);
    char prev = '_';
    for (int i = 0; i < raw.length(); i++) {
      char c = raw.charAt(i);
      if (Character.isLetterOrDigit(c) && c < 128) {
        if (Character.isUpperCase(c) && (Character.isLowerCase(prev) || Character.isDigit(prev))) {
          b.append('_');
        }
        b.append(Character.toLowerCase(c));
        prev = c;
      } else if (prev != '_') {
        b.append('_');
        prev = '_';
      }
    }
    String name = b.toString().toLowerCase(Locale.ROOT);
    boolean stripped = true;
    while (stripped) {
      stripped = false;
      name = name.endsWith("_") ? name.substring(0, name.length() - 1) : name;
      for (String suffix : RESERVED_SUFFIXES) {
        if (name.endsWith(suffix)) {
          name = name.substring(0, name.length() - suffix.length());
          stripped = true;
        }
      }
    }
    return name;
  }

  private static MetricSnapshot snapshot(String name, Family f) {
    switch (f.kind()) {
      case GAUGE -> {
        GaugeSnapshot.Builder b = GaugeSnapshot.builder().name(name).help(f.help());
        f.points().forEach((labels, m) -> {
          Double v = numeric(((Gauge<?>) m).getValue());
          if (v != null) {
            b.dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder().labels(labels).value(v).build());
          }
        });
        return b.build();
      }
      case COUNTER -> {
        CounterSnapshot.Builder b = CounterSnapshot.builder().name(name).help(f.help());
        f.points().forEach((labels, m) -> {
          long count = m instanceof Counter c ? c.getCount() : ((Meter) m).getCount();
          b.dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder().labels(labels)
              .value(Math.max(0, count)).build());
        });
        return b.build();
      }
      default -> {
        double scale = f.kind() == Kind.TIMER ? 1e-9 : 1; // Dropwizard timers count nanoseconds
        SummarySnapshot.Builder b = SummarySnapshot.builder().name(name).help(f.help());
        f.points().forEach((labels, m) -> {
          Snapshot s = ((Sampling) m).getSnapshot();
          Quantiles.Builder q = Quantiles.builder();
          for (double quantile : QUANTILES) {
            q.quantile(new Quantile(quantile, s.getValue(quantile) * scale));
          }
          long count = m instanceof Timer t ? t.getCount() : ((Histogram) m).getCount();
          b.dataPoint(SummarySnapshot.SummaryDataPointSnapshot.builder().labels(labels).count(count)
              .quantiles(q.build()).build());
        });
        return b.build();
      }
    }
  }

  private static Double numeric(Object value) {
    if (value instanceof Number n) {
      double d = n.doubleValue();
      return Double.isNaN(d) ? null : d;
    }
    if (value instanceof Boolean bool) {
      return bool ? 1.0 : 0.0;
    }
    return null;
  }
}
