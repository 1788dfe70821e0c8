package io.cohort.harness.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The short chaos run of CI (scripts/chaos.sh runs the long one): three real server processes,
 * leader and follower kill -9 and restarts for {@code cohort.chaos.seconds} (default 75), a member
 * replaced by a fresh node (first after 20 s), consumer restarts, splits of an order=true topic;
 * every check of {@link ChaosDriver} must pass.
 */
@Tag("alone") // loads both cores: after the other classes, one at a time
class ChaosTest {
  @TempDir
  Path tmp;

  @Test
  void R2_R3_R5_noLostCommitNeverTwoHoldersOrderKeptReplicasIdenticalUnderKills() throws Exception {
    long seconds = Long.getLong("cohort.chaos.seconds", 75);
    long seed = Long.getLong("cohort.chaos.seed", System.currentTimeMillis());
    ChaosDriver.Report report = new ChaosDriver(new ChaosDriver.Settings(Duration.ofSeconds(seconds), tmp,
        List.of("-XX:+UseG1GC", "-Xms128m", "-Xmx512m"), seed, 0.8, Duration.ofSeconds(20), Duration.ofSeconds(40),
        Duration.ofSeconds(9)),
        System.out).run();
    Chaos.print(System.out, report, seed);
    assertTrue(report.ok(), "seed " + seed + ": " + report.violations());
    assertTrue(report.counts().getOrDefault("leader kills", 0L) >= 2, "leader kills: " + report.counts());
    assertTrue(report.counts().getOrDefault("node replacements (cluster replace old new)", 0L) >= 1,
        "at least one replacement: " + report.counts());
    assertTrue(report.counts().getOrDefault("acknowledged commits", 0L) > 0, "commits: " + report.counts());
    assertEquals(0L, report.counts().get(ChaosDriver.LOST_IN_PAUSE), "a leader stopped 9 s: " + report.counts());
    assertTrue(report.counts().getOrDefault("replicas with the same state digest", 0L) == 3, report.counts().toString());
  }
}
