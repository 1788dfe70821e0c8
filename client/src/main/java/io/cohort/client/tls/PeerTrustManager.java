package io.cohort.client.tls;

import java.io.IOException;
import java.net.Socket;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Trusts the cluster CA (PKIX, with the host name checked against the certificate's SAN as the
 * TLS stack asks) and, when dialling a node, checks that the certificate is a node certificate
 * ({@link Certificates#isNodeCertificate}) whose CN is the peer id expected at that address. The
 * CA set is fixed at start: a server advertises it when the context is built (RATIS-NOTES A.4), so
 * a new CA needs a restart.
 */
public final class PeerTrustManager extends X509ExtendedTrustManager {
  /** Which peer id is expected at a dialled address; empty when the address is unknown. */
  public interface ExpectedPeers {
    Optional<String> at(String host, int port);
  }

  private final X509ExtendedTrustManager pkix;
  private final ExpectedPeers expected;
  private final boolean unknownAddressRefused;

  /**
   * @param unknownAddressRefused servers refuse a peer address they do not expect; clients accept
   *     any node certificate there (the Raft client may learn of a new peer from a redirect)
   */
  public PeerTrustManager(List<X509Certificate> cas, ExpectedPeers expected, boolean unknownAddressRefused)
      throws IOException {
    this.pkix = pkix(cas);
    this.expected = expected;
    this.unknownAddressRefused = unknownAddressRefused;
  }

  public static PeerTrustManager fromCaFile(Path ca, ExpectedPeers expected, boolean unknownAddressRefused)
      throws IOException {
    return new PeerTrustManager(Pem.certificates(ca), expected, unknownAddressRefused);
  }

  private static X509ExtendedTrustManager pkix(List<X509Certificate> cas) throws IOException {
    try {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(null, null);
      for (int i = 0; i < cas.size(); i++) {
        ks.setCertificateEntry("ca-" + i, cas.get(i));
      }
      TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
      tmf.init(ks);
      return (X509ExtendedTrustManager) tmf.getTrustManagers()[0];
    } catch (GeneralSecurityException e) {
      throw new IOException("the CA certificates do not load: " + e.getMessage(), e);
    }
  }

  /** The node's identity check after PKIX: a node certificate with the expected peer id. */
  public void checkNode(X509Certificate[] chain, String host, int port) throws CertificateException {
    X509Certificate leaf = chain[0];
    String cn = Certificates.commonName(leaf);
    if (!Certificates.isNodeCertificate(leaf)) {
      throw new CertificateException(host + ":" + port + " presented CN=" + cn
          + ", which is not a node certificate (no serverAuth extended key usage)");
    }
    Optional<String> id = expected.at(host, port);
    if (id.isPresent() && !id.get().equals(cn)) {
      throw new CertificateException(host + ":" + port + " presented CN=" + cn + " but peer " + id.get()
          + " is expected there");
    }
    if (id.isEmpty() && unknownAddressRefused) {
      throw new CertificateException("no peer is expected at " + host + ":" + port + " (it presented CN=" + cn + ")");
    }
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    pkix.checkServerTrusted(chain, authType, engine);
    checkNode(chain, engine.getPeerHost(), engine.getPeerPort());
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    pkix.checkServerTrusted(chain, authType, socket);
    checkNode(chain, socket.getInetAddress().getHostAddress(), socket.getPort());
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
    throw new CertificateException("a node's certificate is checked against its address: no address given");
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    pkix.checkClientTrusted(chain, authType, engine);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    pkix.checkClientTrusted(chain, authType, socket);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
    pkix.checkClientTrusted(chain, authType);
  }

  @Override
  public X509Certificate[] getAcceptedIssuers() {
    return pkix.getAcceptedIssuers();
  }
}
