package io.cohort.server;

import static io.cohort.server.Commands.createTopic;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cohort.server.snapshot.SnapshotDirectory;
import io.cohort.server.testing.MiniCluster;
import io.cohort.server.testing.TestClient;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.statemachine.impl.SingleFileSnapshotInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A snapshot file appears under its Ratis name only with its MD5 sidecar already beside it. Ratis
 * caches the first snapshot a scan of {@code sm/} finds and reports it in its group info (what
 * {@code snapshot take} and {@code snapshot save} wait for); a file found without its MD5 would be
 * reported durable, and cached without a digest, before it is.
 */
class SnapshotMd5Test {
  @TempDir
  Path dir;

  @Test
  void aSnapshotFileNeverAppearsWithoutItsMd5() throws Exception {
    try (MiniCluster cluster = MiniCluster.builder(1, dir).autoSnapshotEvery(0).start();
         TestClient client = cluster.client()) {
      String node = cluster.leaderId();
      Set<String> withoutMd5 = ConcurrentHashMap.newKeySet();
      AtomicBoolean watching = new AtomicBoolean(true);
      Thread watcher = new Thread(() -> {
        while (watching.get()) {
          try {
            for (SnapshotDirectory.Listing l : SnapshotDirectory.list(cluster.storageDir(node))) {
              if (!l.hasMd5() && l.file().toFile().exists()) {
                withoutMd5.add(l.file().getFileName().toString());
              }
            }
          } catch (java.io.IOException e) {
            // the dir changed while listed: look again
          }
        }
      }, "md5-watcher");
      watcher.start();
      try {
        for (int i = 0; i < 8; i++) {
          client.write(createTopic("t" + i, 200));
          long applied = cluster.server(node).stateMachine().appliedIndex();
          assertTrue(client.raft().getSnapshotManagementApi(RaftPeerId.valueOf(node)).create(true, 60_000).isSuccess());
          await().atMost(MiniCluster.TIMEOUT).until(() -> {
            List<SnapshotDirectory.Listing> files = SnapshotDirectory.list(cluster.storageDir(node));
            return !withoutMd5.isEmpty() || !files.isEmpty() && files.get(0).index() >= applied && files.get(0).hasMd5();
          });
          assertEquals(Set.of(), withoutMd5, "snapshot files seen without their .md5");
        }
      } finally {
        watching.set(false);
        watcher.join();
      }
      assertEquals(Set.of(), withoutMd5, "snapshot files seen without their .md5");
      SingleFileSnapshotInfo latest = cluster.server(node).stateMachine().getStateMachineStorage().getLatestSnapshot();
      assertNotNull(latest.getFile().getFileDigest(), "Ratis' cached newest snapshot has its MD5");
    }
  }
}
