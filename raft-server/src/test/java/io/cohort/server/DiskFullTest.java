package io.cohort.server;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cohort.server.metrics.Cmd;
import io.cohort.server.metrics.MetricsSettings;
import io.cohort.server.metrics.Scrape;
import io.cohort.server.testing.MiniCluster;
import io.cohort.server.testing.TestClient;
import io.cohort.statemachine.proto.CheckpointEntry;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.CommitCheckpoints;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real full disk: one follower's storage on a small tmpfs. Needs {@code mount} (root, and a
 * sandbox that allows it); skipped otherwise, as {@link ReadinessTest} injects the same failure
 * everywhere. Shows that Ratis reports ENOSPC through the path {@code /readyz} watches.
 */
class DiskFullTest {
  private static final String SIZE = "12m";

  @TempDir
  Path dir;

  @Test
  void aFollowerWhoseDiskFillsIsNotReady() throws Exception {
    Path n3 = Files.createDirectories(dir.resolve("n3"));
    String mountProblem = run("mount", "-t", "tmpfs", "-o", "size=" + SIZE, "tmpfs", n3.toString());
    Assumptions.assumeTrue(mountProblem == null, "cannot mount a tmpfs here (" + mountProblem
        + "): the injected log failure of ReadinessTest covers this");
    // The node stops itself on the failure (step 10, FailStopTest); kept running here to see /readyz.
    try (MiniCluster cluster = MiniCluster.builder(3, dir).httpEndpoint(MetricsSettings.OFF).keepFailedNodesRunning()
        .start();
        TestClient client = cluster.client()) {
      if (cluster.leaderId().equals("n3")) {
        cluster.kill("n3"); // the disk-full node should be a follower
        cluster.restart("n3");
      }
      String leader = cluster.leaderId();
      await().atMost(MiniCluster.TIMEOUT).until(() -> Scrape.get(cluster.httpUri("n3"), "/readyz").statusCode() == 200);
      // ~500 KB commands (their entries are FENCED, but every byte is logged) until n3's tmpfs is full.
      Command big = Command.newBuilder().setCommitCheckpoints(CommitCheckpoints.newBuilder().setGroup("nobody")
          .setConsumerId("c").setSessionToken(com.google.protobuf.ByteString.copyFrom(new byte[16])).addAllEntries(java.util.Collections.nCopies(500, CheckpointEntry
              .newBuilder().setTopic("t").setPartition(0).setEpoch(1).setCursor("x".repeat(1000)).build()))).build();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      int sent = 0;
      while (cluster.server("n3").stateMachine().logFailure() == null && sent < 100 && System.nanoTime() < deadline) {
        client.write(big);
        sent++;
      }
      await("n3 not ready").atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
        HttpResponse<String> r = Scrape.get(cluster.httpUri("n3"), "/readyz");
        assertEquals(503, r.statusCode(), r.body());
        assertTrue(r.body().startsWith("raft log write failed"), r.body());
      });
      System.out.println("n3 after " + sent + " commands: " + cluster.server("n3").stateMachine().logFailure());
      client.write(Cmd.topic("after", 1)); // the others still commit
      Scrape s = Scrape.of(cluster.httpUri("n3"));
      assertEquals(1, s.valueOrZero("cohort_raft_log_failed"));
      assertEquals(200, Scrape.get(cluster.httpUri(leader), "/readyz").statusCode());
      assertTrue(cluster.stopped().stream().anyMatch(x -> x.id().equals("n3") && x.exitCode() == FailStop.FAILED),
          "and it decided to stop: " + cluster.stopped());
    } finally {
      String problem = run("umount", "-l", n3.toString());
      if (problem != null) {
        System.err.println("umount " + n3 + ": " + problem);
      }
    }
  }

  /** Null when the command exits 0, else what went wrong. */
  private static String run(String... command) throws InterruptedException {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return String.join(" ", command) + " timed out";
      }
      String out = new String(p.getInputStream().readAllBytes()).trim();
      return p.exitValue() == 0 ? null : "exit " + p.exitValue() + ": " + out;
    } catch (IOException e) {
      return e.getMessage();
    }
  }
}
