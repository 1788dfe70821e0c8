package io.cohort.server.bench;

import io.cohort.server.snapshot.SnapshotDirectory;
import io.cohort.server.testing.MiniCluster;
import io.cohort.server.testing.TestClient;
import io.cohort.statemachine.Limits;
import io.cohort.statemachine.proto.CheckpointEntry;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.CommitCheckpoints;
import io.cohort.statemachine.proto.CreateGroup;
import io.cohort.statemachine.proto.CreateTopic;
import io.cohort.statemachine.proto.Grant;
import io.cohort.statemachine.proto.Heartbeat;
import io.cohort.statemachine.proto.HeartbeatResult;
import io.cohort.statemachine.proto.Leave;
import io.cohort.statemachine.proto.Result;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftPeerId;

/**
 * A follower catching up by snapshot install, in a 3-node MiniCluster: stop a follower, build
 * {@code checkpoints} checkpoints through the cluster (topics of 10,000 partitions, one group and
 * member each, which then leaves), snapshot the leader (its log is purged behind it), restart the follower and time
 * until its state digest equals the leader's. Also prints the leader's in-server snapshot figures.
 *
 * <p>Run: {@code scripts/bench-snapshot.sh --install [checkpoints]} (default 100000).
 */
public final class SnapshotInstallBench {
  public static void main(String[] args) throws Exception {
    long checkpoints = args.length > 0 ? Long.parseLong(args[0]) : 100_000;
    Path dir = Files.createTempDirectory("cohort-install-bench");
    try (MiniCluster cluster = MiniCluster.builder(3, dir).autoSnapshotEvery(0)
        .ratis("raft.server.log.segment.size.max", "1MB").ratis("raft.server.log.purge.gap", "1").start();
         TestClient client = cluster.client()) {
      String first = cluster.leaderId();
      String follower = cluster.ids().stream().filter(id -> !id.equals(first)).findFirst().orElseThrow();
      cluster.kill(follower);

      long t0 = System.nanoTime();
      int topics = (int) (checkpoints / 10_000);
      for (int t = 0; t < topics; t++) {
        build(client, "topic-" + t, "group-" + t);
      }
      double buildS = (System.nanoTime() - t0) / 1e9;

      String leader = cluster.leaderId(); // it may have changed under load
      RaftClientReply snap = client.raft().getSnapshotManagementApi(RaftPeerId.valueOf(leader)).create(true, 300_000);
      var stats = cluster.server(leader).stateMachine().snapshotStats();
      long logStart = cluster.server(leader).division().getRaftLog().getStartIndex();
      long bytes = SnapshotDirectory.list(cluster.storageDir(leader)).get(0).bytes();

      long target = cluster.server(leader).stateMachine().appliedIndex(); // quiet: nobody is a member
      long r0 = System.nanoTime();
      cluster.restart(follower);
      org.awaitility.Awaitility.await().atMost(java.time.Duration.ofMinutes(10))
          .pollInterval(java.time.Duration.ofMillis(50))
          .until(() -> cluster.server(follower).stateMachine().appliedIndex() >= target);
      double catchUpS = (System.nanoTime() - r0) / 1e9;
      var digest = cluster.awaitSameDigest(java.time.Duration.ofMinutes(10)); // checked, not timed
      var fstats = cluster.server(follower).stateMachine().snapshotStats();
      System.out.printf("checkpoints %,d: built through the cluster in %.1f s; leader snapshot at %d "
              + "(log start now %d): pause %.1f ms, write %d ms, %.1f MB; follower restart until it applied "
              + "the leader's index %.1f s (then same digest, %,d records), of which load %d ms (loaded index %d)%n",
          checkpoints, buildS, snap.getLogIndex(), logStart, stats.lastPauseMicros() / 1000.0,
          stats.lastWriteMs(), bytes / 1048576.0, catchUpS, digest.getRecords(), fstats.lastLoadMs(),
          fstats.lastLoadIndex());
      System.out.println("leader " + stats + "\nfollower " + fstats);
    } finally {
      try (Stream<Path> paths = Files.walk(dir)) {
        paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  private static void build(TestClient client, String topic, String group) {
    ok(client.write(Command.newBuilder().setCreateTopic(CreateTopic.newBuilder().setTopic(topic)
        .setPartitions(10_000)).build()));
    ok(client.write(Command.newBuilder().setCreateGroup(CreateGroup.newBuilder().setGroup(group)
        .addTopics(topic).setSessionTimeoutMs(600_000)).build()));
    HeartbeatResult hb = ok(client.write(Command.newBuilder().setHeartbeat(Heartbeat.newBuilder()
        .setGroup(group).setConsumerId("consumer")).build())).getHeartbeat();
    int max = Limits.DEFAULTS.maxEntriesPerCommand();
    for (int from = 0; from < hb.getGrantsCount(); from += max) {
      CommitCheckpoints.Builder c = CommitCheckpoints.newBuilder().setGroup(group).setConsumerId("consumer")
          .setSessionToken(hb.getSessionToken());
      for (Grant g : hb.getGrantsList().subList(from, Math.min(hb.getGrantsCount(), from + max))) {
        c.addEntries(CheckpointEntry.newBuilder().setTopic(topic).setPartition(g.getPartition())
            .setEpoch(g.getEpoch()).setCursor("offset-" + (1000L + g.getPartition())).setLag(3));
      }
      ok(client.write(Command.newBuilder().setCommitCheckpoints(c).build()));
    }
    // Leave, so no member is left: no ticks, and the replicas' digests can settle.
    ok(client.write(Command.newBuilder().setLeave(Leave.newBuilder().setGroup(group).setConsumerId("consumer")
        .setSessionToken(hb.getSessionToken())).build()));
  }

  private static Result ok(Result r) {
    if (r.getCode() != Code.OK) {
      throw new IllegalStateException(r.getCode() + " " + r.getMessage());
    }
    return r;
  }

}
