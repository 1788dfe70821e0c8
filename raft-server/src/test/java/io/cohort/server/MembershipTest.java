package io.cohort.server;

import static io.cohort.server.Commands.createTopic;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.*;

import io.cohort.client.CohortException;
import io.cohort.client.Peers;
import io.cohort.client.admin.ClusterAdmin;
import io.cohort.client.admin.ClusterView;
import io.cohort.client.admin.MembershipResult;
import io.cohort.client.admin.PeerStatus;
import io.cohort.server.testing.MiniCluster;
import io.cohort.server.testing.TestClient;
import io.cohort.statemachine.proto.Code;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.util.LifeCycle;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Raft membership through {@link ClusterAdmin} (step 10): a node added with {@code --join}, a
 * removed node that stops by itself, a restart that uses the persisted configuration, and an empty
 * node that tries to come back under the id of a member.
 */
class MembershipTest {
  private static final Duration WAIT = Duration.ofSeconds(120);

  @TempDir Path dir;

  @Test
  void addedAfterCatchingUp_removedStopsItself_restartUsesThePersistedConfigurationNotItsPeersFlag() throws Exception {
    try (MiniCluster cluster = MiniCluster.start(3, dir); TestClient client = cluster.client()) {
      cluster.leaderId();
      for (int i = 0; i < 50; i++) {
        client.write(createTopic("t" + i, 1));
      }
      String address = cluster.addNode("n4");
      List<String> progress = new CopyOnWriteArrayList<>();
      try (ClusterAdmin admin = ClusterAdmin.connect(Peers.parse(cluster.peers()), Duration.ofSeconds(5), cluster.adminTls())) {
        ClusterView waiting = admin.view();
        assertEquals(PeerStatus.Membership.NOT_MEMBER, waiting.peer("n4").orElseThrow().membership(),
            "a node waiting to be added is not a member");
        assertEquals("", waiting.peer("n4").orElseThrow().conf(), "and holds no configuration");

        MembershipResult added = admin.add(Peers.parse("n4=" + address).list().get(0), WAIT, progress::add);
        assertEquals(List.of("n1", "n2", "n3", "n4"), added.after().voterIds().stream().sorted().toList(), added.summary());
        assertTrue(added.summary().startsWith("n4 added: configuration "), added.summary());
        assertFalse(progress.isEmpty(), "progress was reported");
        await("n4 runs as a voter").atMost(MiniCluster.TIMEOUT).until(() ->
            cluster.server("n4").division().getInfo().getLifeCycleState() == LifeCycle.State.RUNNING
            && cluster.server("n4").division().getRaftConf().getPeer(RaftPeerId.valueOf("n4"), RaftPeerRole.FOLLOWER) != null);
        await("joined: the join marker is gone").atMost(MiniCluster.TIMEOUT)
            .until(() -> !Files.exists(cluster.storageDir("n4").resolve(NodeStorage.JOIN_MARKER)));
        cluster.awaitSameDigest();

        CohortException again = assertThrows(CohortException.class,
            () -> admin.add(Peers.parse("n4=" + address).list().get(0), WAIT, null));
        assertTrue(again.getMessage().contains("n4 is a member already"), again.getMessage());

        MembershipResult removed = admin.remove("n3", WAIT, progress::add);
        assertEquals(List.of("n1", "n2", "n4"), removed.after().voterIds().stream().sorted().toList());
        await("n3 stops by itself").atMost(MiniCluster.TIMEOUT)
            .until(() -> cluster.stopped().stream().anyMatch(s -> s.id().equals("n3")));
        MiniCluster.Stopped n3 = cluster.stopped().get(0);
        assertEquals(FailStop.REMOVED, n3.exitCode(), n3.line());
        // Either it applied the configuration without it, or the leader dropped it before it did and
        // refused its next vote (the same stop, told by the leader; README "A node stops itself").
        assertTrue(n3.line().startsWith("[n3] removed from the Raft configuration (now n1,n2,n4)")
            || n3.line().startsWith("[n3] the leader says this node is not in the Raft configuration: stopping"), n3.line());
        assertFalse(cluster.isRunning("n3"));

        // n1 was started with --peers n1,n2,n3; after a restart it follows the configuration in its storage.
        assertEquals(List.of("n1", "n2", "n3"), cluster.config("n1").peers().stream().map(RaftPeer::getId)
            .map(RaftPeerId::toString).toList());
        String restart = "n1";
        cluster.kill(restart);
        cluster.restart(restart);
        assertEquals(List.of("n1", "n2", "n4"), cluster.server(restart).division().getRaftConf().getAllPeers()
            .stream().map(p -> p.getId().toString()).sorted().toList());
        cluster.leaderId();
        assertEquals(Code.OK, client.write(createTopic("after-restart", 1)).getCode());
        cluster.awaitSameDigest();

        // The removed node, started again from its storage, stops again: it is no member.
        cluster.restart("n3");
        await("a restarted removed node stops").atMost(MiniCluster.TIMEOUT)
            .until(() -> cluster.stopped().stream().filter(s -> s.id().equals("n3")).count() == 2);
        assertEquals(FailStop.REMOVED, cluster.stopped().get(1).exitCode());
      }
    }
  }

