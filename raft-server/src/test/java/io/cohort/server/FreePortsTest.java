package io.cohort.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.util.HashSet;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Local clusters' ports lie below the ephemeral range, where no outgoing connection takes them. */
class FreePortsTest {
  @Test
  void portsAreDistinctBindableAndBelowTheEphemeralRangeWithRoomForTheMetricsPort() throws IOException {
    List<Integer> ports = FreePorts.pick(6);
    assertEquals(6, new HashSet<>(ports).size(), ports.toString());
    for (int p : ports) {
      assertTrue(p >= 10_000 && p + 1_000 < FreePorts.ephemeralLow(), p + " against " + FreePorts.ephemeralLow());
      try (ServerSocket s = new ServerSocket()) {
        s.bind(new InetSocketAddress("127.0.0.1", p));
      }
    }
  }

  @Test
  void theRangeIsReadFromTheKernel() throws IOException {
    if (Files.isReadable(FreePorts.RANGE)) {
      String first = Files.readAllLines(FreePorts.RANGE).get(0).trim().split("\\s+")[0];
      assertEquals(Integer.parseInt(first), FreePorts.ephemeralLow(), "the range's low end, " + first);
    }
  }

  @Test
  void consecutivePortsAreFreeTogether() throws IOException {
    int base = FreePorts.consecutive(3);
    assertTrue(base >= 10_000 && base + 2 + 1_000 < FreePorts.ephemeralLow(), String.valueOf(base));
    try (ServerSocket a = bound(base); ServerSocket b = bound(base + 1); ServerSocket c = bound(base + 2)) {
      assertEquals(base + 2, c.getLocalPort());
    }
  }

  private static ServerSocket bound(int port) throws IOException {
    ServerSocket s = new ServerSocket();
    s.bind(new InetSocketAddress("127.0.0.1", port));
    return s;
  }
}
