package io.cohort.harness.netns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.opentest4j.TestAbortedException;

/** The namespace plumbing of the partition tests: the skip where it cannot work, and stale clean-up. */
class NetNsTest {
  @Test
  void withoutNamespacesThePartitionTestsAreSkippedSayingWhy() {
    String failed = NetNs.unavailable("false").orElseThrow();
    assertTrue(failed.contains("'false netns add' failed (exit 1)"), failed);
    String missing = NetNs.unavailable("/nonexistent/ip").orElseThrow();
    assertTrue(missing.startsWith("cannot run '/nonexistent/ip'"), missing);
    TestAbortedException skipped = assertThrows(TestAbortedException.class,
        () -> NetworkPartitionTest.assumeNamespaces("false"));
    assertTrue(skipped.getMessage().contains("network partition tests skipped: cannot create network namespaces here"),
        skipped.getMessage());
  }

  @Test
  void cleanStaleRemovesOnlyNamespacesOfRunsThatAreGone() throws Exception {
    NetworkPartitionTest.assumeNamespaces(NetNs.ipCommand());
    long dead = deadPid();
    String stale = NetNs.PREFIX + dead + "-n1";
    String live = NetNs.PREFIX + ProcessHandle.current().pid() + "-keep";
    String other = "cohort-other-" + dead;
    try {
      for (String ns : List.of(stale, live, other)) {
        assertEquals(0, ip("netns", "add", ns), ns);
      }
      List<String> removed = NetNs.cleanStale(NetNs.ipCommand());
      assertEquals(List.of(stale), removed);
      String left = list();
      assertFalse(left.contains(stale), left);
      assertTrue(left.contains(live) && left.contains(other), left);
    } finally {
      for (String ns : List.of(stale, live, other)) {
        ip("netns", "del", ns);
      }
    }
  }

  private static long deadPid() {
    for (long pid = 4_000_000; pid > 1_000; pid -= 7919) {
      if (ProcessHandle.of(pid).isEmpty()) {
        return pid;
      }
    }
    throw new IllegalStateException("no free pid found");
  }

  private static String list() throws IOException, InterruptedException {
    Process p = new ProcessBuilder(NetNs.ipCommand(), "netns", "list").start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    p.waitFor(20, TimeUnit.SECONDS);
    return out;
  }

  private static int ip(String... args) throws IOException, InterruptedException {
    List<String> cmd = new java.util.ArrayList<>();
    cmd.add(NetNs.ipCommand());
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    p.getInputStream().readAllBytes();
    return p.waitFor(20, TimeUnit.SECONDS) ? p.exitValue() : -1;
  }
}
