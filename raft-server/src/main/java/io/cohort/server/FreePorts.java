package io.cohort.server;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Ports for local clusters (tests, the demo, benches), picked below the kernel's ephemeral range.
 * A port the kernel handed out (bind to port 0) is also where it puts the source ports of outgoing
 * connections, so a node restarted on its port could find it taken by one (CI saw restarts fail to
 * bind; whether to such a connection or to the other test fork is not known). Below the range only
 * another listener can take it, and forks picking at random over ~21,000 ports rarely meet.
 */
public final class FreePorts {
  private static final int LOWEST = 10_000;
  /** A node's metrics endpoint defaults to its Raft port + 1000: that one stays below the range too. */
  private static final int HEADROOM = 1_000;
  private static final int ATTEMPTS = 1_000;
  static final Path RANGE = Path.of("/proc/sys/net/ipv4/ip_local_port_range");
  private static final int DEFAULT_EPHEMERAL_LOW = 32_768;

  private FreePorts() {}

  /** {@code n} distinct ports free on every local address now. */
  public static List<Integer> pick(int n) {
    List<Integer> ports = new ArrayList<>();
    for (int attempt = 0; ports.size() < n && attempt < ATTEMPTS; attempt++) {
      int p = candidate(1);
      if (!ports.contains(p) && free(p)) {
        ports.add(p);
      }
    }
    if (ports.size() < n) {
      throw new UncheckedIOException(new IOException("found no " + n + " free ports below " + ephemeralLow()));
    }
    return ports;
  }

  /** The first of {@code n} consecutive ports free on every local address now. */
  public static int consecutive(int n) {
    for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
      int base = candidate(n);
      boolean all = true;
      for (int i = 0; i < n && all; i++) {
        all = free(base + i);
      }
      if (all) {
        return base;
      }
    }
    throw new UncheckedIOException(new IOException("found no " + n + " consecutive free ports below " + ephemeralLow()));
  }

  private static int candidate(int span) {
    int high = ephemeralLow() - HEADROOM - span; // exclusive
    return ThreadLocalRandom.current().nextInt(LOWEST, Math.max(LOWEST + 1, high));
  }

  private static boolean free(int port) {
    try (ServerSocket s = new ServerSocket()) {
      s.bind(new InetSocketAddress(port), 1); // the wildcard: taken on any address is taken
      return true;
    } catch (IOException taken) {
      return false;
    }
  }

  /** Linux's first ephemeral port (32768 by default); 32768 where the file is not there or implausible. */
  static int ephemeralLow() {
    // a line reader: Files.readString gets one byte of this /proc file on JDK 17
    try (BufferedReader r = Files.newBufferedReader(RANGE)) {
      int low = Integer.parseInt(r.readLine().trim().split("\\s+")[0]);
      return low >= LOWEST + 10 * HEADROOM ? low : DEFAULT_EPHEMERAL_LOW;
    } catch (IOException | RuntimeException unknown) {
      return DEFAULT_EPHEMERAL_LOW;
    }
  }
}
