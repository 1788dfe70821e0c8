package io.cohort.client.tls;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * One TLS handshake with a peer outside gRPC, to say why a call found the cluster unreachable.
 * Ratis reports a failed handshake only when it reaches a retry decision, which a short --timeout
 * can miss; this asks the peer directly. With TLS 1.3 the server refuses a client certificate
 * after the client's side of the handshake is done, so the probe reads one byte to receive it.
 */
public final class TlsProbe {
  /**
   * A connection closed or reset after it was made, before an alert was read (the JDK reports
   * some of these as an SSLException over the EOF or reset), says neither "taken" nor "refused":
   * a refusing server closes at once, and its close can beat its alert. Such an attempt is made again.
   */
  private static final int ATTEMPTS = 3;

  private record Outcome(SSLException refused, boolean dropped) {}

  private TlsProbe() {}

  /**
   * @return the handshake's failure (an alert from the peer, or its certificate refused here), or
   *     null when the peer took the certificate, did not answer in time, could not be reached at
   *     all, or dropped every attempt's connection (then TLS is not what is wrong, or not known to be)
   */
  public static SSLException handshake(SSLContext context, String host, int port, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return null;
      }
      Outcome o = once(context, host, port, (int) Math.max(1, Math.min(Integer.MAX_VALUE, left / 1_000_000)));
      if (!o.dropped()) {
        return o.refused();
      }
    }
    return null;
  }

  /**
   * Whether the peer answers a TLS ClientHello with a certificate: for a plaintext client that found
   * the cluster unreachable, says it dialled a TLS port. The certificate is only noted, never
   * trusted: the handshake is abandoned there, and nothing is sent after the hello.
   *
   * @return false also when the peer could not be reached or did not answer in time
   */
  public static boolean answersInTls(String host, int port, Duration timeout) {
    CertificateSeen seen = new CertificateSeen();
    int ms = (int) Math.max(1, Math.min(Integer.MAX_VALUE, timeout.toMillis()));
    try {
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, new TrustManager[] {seen}, null);
      try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket()) {
        socket.connect(new InetSocketAddress(host, port), ms);
        socket.setSoTimeout(ms);
        socket.startHandshake();
      }
    } catch (IOException | GeneralSecurityException expected) {
      // the refusal below ends every handshake that got a certificate
    }
    return seen.presented;
  }

  /** Notes that the server presented a certificate chain, and refuses it. */
  private static final class CertificateSeen implements X509TrustManager {
    private volatile boolean presented;

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
      presented = chain != null && chain.length > 0;
      throw new CertificateException("a probe trusts no certificate");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
      throw new CertificateException("a probe is never a server");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }

  private static Outcome once(SSLContext context, String host, int port, int ms) {
    boolean connected = false;
    try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket()) {
      socket.connect(new InetSocketAddress(host, port), ms);
      connected = true;
      socket.setSoTimeout(ms);
      SSLParameters params = socket.getSSLParameters();
      params.setApplicationProtocols(new String[] {"h2"}); // as gRPC asks; a server may refuse without it
      socket.setSSLParameters(params);
      socket.startHandshake();
      InputStream in = socket.getInputStream();
      // the server's HTTP/2 settings when it took the certificate, else its alert
      return new Outcome(null, in.read() < 0);
    } catch (SSLException e) {
      return overDroppedConnection(e) ? new Outcome(null, true) : new Outcome(e, false);
    } catch (SocketTimeoutException noAnswer) {
      return new Outcome(null, false);
    } catch (IOException unreachableOrReset) {
      return new Outcome(null, connected);
    }
  }

  /** "Remote host terminated the handshake" (an EOF) or "Connection reset": no verdict from the peer. */
  private static boolean overDroppedConnection(SSLException e) {
    for (Throwable t = e.getCause(); t != null && t != t.getCause(); t = t.getCause()) {
      if (t instanceof IOException && !(t instanceof SSLException)) {
        return true;
      }
    }
    return false;
  }
}
