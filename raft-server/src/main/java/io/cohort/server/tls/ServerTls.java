package io.cohort.server.tls;

import io.cohort.client.Peers;
import io.cohort.client.tls.Certificates;
import io.cohort.client.tls.Pem;
import io.cohort.client.tls.PeerTrustManager;
import io.cohort.client.tls.ReloadingKeyManager;
import io.cohort.client.tls.TlsFiles;
import io.cohort.server.ConfigException;
import java.io.IOException;
import java.net.InetAddress;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import org.apache.ratis.grpc.GrpcTlsConfig;

/**
 * A node's mutual TLS (R11): one Ratis {@link GrpcTlsConfig} for its one port (Raft, client and
 * admin services alike) and for the connections it makes to its peers, and an {@link SSLContext}
 * for its HTTPS metrics endpoint. The certificate and key are re-read when their files change: a
 * poll every 10 s (and {@link #reload()}, which the server process runs on SIGHUP); a new
 * certificate serves the next handshakes, connections already open keep their session. The CA
 * bundle is read once: a new CA needs a restart (RATIS-NOTES A.4) — distribute a bundle with the
 * old and the new CA first, then rotate the leaves.
 */
public final class ServerTls implements AutoCloseable {
  public static final long RELOAD_INTERVAL_MS = 10_000;

  private final TlsFiles files;
  private final ReloadingKeyManager keys;
  private final PeerTrustManager trust;
  private final ScheduledExecutorService poll;

  private ServerTls(TlsFiles files, ReloadingKeyManager keys, PeerTrustManager trust, String node) {
    this.files = files;
    this.keys = keys;
    this.trust = trust;
    this.poll = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "cohort-tls-reload-" + node);
      t.setDaemon(true);
      return t;
    });
    poll.scheduleWithFixedDelay(keys::reloadIfChanged, RELOAD_INTERVAL_MS, RELOAD_INTERVAL_MS, TimeUnit.MILLISECONDS);
  }

  /**
   * Loads the node's files and checks that its certificate can serve as this node: a node
   * certificate (serverAuth) whose CN is its peer id and whose SANs name the address peers dial.
   *
   * @throws ConfigException one line for the operator
   */
  public static ServerTls start(TlsFiles files, PeerDirectory peers, String nodeId, Peers.Peer self) {
    try {
      files.check();
    } catch (IllegalArgumentException e) {
      throw new ConfigException(e.getMessage());
    }
    ReloadingKeyManager keys;
    PeerTrustManager trust;
    try {
      keys = new ReloadingKeyManager(files.cert(), files.key(), RELOAD_INTERVAL_MS);
      trust = new PeerTrustManager(Pem.certificates(files.ca()), peers, true);
    } catch (IOException e) {
      throw new ConfigException(e.getMessage());
    }
    checkNodeCertificate(keys.certificate(), nodeId, self, files);
    return new ServerTls(files, keys, trust, nodeId);
  }

  static void checkNodeCertificate(X509Certificate cert, String nodeId, Peers.Peer self, TlsFiles files) {
    String cn = Certificates.commonName(cert);
    if (!Certificates.isNodeCertificate(cert) || !nodeId.equals(cn)) {
      throw new ConfigException("--tls-cert " + files.cert() + " (CN=" + cn + ") is not node " + nodeId
          + "'s certificate: a node needs CN=" + nodeId + " and serverAuth, as `cohort certs create --node "
          + nodeId + "=HOST` makes it");
    }
    List<String> sans = subjectAltNames(cert);
    String host = self.host();
    boolean named = sans.contains(host.toLowerCase(java.util.Locale.ROOT));
    if (!named && isIpLiteral(host)) {
      try {
        String canonical = InetAddress.getByName(host).getHostAddress();
        named = sans.contains(canonical);
      } catch (IOException e) {
        named = false;
      }
    }
    if (!named) {
      throw new ConfigException("--tls-cert " + files.cert() + " does not name " + host
          + " (its subject alternative names: " + String.join(", ", sans)
          + "): peers and clients dialling " + self.address() + " would refuse it");
    }
  }

  private static boolean isIpLiteral(String host) {
    return host.matches("[0-9.]+") || host.contains(":");
  }

  private static List<String> subjectAltNames(X509Certificate cert) {
    List<String> out = new ArrayList<>();
    try {
      Collection<List<?>> sans = cert.getSubjectAlternativeNames();
      if (sans != null) {
        for (List<?> san : sans) {
          String v = String.valueOf(san.get(1)).toLowerCase(java.util.Locale.ROOT);
          if (((Integer) san.get(0)) == 7) {
            try {
              v = InetAddress.getByName(v).getHostAddress();
            } catch (IOException e) {
              // keep it as written
            }
          }
          out.add(v);
        }
      }
    } catch (CertificateParsingException e) {
      // none
    }
    return out;
  }

  public TlsFiles files() {
    return files;
  }

  /** For Ratis: the server context requires a client certificate (mutual TLS). */
  public GrpcTlsConfig grpc() {
    return new GrpcTlsConfig(keys, trust, true);
  }

  /** The node certificate in use now. */
  public X509Certificate certificate() {
    return keys.certificate();
  }

  /** Re-reads the certificate and key if their files changed; true when a new one is in use. */
  public boolean reload() {
    return keys.reloadIfChanged();
  }

  /**
   * For the HTTPS metrics endpoint: the node certificate, the cluster CA. Whether a client
   * certificate is asked for is the endpoint's choice (it is not: probes have none).
   */
  public SSLContext httpsContext() {
    try {
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(new KeyManager[] {keys}, new TrustManager[] {trust}, null);
      return ctx;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("no TLS context for HTTPS: " + e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    poll.shutdownNow();
  }
}
