package io.cohort.client;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP proxy in front of one node that loses one reply, as a network that fails at the wrong
 * moment does: it forwards everything, until (armed) a request carrying {@code marker} passes
 * towards the server; from then on that connection's bytes towards the client are dropped, and
 * {@link #cut()} closes it. The client never sees the reply of a command the server applied.
 */
final class ReplyDroppingProxy implements AutoCloseable {
  private final ServerSocket listener;
  private final int targetPort;
  private final byte[] marker;
  private final AtomicBoolean armed = new AtomicBoolean();
  private final CountDownLatch triggered = new CountDownLatch(1);
  private final AtomicLong dropped = new AtomicLong();
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();
  private final List<Socket> dropping = new CopyOnWriteArrayList<>();
  private final Thread acceptor;

  ReplyDroppingProxy(int targetPort, byte[] marker) throws IOException {
    this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    this.targetPort = targetPort;
    this.marker = marker.clone();
    this.acceptor = new Thread(this::acceptLoop, "reply-dropping-proxy");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  int port() {
    return listener.getLocalPort();
  }

  /** The next request carrying the marker loses its reply. */
  void arm() {
    armed.set(true);
  }

  CountDownLatch triggered() {
    return triggered;
  }

  /** Bytes towards the client dropped so far. */
  long droppedBytes() {
    return dropped.get();
  }

  /** Closes the connection whose reply was dropped. */
  void cut() {
    for (Socket s : dropping) {
      closeQuietly(s);
    }
  }

  private void acceptLoop() {
    while (!listener.isClosed()) {
      try {
        Socket client = listener.accept();
        Socket server = new Socket(InetAddress.getLoopbackAddress(), targetPort);
        sockets.add(client);
        sockets.add(server);
        AtomicBoolean dropReplies = new AtomicBoolean();
        pump("proxy-up", client, server, () -> {
          if (armed.compareAndSet(true, false)) {
            dropReplies.set(true);
            dropping.add(client);
            dropping.add(server);
            triggered.countDown();
          }
        });
        pump("proxy-down", server, client, null, dropReplies);
      } catch (IOException e) {
        return; // closed
      }
    }
  }

  private void pump(String name, Socket from, Socket to, Runnable onMarker) {
    pump(name, from, to, onMarker, new AtomicBoolean());
  }

  /** Copies bytes; {@code onMarker} runs when the marker passes; with {@code drop} set, bytes are discarded. */
  private void pump(String name, Socket from, Socket to, Runnable onMarker, AtomicBoolean drop) {
    Thread t = new Thread(() -> {
      byte[] buf = new byte[16 * 1024];
      byte[] tail = new byte[0];
      try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
        int n;
        while ((n = in.read(buf)) >= 0) {
          if (onMarker != null) {
            byte[] window = new byte[tail.length + n];
            System.arraycopy(tail, 0, window, 0, tail.length);
            System.arraycopy(buf, 0, window, tail.length, n);
            if (indexOf(window, marker) >= 0) {
              onMarker.run();
            }
            tail = Arrays.copyOfRange(window, Math.max(0, window.length - marker.length + 1), window.length);
          }
          if (drop.get()) {
            dropped.addAndGet(n);
            continue;
          }
          out.write(buf, 0, n);
          out.flush();
        }
      } catch (IOException e) {
        // one side closed
      } finally {
        closeQuietly(from);
        closeQuietly(to);
      }
    }, name);
    t.setDaemon(true);
    t.start();
  }

  private static int indexOf(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException e) {
      // closing anyway
    }
  }

  @Override
  public void close() throws IOException {
    listener.close();
    for (Socket s : sockets) {
      closeQuietly(s);
    }
  }
}
