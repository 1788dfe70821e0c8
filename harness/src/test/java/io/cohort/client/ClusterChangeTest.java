package io.cohort.client;

import static io.cohort.client.ClusterFixture.TIMEOUT;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cohort.client.admin.ClusterAdmin;
import io.cohort.client.admin.ClusterView;
import io.cohort.client.admin.MembershipResult;
import io.cohort.client.admin.PeerStatus;
import io.cohort.server.FailStop;
import io.cohort.server.testing.MiniCluster;
import io.cohort.client.tls.ClientTls;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.apache.ratis.RaftConfigKeys;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.SetConfigurationRequest;
import org.apache.ratis.rpc.SupportedRpcType;

/**
 * Cluster changes under consumer load (step 10): replacing a node with a fresh one on a new port,
 * removing a node and adding it back, and a rolling restart, while real consumers commit. After
 * each: no acknowledged commit lost, never two readers of a partition, no healthy consumer expired,
 * the three final members byte-identical. A fresh cluster per test.
 */
class ClusterChangeTest {
  private static final Duration WAIT = Duration.ofSeconds(120);

  @TempDir
  Path dir;

  private ClusterFixture fx;
  private final List<String> progress = new CopyOnWriteArrayList<>();

  @BeforeEach
  void start() throws Exception {
    fx = new ClusterFixture(dir);
  }

  @AfterEach
  void stop() {
    fx.close();
  }

  private ClusterAdmin admin() {
    return ClusterAdmin.connect(Peers.parse(fx.cluster.peers()), Duration.ofSeconds(5), fx.cluster.adminTls());
  }

  private static Peers.Peer peer(String id, String address) {
    return Peers.parse(id + "=" + address).list().get(0);
  }

  private void awaitStoppedItself(String id) {
    await(id + " stops by itself").atMost(TIMEOUT)
        .until(() -> fx.cluster.stopped().stream().anyMatch(s -> s.id().equals(id)));
    MiniCluster.Stopped s = fx.cluster.stopped().stream().filter(x -> x.id().equals(id)).findFirst().orElseThrow();
    assertEquals(FailStop.REMOVED, s.exitCode(), s.line());
  }

  /** The three final members: running, identical state. */
  private void assertThreeIdenticalReplicas(List<String> expected) {
    assertEquals(expected.stream().sorted().toList(), fx.cluster.running());
    fx.cluster.awaitSameDigest(TIMEOUT);
  }

  /** As an operator would before the next step: the node answers, is a member, and is caught up. */
  private static void awaitCaughtUp(ClusterAdmin admin, String id) {
    await(id + " caught up (cluster status)").atMost(TIMEOUT).pollInterval(Duration.ofMillis(200)).until(() -> {
      ClusterView v = admin.view();
      PeerStatus p = v.peer(id).orElse(null);
      return v.leader() != null && p != null && p.reachable() && p.membership() == PeerStatus.Membership.MEMBER
          && p.lag() >= 0 && p.lag() <= 50;
    });
  }

  @Test
  void replacingTheLeaderByAFreshNodeOnANewPortWhileConsumersCommitLosesNothing() {
    try (ConsumerLoad load = new ConsumerLoad(fx, "rep", 6, 3); ClusterAdmin admin = admin()) {
      load.awaitProgress(100);
      String old = fx.cluster.leaderId(); // the hardest one: leadership is handed off first
      String address = fx.cluster.addNode("n4");
      MembershipResult r = admin.replace(old, peer("n4", address), WAIT, progress::add);
      List<String> expected = new java.util.ArrayList<>(List.of("n1", "n2", "n3"));
      expected.remove(old);
      expected.add("n4");
      assertEquals(expected.stream().sorted().toList(), r.after().voterIds().stream().sorted().toList(), r.summary());
      assertTrue(progress.stream().anyMatch(l -> l.contains("handing leadership")), progress.toString());
      awaitStoppedItself(old);
      fx.cluster.forget(old);
      load.awaitProgress(100);
      // n4 votes: with the leader stopped, the other voter can lead only with n4's vote.
      String leader = fx.cluster.leaderId();
      if (!leader.equals("n4")) {
        fx.cluster.kill(leader);
        assertNotEquals(leader, fx.cluster.leaderId(), "a new leader without " + leader);
        fx.cluster.restart(leader);
        try (ClusterAdmin now = admin()) { // the members now, n4 among them
          awaitCaughtUp(now, leader);
        }
        load.awaitProgress(100);
      }
      load.finishAndCheck();
      assertThreeIdenticalReplicas(expected);
    }
  }

