package io.cohort.harness.bench;

import io.cohort.client.tls.TlsFiles;
import io.cohort.server.tls.CertificateAuthority;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The certificates of a cluster the harness starts on loopback (R11): a CA of its own under
 * {@code dir}, node certificates for 127.0.0.1/localhost, and user certificates (the bootstrap admin
 * {@code admin}, the bench's and chaos' consumers). Made once per work dir, as `cohort certs create`
 * does for scripts/cluster.sh.
 */
public final class LocalCerts {
  public static final String ADMIN = "admin";
  public static final String CONSUMER = "consumer";
  private static final Duration VALIDITY = Duration.ofDays(30);

  private final Path dir;
  private final CertificateAuthority ca;

  private LocalCerts(Path dir, CertificateAuthority ca) {
    this.dir = dir;
    this.ca = ca;
  }

  /** The CA in {@code dir}, made there if it is not yet. */
  public static LocalCerts in(Path dir) throws IOException {
    Files.createDirectories(dir);
    Path cert = dir.resolve("ca.crt");
    Path key = dir.resolve("ca.key");
    if (Files.exists(cert) && Files.exists(key)) {
      return new LocalCerts(dir, CertificateAuthority.load(cert, key));
    }
    CertificateAuthority ca = CertificateAuthority.create("cohort-harness-ca", Duration.ofDays(30));
    ca.write(cert, key);
    return new LocalCerts(dir, ca);
  }

  /** Node {@code id}'s files (made if missing). */
  public TlsFiles node(String id) throws IOException {
    TlsFiles f = files(id);
    if (!Files.exists(f.cert())) {
      ca.issueNode(id, List.of("127.0.0.1"), List.of("localhost"), VALIDITY).write(f.cert(), f.key());
    }
    return f;
  }

  /** A user's files (made if missing): its CN is the principal. */
  public TlsFiles user(String principal) throws IOException {
    TlsFiles f = files(principal);
    if (!Files.exists(f.cert())) {
      ca.issueUser(principal, VALIDITY).write(f.cert(), f.key());
    }
    return f;
  }

  private TlsFiles files(String name) {
    return new TlsFiles(dir.resolve(name + ".crt"), dir.resolve(name + ".key"), dir.resolve("ca.crt"));
  }
}
