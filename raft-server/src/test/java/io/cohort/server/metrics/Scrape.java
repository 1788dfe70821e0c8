package io.cohort.server.metrics;

import io.prometheus.metrics.expositionformats.generated.com_google_protobuf_4_36_2.Metrics.LabelPair;
import io.prometheus.metrics.expositionformats.generated.com_google_protobuf_4_36_2.Metrics.Metric;
import io.prometheus.metrics.expositionformats.generated.com_google_protobuf_4_36_2.Metrics.MetricFamily;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One scrape of a node's {@code /metrics} over real HTTP, parsed by the Prometheus library's own
 * parser. prometheus-metrics 1.10.0 ships writers only for the text formats, so the scrape asks for
 * the protobuf format (what Prometheus itself may ask for) and parses it with the generated {@code
 * MetricFamily} classes of prometheus-metrics-exposition-formats.
 */
public final class Scrape {
  static final String PROTOBUF =
      "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited";
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private final Map<String, MetricFamily> families;

  private Scrape(Map<String, MetricFamily> families) {
    this.families = families;
  }

  public static Scrape of(URI base) {
    HttpRequest req = HttpRequest.newBuilder(base.resolve("/metrics")).header("Accept", PROTOBUF)
        .timeout(Duration.ofSeconds(10)).build();
    try {
      HttpResponse<InputStream> resp = HTTP.send(req, HttpResponse.BodyHandlers.ofInputStream());
      if (resp.statusCode() != 200) {
        throw new IllegalStateException("GET " + req.uri() + " answered " + resp.statusCode());
      }
      Map<String, MetricFamily> families = new LinkedHashMap<>();
      try (InputStream in = resp.body()) {
        MetricFamily f;
        while ((f = MetricFamily.parseDelimitedFrom(in)) != null) {
          families.put(f.getName(), f);
        }
      }
      return new Scrape(families);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** GET {@code path}: status code and body. */
  public static HttpResponse<String> get(URI base, String path) {
    HttpRequest req = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(10)).build();
    try {
      return HTTP.send(req, HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  Map<String, MetricFamily> families() {
    return families;
  }

  public boolean has(String family) {
    return families.containsKey(family);
  }

  /**
   * The value of the one series of {@code family} whose labels include {@code labels} (name,
   * value, ...): a gauge's value, a counter's count, a summary's or histogram's sample count.
   */
  public Optional<Double> value(String family, String... labels) {
    List<Metric> found = series(family, labels);
    if (found.size() > 1) {
      throw new IllegalStateException(found.size() + " series of " + family + " match " + List.of(labels));
    }
    return found.stream().findFirst().map(Scrape::valueOf);
  }

  /** {@link #value} or 0 when no series matches (a counter not yet incremented). */
  public double valueOrZero(String family, String... labels) {
    return value(family, labels).orElse(0.0);
  }

  /** Sum over every series of the family matching {@code labels}. */
  public double sum(String family, String... labels) {
    return series(family, labels).stream().mapToDouble(Scrape::valueOf).sum();
  }

  public List<Metric> series(String family, String... labels) {
    MetricFamily f = families.get(family);
    List<Metric> out = new ArrayList<>();
    if (f == null) {
      return out;
    }
    for (Metric m : f.getMetricList()) {
      if (matches(m, labels)) {
        out.add(m);
      }
    }
    return out;
  }

  private static boolean matches(Metric m, String... labels) {
    for (int i = 0; i < labels.length; i += 2) {
      boolean hit = false;
      for (LabelPair p : m.getLabelList()) {
        if (p.getName().equals(labels[i]) && p.getValue().equals(labels[i + 1])) {
          hit = true;
          break;
        }
      }
      if (!hit) {
        return false;
      }
    }
    return true;
  }

  private static double valueOf(Metric m) {
    if (m.hasGauge()) {
      return m.getGauge().getValue();
    }
    if (m.hasCounter()) {
      return m.getCounter().getValue();
    }
    if (m.hasSummary()) {
      return m.getSummary().getSampleCount();
    }
    if (m.hasHistogram()) {
      return m.getHistogram().getSampleCount();
    }
    return m.getUntyped().getValue();
  }

  @Override
  public String toString() {
    return families.keySet().toString();
  }
}
