package io.cohort.server.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import io.cohort.server.health.Readiness;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;
import javax.net.ssl.SSLContext;

/**
 * The node's HTTP endpoint, served by the Prometheus exporter's {@link HTTPServer}: {@code
 * /metrics} (text format, or protobuf when asked), {@code /livez} (200 while the process runs) and
 * {@code /readyz} (200, or 503 with a one-line reason). With an {@link SSLContext} it serves HTTPS
 * instead (for step 8's mutual TLS); without one, plain HTTP.
 */
public final class HttpEndpoint implements AutoCloseable {
  private final HTTPServer server;

  private HttpEndpoint(HTTPServer server) {
    this.server = server;
  }

  /**
   * @param host the node's own host (its peer address), never all interfaces
   * @param tls null for plain HTTP
   */
  public static HttpEndpoint start(String host, int port, PrometheusRegistry registry,
      Supplier<Readiness.Verdict> readiness, SSLContext tls) throws IOException {
    HTTPServer.Builder b = HTTPServer.builder().hostname(host).port(port).registry(registry)
        .registerHealthHandler(false).defaultHandler(exchange -> route(exchange, readiness));
    if (tls != null) {
      b.httpsConfigurator(new HttpsConfigurator(tls));
    }
    return new HttpEndpoint(b.buildAndStart());
  }

  public int port() {
    return server.getPort();
  }

  /** Everything but {@code /metrics} lands here. */
  private static void route(HttpExchange exchange, Supplier<Readiness.Verdict> readiness) throws IOException {
    try (exchange) {
      String path = exchange.getRequestURI().getPath();
      switch (path) {
        case "/livez" -> reply(exchange, 200, "live");
        case "/readyz" -> {
          Readiness.Verdict v = readiness.get();
          reply(exchange, v.ready() ? 200 : 503, v.reason());
        }
        case "/" -> reply(exchange, 200, "Cohort node: /metrics /livez /readyz");
        default -> reply(exchange, 404, "not found: " + path + " (try /metrics, /livez, /readyz)");
      }
    }
  }

  private static void reply(HttpExchange exchange, int code, String line) throws IOException {
    byte[] body = (line + "\n").getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
    exchange.getResponseHeaders().set("Cache-Control", "no-store");
    if ("HEAD".equals(exchange.getRequestMethod())) {
      exchange.sendResponseHeaders(code, -1);
      return;
    }
    exchange.sendResponseHeaders(code, body.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(body);
    }
  }

  @Override
  public void close() {
    server.close();
  }
}