  /**
   * A follower removed while it was down never receives the configuration that leaves it out: it
   * restarts believing it is a voter and stands for election. Its pre-votes must reach the leader,
   * which refuses them and tells it to stop (Ratis' shouldShutdown); refused at the door instead,
   * it would stand for election forever.
   */
  @Test
  void aFollowerRemovedWhileDownStopsByItselfOnceRestarted() throws Exception {
    try (MiniCluster cluster = MiniCluster.start(3, dir); TestClient client = cluster.client()) {
      String leader = cluster.leaderId();
      client.write(createTopic("before", 1));
      String victim = cluster.ids().stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();
      cluster.awaitSameDigest();
      cluster.kill(victim);
      try (ClusterAdmin admin = ClusterAdmin.connect(Peers.parse(cluster.peers()), Duration.ofSeconds(5), cluster.adminTls())) {
        admin.remove(victim, WAIT, null);
      }
      long term = cluster.server(leader).division().getInfo().getCurrentTerm();
      cluster.restart(victim);
      assertNotNull(cluster.server(victim).division().getRaftConf().getPeer(RaftPeerId.valueOf(victim),
          RaftPeerRole.FOLLOWER), "restarted from storage that still names it a voter");
      await(victim + " stops by itself").atMost(MiniCluster.TIMEOUT)
          .until(() -> cluster.stopped().stream().anyMatch(s -> s.id().equals(victim)));
      MiniCluster.Stopped stopped = cluster.stopped().get(0);
      assertEquals(FailStop.REMOVED, stopped.exitCode(), stopped.line());
      assertTrue(stopped.line().startsWith("[" + victim + "] the leader says this node is not in the Raft configuration"),
          stopped.line());
      assertEquals(leader, cluster.leaderId(), "the group kept its leader");
      assertEquals(term, cluster.server(leader).division().getInfo().getCurrentTerm(), "and its term");
      assertEquals(Code.OK, client.write(createTopic("after", 1)).getCode());
    }
  }

  @Test
  void anEmptyNodeStartedWithJoinUnderTheIdOfAMemberStopsBeforeRatisSeesAnAppend() throws Exception {
    try (MiniCluster cluster = MiniCluster.start(3, dir); TestClient client = cluster.client()) {
      String leader = cluster.leaderId();
      for (int i = 0; i < 20; i++) {
        client.write(createTopic("t" + i, 1));
      }
      String victim = cluster.ids().stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();
      cluster.kill(victim);
      cluster.wipe(victim);
      cluster.startMode(victim, StartMode.RECOVER);
      ConfigException refused = assertThrows(ConfigException.class, () -> cluster.restart(victim));
      assertTrue(refused.getMessage().startsWith("no Raft storage for " + victim), refused.getMessage());

      cluster.startMode(victim, StartMode.JOIN);
      cluster.restart(victim);
      await("the guard stops it").atMost(MiniCluster.TIMEOUT).until(() -> !cluster.stopped().isEmpty());
      MiniCluster.Stopped s = cluster.stopped().get(0);
      assertEquals(FailStop.FAILED, s.exitCode());
      assertTrue(s.line().contains("counts " + victim + " as a member already"), s.line());
      assertTrue(s.line().contains("cohort cluster replace " + victim + " " + victim + "b=HOST:PORT"), s.line());
      Path meta = new NodeStorage(cluster.storageDir(victim), cluster.group().getGroupId()).currentDir().resolve("raft-meta");
      String metaText = Files.readString(meta, java.nio.charset.StandardCharsets.ISO_8859_1);
      assertFalse(metaText.matches("(?s).*votedFor=\\S.*"), "it never voted: " + metaText);
      assertTrue(StartupDiagnosis.segments(new NodeStorage(cluster.storageDir(victim), cluster.group().getGroupId()))
          .stream().noneMatch(seg -> !seg.open()), "and holds no entry");
      assertEquals(Code.OK, client.write(createTopic("still-writable", 1)).getCode(), "two members carry on");
    }
  }
}