  /**
   * The re-added node keeps its id and address and starts from a wiped directory with {@code
   * --join}: after
   * the removal it is no member, and a joining node votes only once the leader's log gave it the
   * configuration that adds it back, so its forgotten votes (RATIS-NOTES D.6) belong to terms no
   * candidate it could vote for still runs in. Re-adding a member under its old id without removing
   * it first is refused (MembershipTest: the join guard).
   */
  @Test
  void removingAFollowerAndAddingItBackWithAWipedDirAndJoinLosesNothing() throws Exception {
    try (ConsumerLoad load = new ConsumerLoad(fx, "readd", 6, 3)) {
      load.awaitProgress(100);
      String leader = fx.cluster.leaderId();
      String victim = fx.cluster.ids().stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();
      try (ClusterAdmin admin = admin()) {
        MembershipResult removed = admin.remove(victim, WAIT, progress::add);
        assertEquals(2, removed.after().voters().size(), removed.summary());
      }
      awaitStoppedItself(victim);
      String oldAddress = fx.cluster.address(victim);
      fx.cluster.wipe(victim);
      fx.cluster.forget(victim);
      load.awaitProgress(100); // two members carry on

      // Same id, same address (Ratis' peers remember an id's address), empty directory, --join.
      String address = fx.cluster.addNode(victim, oldAddress);
      try (ClusterAdmin admin = admin()) {
        // Not a voter yet: Ratis keeps a node that is not in its configuration initializing.
        await(victim + " refuses reads while it waits to be added").atMost(TIMEOUT)
            .until(() -> admin.refusesReadAt(peer(victim, address), 0), why -> why != null && why.contains("STARTING"));
        MembershipResult added = admin.add(peer(victim, address), WAIT, progress::add);
        assertEquals(3, added.after().voters().size(), added.summary());
        assertNull(admin.refusesReadAt(peer(victim, address), 0), victim + " votes once add returned");
        awaitCaughtUp(admin, victim);
      }
      load.awaitProgress(100);
      load.finishAndCheck();
      assertThreeIdenticalReplicas(List.of("n1", "n2", "n3"));
    }
  }

  /** README "Rolling restart": followers first, then hand leadership away, then the old leader. */
  @Test
  void aRollingRestartOfAllThreeNodesUnderLoadLosesNothingAndExpiresNobody() {
    try (ConsumerLoad load = new ConsumerLoad(fx, "roll", 6, 3); ClusterAdmin admin = admin()) {
      load.awaitProgress(100);
      String leader = fx.cluster.leaderId();
      for (String follower : fx.cluster.ids()) {
        if (follower.equals(leader)) {
          continue;
        }
        fx.cluster.kill(follower);
        fx.cluster.restart(follower);
        awaitCaughtUp(admin, follower);
        load.awaitProgress(50);
      }
      MembershipResult moved = admin.transferLeadership(null, WAIT, progress::add);
      assertNotEquals(leader, moved.leader(), moved.summary());
      fx.cluster.kill(leader);
      fx.cluster.restart(leader);
      awaitCaughtUp(admin, leader);
      load.awaitProgress(100);
      load.finishAndCheck();
      assertThreeIdenticalReplicas(List.of("n1", "n2", "n3"));
    }
  }

