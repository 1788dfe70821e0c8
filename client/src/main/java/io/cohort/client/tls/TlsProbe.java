package io.cohort.client.tls;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/**
 * One TLS handshake with a peer outside gRPC, to say why a call found the cluster unreachable.
 * Ratis reports a failed handshake only when it reaches a retry decision, which a short --timeout
 * can miss; this asks the peer directly. With TLS 1.3 the server refuses a client certificate
 * after the client's side of the handshake is done, so the probe reads one byte to receive it.
 */
public final class TlsProbe {
  /**
   * A connection closed or reset right after our side of the handshake, with no alert read, says
   * neither "taken" nor "refused" (a refusing server closes at once, and a reset can beat its
   * alert), so such an attempt is made again.
   */
  private static final int ATTEMPTS = 3;

  private record Outcome(SSLException refused, boolean closedAfterHandshake) {}

  private TlsProbe() {}

  /**
   * @return the handshake's failure, or null when the peer took the certificate, did not answer in
   *     time, or could not be reached at all (then TLS is not what is wrong, or not known to be)
   */
  public static SSLException handshake(SSLContext context, String host, int port, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return null;
      }
      Outcome o = once(context, host, port, (int) Math.max(1, Math.min(Integer.MAX_VALUE, left / 1_000_000)));
      if (!o.closedAfterHandshake()) {
        return o.refused();
      }
    }
    return null;
  }

  private static Outcome once(SSLContext context, String host, int port, int ms) {
    boolean handshaken = false;
    try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket()) {
      socket.connect(new InetSocketAddress(host, port), ms);
      socket.setSoTimeout(ms);
      SSLParameters params = socket.getSSLParameters();
      params.setApplicationProtocols(new String[] {"h2"}); // as gRPC asks; a server may refuse without it
      socket.setSSLParameters(params);
      socket.startHandshake();
      handshaken = true;
      InputStream in = socket.getInputStream();
      // the server's HTTP/2 settings when it took the certificate, else its alert
      return new Outcome(null, in.read() < 0);
    } catch (SSLException e) {
      return new Outcome(e, false);
    } catch (SocketTimeoutException noAnswer) {
      return new Outcome(null, false);
    } catch (IOException unreachableOrReset) {
      return new Outcome(null, handshaken);
    }
  }
}
