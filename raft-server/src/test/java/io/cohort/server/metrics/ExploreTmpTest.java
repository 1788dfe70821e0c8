package io.cohort.server.metrics;

import io.cohort.server.testing.MiniCluster;
import io.cohort.server.testing.TestClient;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.CreateTopic;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ExploreTmpTest {
  @Test
  void dump(@TempDir Path dir) throws Exception {
    try (MiniCluster c = MiniCluster.builder(3, dir).httpEndpoint(MetricsSettings.OFF).start()) {
      String leader = c.leaderId();
      try (TestClient client = c.client()) {
        client.write(Command.newBuilder().setCreateTopic(CreateTopic.newBuilder().setTopic("t").setPartitions(3)).build());
      }
      for (String id : c.ids()) {
        Files.writeString(Path.of("/tmp/scrape-" + id + ".txt"), Scrape.get(c.httpUri(id), "/metrics").body());
        System.out.println(id + " readyz " + Scrape.get(c.httpUri(id), "/readyz").body());
        System.out.println(id + " families " + Scrape.of(c.httpUri(id)).families().size());
      }
    }
  }
}
