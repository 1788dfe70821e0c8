package io.cohort.server;

import static io.cohort.server.Commands.*;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.*;

import io.cohort.server.snapshot.SnapshotDirectory;
import io.cohort.server.testing.MiniCluster;
import io.cohort.server.testing.TestClient;
import io.cohort.statemachine.proto.Grant;
import io.cohort.statemachine.proto.HeartbeatResult;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.ratis.protocol.RaftClientReply;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Automatic snapshots come once per threshold of entries, not twice. Ratis asks for a snapshot on
 * every apply until it is told of a durable one, and the write runs in the background; the call
 * that finds it finished used to start a second write one or a few entries later, every time. Told
 * nothing (or told too late), Ratis would keep asking and writes would follow each other back to back.
 */
class SnapshotCadenceTest {
  private static final int EVERY = 100;
  private static final int COMMITS = 1_000; // the ticker adds entries too

  @TempDir Path dir;

  @Test
  void oneSnapshotWritePerThresholdOfEntries() throws Exception {
    try (MiniCluster cluster = MiniCluster.builder(1, dir).autoSnapshotEvery(EVERY).snapshotsRetained(1_000).start();
         TestClient client = cluster.client()) {
      String node = cluster.leaderId();
      client.write(createTopic("t", 8));
      client.write(createGroup("g", "t", 120_000));
      HeartbeatResult a = client.write(join("g", "A")).getHeartbeat();
      for (int batch = 0; batch < COMMITS / 100; batch++) {
        List<CompletableFuture<RaftClientReply>> inFlight = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
          Grant grant = a.getGrants(i % a.getGrantsCount());
          inFlight.add(client.raft().async().send(Messages.of(commit("g", "A", a.getSessionToken(), grant,
              "c-" + batch + "-" + i))));
        }
        for (CompletableFuture<RaftClientReply> f : inFlight) {
          assertTrue(f.get().isSuccess());
        }
      }
      CohortStateMachine sm = cluster.server(node).stateMachine();
      long applied = sm.appliedIndex();
      await().atMost(MiniCluster.TIMEOUT).until(() -> sm.snapshotStats().lastIndex() >= applied - 2 * EVERY);
      List<Long> written = SnapshotDirectory.list(cluster.storageDir(node)).stream()
          .map(SnapshotDirectory.Listing::index).sorted().toList();
      assertTrue(written.size() >= 3, "snapshots kept coming: " + written);
      for (int i = 1; i < written.size(); i++) {
        assertTrue(written.get(i) - written.get(i - 1) >= EVERY,
            "a snapshot only " + (written.get(i) - written.get(i - 1)) + " entries after the one before: " + written);
      }

    }
  }
}
