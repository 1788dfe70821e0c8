package io.cohort.server.testing;

import io.cohort.client.tls.TlsFiles;
import io.cohort.server.tls.CertificateAuthority;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A test cluster's certificates: a CA of its own (EC P-256, fast), node certificates for
 * 127.0.0.1/localhost and user certificates made on demand, as PEM files under one directory.
 */
public final class TestCerts {
  private static final Duration VALIDITY = Duration.ofDays(2);

  private final Path dir;
  private final CertificateAuthority ca;
  private final Map<String, TlsFiles> users = new ConcurrentHashMap<>();
  private final Map<String, TlsFiles> nodes = new ConcurrentHashMap<>();

  private TestCerts(Path dir, CertificateAuthority ca) {
    this.dir = dir;
    this.ca = ca;
  }

  public static TestCerts create(Path dir) {
    try {
      Files.createDirectories(dir);
      CertificateAuthority ca = CertificateAuthority.create("test-ca-" + dir.getParent().getFileName(), VALIDITY);
      ca.write(dir.resolve("ca.crt"), dir.resolve("ca.key"));
      return new TestCerts(dir, ca);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public CertificateAuthority ca() {
    return ca;
  }

  public Path caFile() {
    return dir.resolve("ca.crt");
  }

  public Path dir() {
    return dir;
  }

  /** The node certificate of {@code id} (CN = id, serverAuth, 127.0.0.1 and localhost). */
  public TlsFiles node(String id) {
    return nodes.computeIfAbsent(id, k -> write(k, ca.issueNode(k, List.of("127.0.0.1"), List.of("localhost"), VALIDITY)));
  }

  /** The node certificate of {@code id} for one more address (e.g. its own network namespace's). */
  public TlsFiles node(String id, String ip) {
    return nodes.computeIfAbsent(id, k -> write(k, ca.issueNode(k, List.of("127.0.0.1", ip), List.of("localhost"),
        VALIDITY)));
  }

  /** A user certificate with CN = principal (clientAuth only). */
  public TlsFiles user(String principal) {
    return users.computeIfAbsent(principal, k -> write("user-" + k, ca.issueUser(k, VALIDITY)));
  }

  private TlsFiles write(String name, CertificateAuthority.Issued issued) {
    try {
      Path cert = dir.resolve(name + ".crt");
      Path key = dir.resolve(name + ".key");
      issued.write(cert, key);
      return new TlsFiles(cert, key, caFile());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