  /**
   * RATIS-NOTES D.3 and D.7: a member Ratis keeps initializing (here a listener promoted to voter,
   * which 3.3.0 never starts) answers Ratis but refuses reads, and {@code notVoting} (cluster
   * status) names it; a new leader's log senders start it, which is what {@code cluster add} and
   * {@code replace} fall back on when an added node does not vote.
   */
  @Test
  void aMemberLeftInitializingIsReportedAndANewLeaderStartsIt() throws Exception {
    Peers old = Peers.parse(fx.cluster.peers());
    Peers.Peer n4 = peer("n4", fx.cluster.addNode("n4"));
    List<RaftPeer> voters = old.toRaftPeers();
    List<RaftPeer> all = new java.util.ArrayList<>(voters);
    all.add(n4.toRaftPeer());
    RaftProperties props = new RaftProperties();
    RaftConfigKeys.Rpc.setType(props, SupportedRpcType.GRPC);
    Peers everyone = Peers.parse(fx.cluster.peers());
    try (RaftClient raft = RaftClient.newBuilder().setProperties(props)
        .setRaftGroup(RaftGroup.valueOf(CohortGroup.ID, all))
        .setParameters(ClientTls.of(fx.cluster.adminTls(), everyone).parameters()).build();
        ClusterAdmin admin = ClusterAdmin.connect(everyone, Duration.ofSeconds(5), fx.cluster.adminTls())) {
      assertTrue(raft.admin().setConfiguration(SetConfigurationRequest.Arguments.newBuilder()
          .setServersInNewConf(voters).setListenersInNewConf(List.of(n4.toRaftPeer()))
          .setMode(SetConfigurationRequest.Mode.SET_UNCONDITIONALLY).build()).isSuccess());
      assertTrue(raft.admin().setConfiguration(SetConfigurationRequest.Arguments.newBuilder()
          .setServersInNewConf(all).setMode(SetConfigurationRequest.Mode.SET_UNCONDITIONALLY).build()).isSuccess());
      await("n4 a voter that refuses reads").atMost(TIMEOUT).until(() -> {
        ClusterView v = admin.view();
        return v.conf() != null && v.conf().isVoter("n4") && !v.conf().joint()
            && admin.notVoting(v).stream().anyMatch(l -> l.startsWith("n4 is a member but refuses reads")
            && l.contains("STARTING"));
      });
      await("n4 says it is a voter Ratis has not started").atMost(TIMEOUT)
          .until(() -> fx.cluster.server("n4").unstartedVoter());
      String leader = fx.cluster.leaderId();
      String to = old.list().stream().map(Peers.Peer::id).filter(id -> !id.equals(leader)).findFirst().orElseThrow();
      admin.transferLeadership(to, WAIT, progress::add);
      await("n4 serves reads under the new leader " + to).atMost(TIMEOUT)
          .until(() -> admin.refusesReadAt(n4, 0) == null && admin.notVoting(admin.view()).isEmpty()
              && !fx.cluster.server("n4").unstartedVoter());
    }
  }

  /**
   * A long-lived client configured with n1, n2 and n3 keeps working after all three were replaced
   * one by one: Ratis learns peers only from a NotLeaderException and a replaced RaftClient used to
   * start from the configured peers, all gone (chaos with --replace-every-s 20); the channel now
   * learns the members from its replies.
   */
  @Test
  void aClientFollowsTheMembersWhenEveryConfiguredPeerIsReplaced() {
    CohortClientConfig.Builder b = CohortClientConfig.builder(fx.cluster.peers());
    try (CohortClient c = CohortClient.connect(b.tls(fx.cluster.adminTls()).callTimeout(Duration.ofSeconds(5)).build())) {
      c.blocking().listTopics();
      for (int i = 1; i <= 3; i++) {
        String old = "n" + i;
        String fresh = "n" + (i + 3);
        String address = fx.cluster.addNode(fresh);
        try (ClusterAdmin admin = admin()) {
          admin.replace(old, peer(fresh, address), WAIT, progress::add);
        }
        awaitStoppedItself(old);
        fx.cluster.forget(old);
        await("a call after " + old + " was replaced by " + fresh).atMost(TIMEOUT).ignoreExceptions()
            .until(() -> c.blocking().listTopics() != null);
      }
      assertEquals(List.of("n4", "n5", "n6"), fx.cluster.running());
      assertTrue(c.channel().group().getPeers().stream().map(p -> p.getId().toString()).toList()
          .containsAll(List.of("n4", "n5", "n6")), c.channel().group().toString());
    }
  }
}
