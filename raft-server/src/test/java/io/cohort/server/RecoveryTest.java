package io.cohort.server;

import static io.cohort.server.Commands.*;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.*;

import io.cohort.server.snapshot.SnapshotDirectory;
import io.cohort.server.snapshot.SnapshotFile;
import io.cohort.server.testing.MiniCluster;
import io.cohort.server.testing.TestClient;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.Grant;
import io.cohort.statemachine.proto.GroupView;
import io.cohort.statemachine.proto.HeartbeatResult;
import io.cohort.statemachine.proto.MemberView;
import io.cohort.statemachine.proto.Result;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.raftlog.RaftLog;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Restart from snapshot plus log, and a lagging follower caught up by snapshot install (section 4). */
class RecoveryTest {
  @TempDir Path dir;

  @Test
  void fullRestartOfAllNodesRecoversGroupsSessionsAndCheckpointsFromSnapshotAndLog() throws Exception {
    try (MiniCluster cluster = MiniCluster.builder(3, dir).autoSnapshotEvery(0).start();
         TestClient client = cluster.client()) {
      String leader = cluster.leaderId();
      client.write(createTopic("t1", 3));
      client.write(createTopic("t2", 2));
      client.write(createGroup("g1", "t1", 120_000));
      client.write(createGroup("g2", "t2", 120_000));
      HeartbeatResult a = client.write(join("g1", "A")).getHeartbeat();
      HeartbeatResult b = client.write(join("g2", "B")).getHeartbeat();
      commitAll(client, "g1", "A", a, "before-snapshot");
      commitAll(client, "g2", "B", b, "before-snapshot");

      // An explicit snapshot on every node, then more entries that only the log holds.
      for (String id : cluster.ids()) {
        long applied = cluster.server(id).stateMachine().appliedIndex();
        RaftClientReply r = client.raft().getSnapshotManagementApi(RaftPeerId.valueOf(id)).create(true, 60_000);
        assertTrue(r.isSuccess(), id + ": " + r.getException());
        // The request returns at once; the file becomes durable in the background.
        org.awaitility.Awaitility.await(id + " snapshot file").atMost(MiniCluster.TIMEOUT).until(() -> {
          var files = SnapshotDirectory.list(cluster.storageDir(id));
          return !files.isEmpty() && files.get(0).index() >= applied && files.get(0).hasMd5();
        });
      }
      // The CLI's offline view: one group and one checkpoint read straight from the newest file.
      SnapshotDirectory.Listing newest = SnapshotDirectory.list(cluster.storageDir(leader)).get(0);
      try (SnapshotFile f = SnapshotFile.open(newest.file())) {
        f.verify();
        SnapshotFile.GroupSnapshot g = f.group("g1").orElseThrow();
        assertEquals("A", g.members().get(0).getConsumerId());
        assertEquals(a.getSessionToken(), g.members().get(0).getSessionToken(), "the token survives the snapshot");
        assertEquals(3, g.slots().size());
        assertEquals("before-snapshot", f.slot("g2", "t2", 1).orElseThrow().getCheckpoint().getCursor());
      }
      commitAll(client, "g1", "A", a, "after-snapshot");
      client.write(join("g1", "C"));
      GroupView g1 = client.read(describeGroup("g1")).getGroup();
      GroupView g2 = client.read(describeGroup("g2")).getGroup();
      var cps1 = client.read(listCheckpoints("g1")).getCheckpoints();
      var cps2 = client.read(listCheckpoints("g2")).getCheckpoints();
      assertEquals(2, g1.getMembersCount());
      cluster.awaitSameDigest();

      for (String id : cluster.ids()) {
        cluster.kill(id);
      }
      Path unfinished = cluster.storageDir("n1").resolve(io.cohort.client.CohortGroup.ID.getUuid().toString())
          .resolve("sm").resolve("snapshot.9_99999.tmp");
      java.nio.file.Files.writeString(unfinished, "a write that crashed");
      for (String id : cluster.ids()) {
        cluster.restart(id);
      }
      assertFalse(java.nio.file.Files.exists(unfinished), "unfinished snapshot write deleted at start");
      assertNotNull(cluster.leaderId(), "was " + leader);

      for (String id : cluster.ids()) {
        var stats = cluster.server(id).stateMachine().snapshotStats();
        assertEquals(1, stats.loads(), id + " loaded its snapshot at start");
        assertTrue(stats.lastLoadIndex() > 0, id);
        assertFalse(SnapshotDirectory.list(cluster.storageDir(id)).isEmpty(), id);
      }
      assertEquals(withoutAges(cps1), withoutAges(client.read(listCheckpoints("g1")).getCheckpoints()));
      assertEquals(withoutAges(cps2), withoutAges(client.read(listCheckpoints("g2")).getCheckpoints()));
      assertEquals(withoutTimes(g1), withoutTimes(client.read(describeGroup("g1")).getGroup()));
      assertEquals(withoutTimes(g2), withoutTimes(client.read(describeGroup("g2")).getGroup()));
      // The sessions survived: the old session renews, nobody had to join again.
      Result renewed = client.write(heartbeat("g1", "A", a.getSessionToken(), a.getGrantsList()));
      assertEquals(Code.OK, renewed.getCode(), renewed.getMessage());
      cluster.awaitSameDigest();
    }
  }

