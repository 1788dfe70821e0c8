package io.cohort.harness.bench;

import io.cohort.server.FreePorts;

/** Free loopback ports, picked at run time. */
public final class Ports {
  private Ports() {}

  /** The first of three consecutive free ports (see {@link FreePorts}). */
  public static int freeBase() {
    return FreePorts.consecutive(3);
  }

  public static String peers(int base) {
    return "n1=127.0.0.1:" + base + ",n2=127.0.0.1:" + (base + 1) + ",n3=127.0.0.1:" + (base + 2);
  }
}
