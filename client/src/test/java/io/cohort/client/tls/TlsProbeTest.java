package io.cohort.client.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * R11: the probe behind the CLI's "the cluster refused this certificate" tells an alert from a
 * connection the peer dropped, which is no verdict and is tried again. Fake peers on loopback
 * answer each ClientHello as scripted: a reset, a plain close, or a TLS alert record.
 */
class TlsProbeTest {
  /** A fatal certificate_required alert (TLS record type 21, level 2, description 116). */
  private static final byte[] CERTIFICATE_REQUIRED = {21, 3, 3, 0, 2, 2, 116};

  private enum Answer { RESET, CLOSE, ALERT }

  private FakePeer peer;

  @AfterEach
  void stop() throws IOException {
    if (peer != null) {
      peer.close();
    }
  }

  @Test
  void aResetMidHandshakeIsTriedAgainAndTheAlertThatFollowsIsTheVerdict() throws Exception {
    peer = new FakePeer(List.of(Answer.RESET, Answer.ALERT));
    SSLException refused = probe();
    assertNotNull(refused, "the second attempt read the alert");
    assertTrue(refused.getMessage().contains("Received fatal alert: certificate_required"), refused.toString());
    assertEquals(2, peer.connections.get());
  }

  @Test
  void aCloseMidHandshakeIsNotARefusalButAnotherAttempt() throws Exception {
    peer = new FakePeer(List.of(Answer.CLOSE, Answer.ALERT));
    SSLException refused = probe();
    assertNotNull(refused);
    assertTrue(refused.getMessage().contains("certificate_required"), refused.toString());
    assertEquals(2, peer.connections.get());
  }

  @Test
  void aPeerThatDropsEveryConnectionGivesNoVerdictAfterThreeAttempts() throws Exception {
    peer = new FakePeer(List.of(Answer.RESET, Answer.CLOSE, Answer.RESET, Answer.ALERT));
    assertNull(probe(), "dropped connections say nothing about the certificate");
    assertEquals(3, peer.connections.get());
  }

  @Test
  void anAlertAtTheFirstAttemptIsTheVerdictAtOnce() throws Exception {
    peer = new FakePeer(List.of(Answer.ALERT));
    assertNotNull(probe());
    assertEquals(1, peer.connections.get());
  }

  @Test
  void aPeerThatAnswersTheHelloWithoutACertificateIsNotATlsPort() throws Exception {
    peer = new FakePeer(List.of(Answer.ALERT, Answer.CLOSE));
    assertFalse(TlsProbe.answersInTls("127.0.0.1", peer.port(), Duration.ofSeconds(10)));
    assertFalse(TlsProbe.answersInTls("127.0.0.1", peer.port(), Duration.ofSeconds(10)));
    assertEquals(2, peer.connections.get());
  }

  @Test
  void noPeerListeningIsNoVerdict() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    SSLContext jdk = SSLContext.getInstance("TLS");
    jdk.init(null, null, null);
    assertNull(TlsProbe.handshake(jdk, "127.0.0.1", port, Duration.ofSeconds(5)));
    assertFalse(TlsProbe.answersInTls("127.0.0.1", port, Duration.ofSeconds(5)));
  }

  private SSLException probe() throws Exception {
    SSLContext jdk = SSLContext.getInstance("TLS");
    jdk.init(null, null, null);
    return TlsProbe.handshake(jdk, "127.0.0.1", peer.port(), Duration.ofSeconds(10));
  }

  /** Accepts connections one at a time and answers each one's first bytes with the next answer. */
  private static final class FakePeer implements AutoCloseable {
    final AtomicInteger connections = new AtomicInteger();
    private final ServerSocket server;
    private final Thread thread;

    FakePeer(List<Answer> answers) throws IOException {
      server = new ServerSocket(0, 8, InetAddress.getLoopbackAddress());
      thread = new Thread(() -> serve(answers), "fake-tls-peer");
      thread.setDaemon(true);
      thread.start();
    }

    int port() {
      return server.getLocalPort();
    }

    private void serve(List<Answer> answers) {
      for (Answer a : answers) {
        try (Socket s = server.accept()) {
          connections.incrementAndGet();
          InputStream in = s.getInputStream();
          if (in.read(new byte[16 * 1024]) < 0) {
            continue;
          }
          switch (a) {
            case RESET -> s.setSoLinger(true, 0); // close() then sends a reset
            case CLOSE -> s.shutdownOutput();
            case ALERT -> {
              OutputStream out = s.getOutputStream();
              out.write(CERTIFICATE_REQUIRED);
              out.flush();
            }
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
