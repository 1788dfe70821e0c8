package io.cohort.client.tls;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
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
  private TlsProbe() {}

  /**
   * @return the handshake's failure, or null when the peer took the certificate, did not answer in
   *     time, or could not be reached at all (then TLS is not what is wrong, or not known to be)
   */
  public static SSLException handshake(SSLContext context, String host, int port, Duration timeout) {
    int ms = (int) Math.max(1, Math.min(Integer.MAX_VALUE, timeout.toMillis()));
    try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket()) {
      socket.connect(new InetSocketAddress(host, port), ms);
      socket.setSoTimeout(ms);
      SSLParameters params = socket.getSSLParameters();
      params.setApplicationProtocols(new String[] {"h2"}); // as gRPC asks; a server may refuse without it
      socket.setSSLParameters(params);
      socket.startHandshake();
      InputStream in = socket.getInputStream();
      in.read(); // the server's HTTP/2 settings when it took the certificate, else its alert
      return null;
    } catch (SSLException e) {
      return e;
    } catch (IOException noAnswerOrUnreachable) {
      return null;
    }
  }
}
