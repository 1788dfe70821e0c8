package io.cohort.harness.bench;

import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Scrapes every node's plaintext {@code /metrics} on a fixed period while a phase runs, as
 * Prometheus would (more often than its default 15 s), so that "metrics on" includes exposition.
 */
final class MetricsScraper implements AutoCloseable {
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "bench-scraper");
    t.setDaemon(true);
    return t;
  });
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private final AtomicLong scrapes = new AtomicLong();
  private final AtomicLong bytes = new AtomicLong();
  private final AtomicLong failures = new AtomicLong();

  /** @param endpoints {@code host:port} of each node's HTTP endpoint */
  MetricsScraper(List<String> endpoints, long periodMs) {
    timer.scheduleWithFixedDelay(() -> endpoints.forEach(this::scrape), periodMs, periodMs, TimeUnit.MILLISECONDS);
  }

  private void scrape(String endpoint) {
    try {
      HttpResponse<byte[]> r = http.send(HttpRequest.newBuilder(URI.create("http://" + endpoint + "/metrics"))
          .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofByteArray());
      if (r.statusCode() == 200) {
        scrapes.incrementAndGet();
        bytes.addAndGet(r.body().length);
      } else {
        failures.incrementAndGet();
      }
    } catch (Exception e) {
      failures.incrementAndGet();
    }
  }

  void report(String name, PrintStream out) {
    long n = scrapes.get();
    out.printf("%s: %d scrapes of /metrics (%d KiB each on average), %d failed%n", name, n,
        n == 0 ? 0 : bytes.get() / n / 1024, failures.get());
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}
