package io.cohort.tools;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.cohort.server.testing.MiniCluster;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cluster status} tells the truth (lag, membership, the configuration; non-zero when a peer
 * lags, is no member or does not answer) and the membership commands ({@code cluster add|remove},
 * {@code leader transfer}) against a three-node cluster of this class's own: the tests change it,
 * in order.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterMembershipCliTest {
  @TempDir
  static Path tmp;
  static MiniCluster cluster;

  @BeforeAll
  static void start() throws Exception {
    cluster = MiniCluster.start(3, tmp);
    cluster.leaderId();
  }

  @AfterAll
  static void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  private static Cli cli() {
    return new Cli(Cli.env(cluster));
  }

  private static JsonNode peer(JsonNode status, String id) {
    for (JsonNode p : status.get("peers")) {
      if (p.get("id").asText().equals(id)) {
        return p;
      }
    }
    throw new AssertionError("no peer " + id + " in " + status);
  }

  private static List<String> voters(JsonNode conf) {
    List<String> out = new ArrayList<>();
    conf.get("voters").forEach(v -> out.add(v.get("id").asText()));
    return out.stream().sorted().toList();
  }

  @Test
  @Order(1)
  void aHealthyClusterShowsItsConfigurationLagAndMembershipAndExitsZero() {
    Cli.Run r = cli().ok("cluster", "status", "--json");
    JsonNode s = r.json();
    assertEquals(1, s.get("version").asInt());
    assertTrue(s.get("healthy").asBoolean(), s.toString());
    assertEquals(List.of("n1", "n2", "n3"), voters(s.get("configuration")));
    assertFalse(s.get("configuration").get("joint").asBoolean());
    for (String id : List.of("n1", "n2", "n3")) {
      assertEquals("MEMBER", peer(s, id).get("membership").asText());
      assertTrue(peer(s, id).get("lag").asLong() >= 0 && peer(s, id).get("lag").asLong() <= 1000, s.toString());
      assertEquals("n1,n2,n3", peer(s, id).get("conf").asText());
    }
    String text = cli().ok("cluster", "status").out();
    assertTrue(text.contains("configuration: n1,n2,n3") && text.contains("healthy"), text);
  }

  @Test
  @Order(2)
  void aStoppedPeerThatFallsBehindMakesStatusExitNonZeroNamingItsLag() {
    String leader = cluster.leaderId();
    String follower = cluster.ids().stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();
    cluster.kill(follower);
    try {
      for (int i = 0; i < 20; i++) {
        cli().ok("topic", "create", "lag-" + i, "--partitions", "1");
      }
      Cli.Run r = cli().run("cluster", "status", "--json", "--max-lag", "5", "--timeout", "2");
      assertEquals(1, r.code(), r.out() + r.err());
      JsonNode s = r.json();
      assertFalse(s.get("healthy").asBoolean());
      assertTrue(peer(s, follower).get("lag").asLong() > 5, "the leader's view of its lag: " + s);
      String problems = s.get("problems").toString();
      assertTrue(problems.contains(follower + " does not answer"), problems);
      assertTrue(problems.contains(follower + " is " + peer(s, follower).get("lag").asLong() + " entries behind"),
          problems);
      Cli.Run text = cli().run("cluster", "status", "--max-lag", "5", "--timeout", "2");
      assertEquals(1, text.code());
      assertTrue(text.out().contains("unhealthy: "), text.out());
    } finally {
      cluster.restart(follower);
    }
    await("caught up again").atMost(MiniCluster.TIMEOUT).until(() -> cli().run("cluster", "status", "--max-lag", "5")
        .code() == 0);
  }

  @Test
  @Order(3)
  void aNodeThatIsNoMemberMakesStatusExitNonZero_untilClusterAddMakesItOne() {
    String address = cluster.addNode("n4"); // started with --join: waiting to be added
    Cli.Run r = cli().run("cluster", "status", "--json");
    assertEquals(1, r.code(), r.out() + r.err());
    JsonNode n4 = peer(r.json(), "n4");
    assertTrue(n4.get("reachable").asBoolean());
    assertEquals("NOT_MEMBER", n4.get("membership").asText());
    assertEquals("", n4.get("conf").asText(), "it holds no configuration");
    assertTrue(r.json().get("problems").toString().contains("n4 is not a member of the configuration (n1,n2,n3)"),
        r.out());

    Cli.Run add = cli().ok("cluster", "add", "n4=" + address, "--json", "--wait", "120");
    assertTrue(add.json().get("ok").asBoolean(), add.out());
    assertEquals(List.of("n1", "n2", "n3", "n4"), voters(add.json().get("after")));
    assertTrue(add.json().get("message").asText().startsWith("n4 added: configuration"), add.out());
    assertTrue(add.err().contains("n4 added: configuration n1,n2,n3 -> n1,n2,n3,n4"), "progress on stderr: " + add.err());
    await("n4 healthy").atMost(MiniCluster.TIMEOUT).until(() -> cli().run("cluster", "status").code() == 0);
  }

  @Test
  @Order(4)
  void leaderTransferMovesLeadership_andRemoveStopsTheRemovedNode() {
    String leader = cluster.leaderId();
    String to = cluster.running().stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();
    Cli.Run moved = cli().ok("leader", "transfer", "--to", to, "--json");
    assertEquals(to, moved.json().get("leader").asText(), moved.out());
    assertEquals("leadership moved from " + leader + " to " + to, moved.json().get("message").asText()
        .replaceAll(" \\(.*\\)$", ""));

    Cli.Run removed = cli().ok("cluster", "remove", "n4");
    assertTrue(removed.out().startsWith("n4 removed: configuration n1,n2,n3"), removed.out());
    await("n4 stops by itself").atMost(MiniCluster.TIMEOUT).until(() -> !cluster.isRunning("n4"));
    assertTrue(cluster.stopped().stream().anyMatch(s -> s.id().equals("n4") && s.exitCode() == 0));
    cluster.forget("n4");
  }

  @Test
  @Order(5)
  void badMembershipRequestsAreOneLineAndChangeNothing() throws Exception {
    int unused;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      unused = s.getLocalPort();
    }
    Cli c = cli();
    Cli.Run absent = c.run("cluster", "add", "n5=127.0.0.1:" + unused, "--wait", "2");
    assertEquals(1, absent.code(), absent.err());
    List<String> lines = absent.err().strip().lines().toList();
    assertEquals(2, lines.size(), "a progress line while it waited, then the error: " + absent.err());
    assertTrue(lines.get(0).contains("waiting for n5"), absent.err());
    assertTrue(lines.get(1).startsWith("cohort cluster add: n5 at 127.0.0.1:" + unused + " does not answer"), absent.err());
    assertTrue(lines.get(1).contains("cohort server --join --id n5"), absent.err());
    c.failsWith(1, "n9 is not a voter of the configuration (n1,n2,n3)", "cluster", "remove", "n9");
    c.failsWith(1, "n2 is a member already", "cluster", "add", "n2=" + cluster.address("n2"));
    c.failsWith(1, "address " + cluster.address("n2") + " belongs to member n2", "cluster", "replace", "n1",
        "n6=" + cluster.address("n2"));
    c.failsWith(2, "no port", "cluster", "add", "n7=127.0.0.1");
    c.failsWith(2, "--wait must be at least 1", "cluster", "remove", "n3", "--wait", "0");
    c.failsWith(1, "n8 is not a voter", "leader", "transfer", "--to", "n8");
    assertEquals(List.of("n1", "n2", "n3"), voters(cli().ok("cluster", "status", "--json").json().get("configuration")));
  }
}
