package io.cohort.tools;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.atomic.AtomicInteger;

/** A listening loopback port that counts every connection made to it: proof that nothing was contacted. */
public final class Tripwire implements AutoCloseable {
  private final ServerSocket socket;
  private final AtomicInteger connections = new AtomicInteger();
  private final Thread acceptor;

  public Tripwire() throws IOException {
    socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    acceptor = new Thread(() -> {
      while (!socket.isClosed()) {
        try (Socket s = socket.accept()) {
          connections.incrementAndGet();
        } catch (IOException e) {
          return; // closed
        }
      }
    }, "tripwire");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  /** Three peers, all on this port. */
  public String peers() {
    int p = socket.getLocalPort();
    return "n1=127.0.0.1:" + p + ",n2=localhost:" + p + ",n3=[::1]:" + p;
  }

  public int connections() {
    return connections.get();
  }

  @Override
  public void close() throws Exception {
    socket.close();
    acceptor.join(5000);
  }
}
