package io.cohort.client.tls;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;

/**
 * One identity's PEM files for mutual TLS: its certificate (chain), its private key (PKCS#8,
 * {@code BEGIN PRIVATE KEY}) and the CA certificate(s) it trusts. The principal is the
 * certificate's subject CN.
 */
public record TlsFiles(Path cert, Path key, Path ca) {
  public TlsFiles {
    Objects.requireNonNull(cert, "cert");
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(ca, "ca");
  }

  public static TlsFiles of(String cert, String key, String ca) {
    return new TlsFiles(Path.of(cert), Path.of(key), Path.of(ca));
  }

  /**
   * The three files, or an error naming what is missing: all three flags (or environment
   * variables) or none. Null when none is given.
   *
   * @throws IllegalArgumentException one line naming the missing ones
   */
  public static TlsFiles ofOptional(String cert, String key, String ca, String certName, String keyName,
      String caName) {
    boolean c = cert != null && !cert.isBlank();
    boolean k = key != null && !key.isBlank();
    boolean a = ca != null && !ca.isBlank();
    if (!c && !k && !a) {
      return null;
    }
    if (!c || !k || !a) {
      StringBuilder missing = new StringBuilder();
      for (String[] f : new String[][] {{c ? null : certName}, {k ? null : keyName}, {a ? null : caName}}) {
        if (f[0] != null) {
          missing.append(missing.length() == 0 ? "" : ", ").append(f[0]);
        }
      }
      throw new IllegalArgumentException("TLS needs a certificate, its key and the CA: missing " + missing);
    }
    return of(cert.trim(), key.trim(), ca.trim());
  }

  /** @throws IllegalArgumentException naming the first file that cannot be read */
  public TlsFiles check() {
    for (Path p : new Path[] {cert, key, ca}) {
      if (!Files.isRegularFile(p)) {
        throw new IllegalArgumentException("TLS file " + p + " does not exist");
      }
      if (!Files.isReadable(p)) {
        throw new IllegalArgumentException("TLS file " + p + " is not readable");
      }
    }
    return this;
  }

  @Override
  public String toString() {
    return "cert " + cert + ", key " + key + ", CA " + ca;
  }
}
