package io.cohort.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.cohort.client.CohortUnavailableException;
import io.cohort.client.tls.TlsFiles;
import io.cohort.server.testing.MiniCluster;
import io.cohort.server.testing.TestCerts;
import io.cohort.tools.cli.ErrorLines;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * R11: an unreachable cluster whose first peer ends a handshake in a way that names no problem
 * (here: it answers in plaintext) is diagnosed from the next peer, which refuses the certificate.
 */
class TlsDiagnosisTest {
  /** A fatal certificate_required alert (TLS record type 21, level 2, description 116). */
  private static final byte[] CERTIFICATE_REQUIRED = {21, 3, 3, 0, 2, 2, 116};
  private static final byte[] PLAINTEXT = "HTTP/1.1 400 Bad Request\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

  @TempDir
  Path tmp;
  private Peer plaintext;
  private Peer refusing;

  @AfterEach
  void stop() throws IOException {
    for (Peer p : new Peer[] {plaintext, refusing}) {
      if (p != null) {
        p.close();
      }
    }
  }

  @Test
  void aPeerWhoseHandshakeNamesNoProblemIsPassedOverForTheNext() throws IOException {
    plaintext = new Peer(PLAINTEXT);
    refusing = new Peer(CERTIFICATE_REQUIRED);
    TlsFiles user = TestCerts.create(tmp.resolve("tls")).user(MiniCluster.ADMIN);
    String peers = "n1=127.0.0.1:" + plaintext.port() + ",n2=127.0.0.1:" + refusing.port();
    ClusterOptions options = new ClusterOptions();
    options.peers = peers;
    options.timeoutSeconds = 3;
    options.tlsCert = user.cert().toString();
    options.tlsKey = user.key().toString();
    options.tlsCa = user.ca().toString();
    PrintStream sink = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
    try (CliContext ctx = new CliContext(sink, sink, Map.of())) {
      ctx.peers(options);
      Throwable diagnosed = ctx.diagnosed(new CohortUnavailableException("query LIST_GROUPS: timed out", null));
      assertEquals("TLS handshake with the cluster at " + peers + " failed: the cluster refused this certificate: "
          + "is --tls-cert from this cluster's CA, and not expired?",
          ErrorLines.describe(diagnosed, ctx.cluster(), ctx.timeoutSeconds()).line());
    }
  }

  /** Answers every connection's first bytes with the same reply, then closes it. */
  private static final class Peer implements AutoCloseable {
    private final ServerSocket server;
    private final Thread thread;

    Peer(byte[] reply) throws IOException {
      server = new ServerSocket(0, 8, InetAddress.getLoopbackAddress());
      thread = new Thread(() -> serve(reply), "fake-peer");
      thread.setDaemon(true);
      thread.start();
    }

    int port() {
      return server.getLocalPort();
    }

    private void serve(byte[] reply) {
      while (!server.isClosed()) {
        try (Socket s = server.accept()) {
          if (s.getInputStream().read(new byte[16 * 1024]) >= 0) {
            s.getOutputStream().write(reply);
            s.getOutputStream().flush();
          }
        } catch (IOException closed) {
          return;
        }
      }
    }

    @Override
    public void close() throws IOException {
      server.close();
      try {
        thread.join(10_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
