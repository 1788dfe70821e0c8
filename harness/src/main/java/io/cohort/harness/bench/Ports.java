package io.cohort.harness.bench;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;

/** Free loopback ports, picked at run time. */
public final class Ports {
  private Ports() {}

  /** The first of three consecutive free ports on 127.0.0.1. */
  public static int freeBase() throws IOException {
    for (int attempt = 0; attempt < 50; attempt++) {
      int base;
      try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
        base = s.getLocalPort();
      }
      if (base > 65000) {
        continue;
      }
      boolean free = true;
      for (int i = 1; i < 3 && free; i++) {
        try (ServerSocket s = new ServerSocket(base + i, 1, InetAddress.getLoopbackAddress())) {
          free = true;
        } catch (IOException e) {
          free = false;
        }
      }
      if (free) {
        return base;
      }
    }
    throw new IOException("found no three free consecutive ports on 127.0.0.1");
  }

  public static String peers(int base) {
    return "n1=127.0.0.1:" + base + ",n2=127.0.0.1:" + (base + 1) + ",n3=127.0.0.1:" + (base + 2);
  }
}