  @Test
  void followerStoppedWhileLeaderSnapshotsAndPurgesCatchesUpBySnapshotInstall() throws Exception {
    try (MiniCluster cluster = MiniCluster.builder(3, dir).autoSnapshotEvery(40).snapshotsRetained(2)
        .ratis("raft.server.log.segment.size.max", "8KB")
        .ratis("raft.server.log.purge.gap", "1")
        .start();
         TestClient client = cluster.client()) {
      String leader = cluster.leaderId();
      client.write(createTopic("t", 8));
      client.write(createGroup("g", "t", 120_000));
      HeartbeatResult a = client.write(join("g", "A")).getHeartbeat();
      String follower = cluster.ids().stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();
      cluster.kill(follower);
      long followerIndex = lastLogIndex(cluster, leader) ;

      // Enough entries for several snapshots and purged segments on the leader.
      List<CompletableFuture<RaftClientReply>> inFlight = new ArrayList<>();
      for (int i = 0; i < 400; i++) {
        Grant grant = a.getGrants(i % a.getGrantsCount());
        inFlight.add(client.raft().async().send(Messages.of(commit("g", "A", a.getSessionToken(), grant, "c-" + i))));
      }
      for (CompletableFuture<RaftClientReply> f : inFlight) {
        assertTrue(f.get().isSuccess());
      }
      RaftLog leaderLog = cluster.server(leader).division().getRaftLog();
      await().atMost(MiniCluster.TIMEOUT).until(() -> leaderLog.getStartIndex() > followerIndex + 1);
      await("retention keeps 2 snapshots").atMost(MiniCluster.TIMEOUT)
          .until(() -> SnapshotDirectory.list(cluster.storageDir(leader)).size() <= 2);

      cluster.restart(follower);
      var leaderStats = cluster.server(leader).stateMachine().snapshotStats();
      assertTrue(leaderStats.taken() >= 2, "leader snapshots: " + leaderStats);
      assertTrue(leaderStats.maxPauseMicros() > 0, "the apply pause is measured: " + leaderStats);
      var digest = cluster.awaitSameDigest();
      var stats = cluster.server(follower).stateMachine().snapshotStats();
      assertTrue(stats.lastLoadIndex() > followerIndex + 1,
          "follower loaded the leader's snapshot: " + stats + ", it stopped at " + followerIndex);
      // awaitSameDigest compared the follower too; comparing again later would race the ticks.
      assertTrue(cluster.running().contains(follower) && digest.getAppliedIndex() > followerIndex, digest.toString());
      assertEquals("c-399", FailoverTest.checkpoint(client, "g", a.getGrants(399 % a.getGrantsCount())
          .getPartition()).getCursor());
    }
  }

  private static long lastLogIndex(MiniCluster cluster, String id) throws Exception {
    return cluster.server(id).division().getRaftLog().getLastEntryTermIndex().getIndex();
  }

  private static void commitAll(TestClient client, String group, String consumer, HeartbeatResult hb,
      String cursor) {
    for (Grant g : hb.getGrantsList()) {
      Command c = commit(group, consumer, hb.getSessionToken(), g, cursor);
      assertEquals(List.of(Code.OK), client.write(c).getCommit().getCodesList());
    }
  }

  private static io.cohort.statemachine.proto.CheckpointList withoutAges(io.cohort.statemachine.proto.CheckpointList l) {
    var b = l.toBuilder().clearCheckpoints();
    for (var c : l.getCheckpointsList()) { // ages move with the state's time
      b.addCheckpoints(c.toBuilder().setHealth(c.getHealth().toBuilder().clearCheckpointAgeMs()
          .clearHolderHeartbeatAgeMs()));
    }
    return b.build();
  }

  private static GroupView withoutTimes(GroupView g) {
    GroupView.Builder b = g.toBuilder().clearNowMs().clearMembers().clearPartitions();
    for (MemberView m : g.getMembersList()) {
      b.addMembers(m.toBuilder().clearDeadlineMs().clearLastHeartbeatMs());
    }
    for (var p : g.getPartitionsList()) { // ages move with the state's time
      b.addPartitions(p.toBuilder().setHealth(p.getHealth().toBuilder().clearCheckpointAgeMs()
          .clearHolderHeartbeatAgeMs()));
    }
    return b.build();
  }
}
