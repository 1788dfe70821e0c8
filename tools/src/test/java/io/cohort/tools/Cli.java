package io.cohort.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.cohort.tools.json.Json;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/** Runs `cohort` in this JVM with captured streams, as the tests need it. */
final class Cli {
  /** One run: exit code, stdout, stderr, and how long it took. */
  record Run(int code, String out, String err, long millis) {
    JsonNode json() {
      return Json.read(out);
    }
  }

  private final Map<String, String> env;

  Cli(Map<String, String> env) {
    this.env = env;
  }

  /** The environment of an operator of this cluster: its peers and the admin's certificate (R11). */
  static Map<String, String> env(io.cohort.server.testing.MiniCluster cluster) {
    return env(cluster, cluster.adminTls());
  }

  /** The environment of a user of this cluster with these TLS files. */
  static Map<String, String> env(io.cohort.server.testing.MiniCluster cluster, io.cohort.client.tls.TlsFiles tls) {
    return Map.of("COHORT_PEERS", cluster.peers(), ClusterOptions.CERT_ENV, tls.cert().toString(),
        ClusterOptions.KEY_ENV, tls.key().toString(), ClusterOptions.CA_ENV, tls.ca().toString());
  }

  /** For commands that fail before they reach any cluster, or a cluster started --insecure: said explicitly. */
  static final Map<String, String> INSECURE = Map.of("COHORT_INSECURE", "1");

  Run run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    long t0 = System.nanoTime();
    int code = new Cohort(new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8), env).run(args);
    return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8),
        (System.nanoTime() - t0) / 1_000_000);
  }

  Run ok(String... args) {
    Run r = run(args);
    assertEquals(0, r.code(), "cohort " + String.join(" ", args) + " failed: " + r.err());
    return r;
  }

  /** Fails with this exit code and exactly one stderr line containing {@code errContains}. */
  Run failsWith(int code, String errContains, String... args) {
    Run r = run(args);
    assertEquals(code, r.code(), "cohort " + String.join(" ", args) + ": " + r.out() + r.err());
    assertTrue(r.err().contains(errContains), "stderr of cohort " + String.join(" ", args) + ": " + r.err());
    assertEquals(1, r.err().strip().lines().count(), "one line on stderr: " + r.err());
    for (String codeName : new String[] {"NOT_FOUND", "ALREADY_EXISTS", "INVALID_ARGUMENT", "FAILED_PRECONDITION"}) {
      assertFalse(r.err().contains(codeName + ": " + codeName), "the code once: " + r.err());
    }
    return r;
  }
}
