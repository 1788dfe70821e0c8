package io.cohort.server;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cohort.server.metrics.Cmd;
import io.cohort.server.metrics.MetricsSettings;
import io.cohort.server.metrics.Scrape;
import io.cohort.server.testing.MiniCluster;
import io.cohort.server.testing.TestClient;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A restarted node: its new metrics see the snapshot it loaded, and its coordinator reports to them. */
class MetricsRestartTest {
  @TempDir
  Path dir;

  @Test
  void aNodeRestartedFromASnapshotTimesTheLoad_andItsCoordinatorReportsToTheNewMetrics() throws Exception {
    try (MiniCluster cluster = MiniCluster.builder(1, dir).httpEndpoint(MetricsSettings.OFF).start()) {
      cluster.leaderId();
      try (TestClient client = cluster.client()) {
        client.write(Cmd.topic("t", 4));
        client.write(Cmd.group("g", "t", 10_000));
      }
      Scrape before = Scrape.of(cluster.httpUri("n1"));
      assertEquals(0, before.valueOrZero("cohort_snapshot_load_seconds"));
      cluster.kill("n1"); // stopping takes a snapshot
      cluster.restart("n1");
      CohortServer node = cluster.server("n1");
      assertSame(node.metrics().events(), node.stateMachine().coordinatorEvents(),
          "the coordinator loaded from the snapshot reports to this run's metrics");
      Scrape after = Scrape.of(cluster.httpUri("n1"));
      assertEquals(1, after.valueOrZero("cohort_snapshot_load_seconds"));
      assertTrue(after.valueOrZero("cohort_snapshot_index") >= 2);
      assertEquals(4, after.valueOrZero("cohort_partitions", "group", "g", "status", "UNASSIGNED"),
          "the loaded state is what the metrics read");
      await().atMost(MiniCluster.TIMEOUT).until(() -> Scrape.get(cluster.httpUri("n1"), "/readyz").statusCode() == 200);
    }
  }
}
