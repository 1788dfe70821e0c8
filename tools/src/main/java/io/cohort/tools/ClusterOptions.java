package io.cohort.tools;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.ParameterException;
import io.cohort.client.tls.TlsFiles;
import io.cohort.server.ServerOptions;
import java.time.Duration;
import java.util.Map;

/** The options of every command that talks to a cluster: where it is, how long to wait, and how to prove who we are. */
public final class ClusterOptions {
  public static final int DEFAULT_TIMEOUT_S = 10;
  public static final String CERT_ENV = "COHORT_TLS_CERT";
  public static final String KEY_ENV = "COHORT_TLS_KEY";
  public static final String CA_ENV = "COHORT_TLS_CA";

  @Parameter(names = "--peers", description = "the cluster as id=host:port,... (IPv6: id=[::1]:port; default: $COHORT_PEERS, else the local cluster)")
  public String peers;

  @Parameter(names = "--timeout", description = "seconds to wait for the cluster before giving up")
  public int timeoutSeconds = DEFAULT_TIMEOUT_S;

  @Parameter(names = "--tls-cert", description = "your certificate (PEM); its CN is your principal (default: $" + CERT_ENV + ")")
  public String tlsCert;

  @Parameter(names = "--tls-key", description = "its private key, PKCS#8 PEM (default: $" + KEY_ENV + ")")
  public String tlsKey;

  @Parameter(names = "--tls-ca", description = "the cluster's CA certificate (default: $" + CA_ENV + ")")
  public String tlsCa;

  @Parameter(names = "--insecure", description = "plaintext, for a cluster started --insecure (also COHORT_INSECURE=1)")
  public boolean insecure;

  public Duration timeout() {
    if (timeoutSeconds < 1) {
      throw new ParameterException("--timeout must be at least 1 (seconds), got " + timeoutSeconds);
    }
    return Duration.ofSeconds(timeoutSeconds);
  }

  /**
   * The caller's TLS files, or null for plaintext. Each file comes from its flag, else its
   * environment variable; --insecure (or COHORT_INSECURE=1 when no --tls-* flag is given) means
   * plaintext. Neither, or both, is bad usage with one line naming the ways out.
   */
  public TlsFiles tls(Map<String, String> env) {
    boolean flags = tlsCert != null || tlsKey != null || tlsCa != null;
    if (insecure && flags) {
      throw new ParameterException("--insecure and --tls-* exclude each other");
    }
    if (insecure) {
      return null;
    }
    String cert = tlsCert != null ? tlsCert : env.get(CERT_ENV);
    String key = tlsKey != null ? tlsKey : env.get(KEY_ENV);
    String ca = tlsCa != null ? tlsCa : env.get(CA_ENV);
    TlsFiles files;
    try {
      files = TlsFiles.ofOptional(cert, key, ca, "--tls-cert", "--tls-key", "--tls-ca");
    } catch (IllegalArgumentException e) {
      throw new ParameterException(e.getMessage() + " (flags or " + CERT_ENV + ", " + KEY_ENV + ", " + CA_ENV + ")");
    }
    boolean envInsecure = ServerOptions.insecureEnv(env);
    if (files != null && envInsecure && !flags) {
      throw new ParameterException(ServerOptions.INSECURE_ENV + "=1 and " + CERT_ENV + " exclude each other");
    }
    if (files == null && !envInsecure) {
      throw new ParameterException("no TLS: give --tls-cert, --tls-key and --tls-ca (or " + CERT_ENV + ", " + KEY_ENV
          + ", " + CA_ENV + "; `source DIR/cohort.env` for a scripts/cluster.sh cluster), or --insecure ("
          + ServerOptions.INSECURE_ENV + "=1) for a plaintext cluster");
    }
    if (files != null) {
      try {
        files.check();
      } catch (IllegalArgumentException e) {
        throw new ParameterException(e.getMessage());
      }
    }
    return files;
  }
}
