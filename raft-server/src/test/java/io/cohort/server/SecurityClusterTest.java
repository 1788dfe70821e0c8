package io.cohort.server;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cohort.client.BlockingCohortClient;
import io.cohort.client.CohortClient;
import io.cohort.client.CohortClientConfig;
import io.cohort.client.CohortException;
import io.cohort.client.CohortRejectedException;
import io.cohort.client.CohortUnavailableException;
import io.cohort.client.PermissionDeniedIOException;
import io.cohort.client.ReadMode;
import io.cohort.client.tls.PeerTrustManager;
import io.cohort.client.tls.ReloadingKeyManager;
import io.cohort.client.tls.TlsFiles;
import io.cohort.server.testing.MiniCluster;
import io.cohort.server.testing.TestCerts;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.CommitCheckpoints;
import io.cohort.statemachine.proto.Heartbeat;
import io.cohort.statemachine.proto.HeartbeatResult;
import io.cohort.statemachine.proto.Role;
import java.io.IOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.grpc.GrpcTlsConfig;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.retry.RetryPolicies;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * R11 on real sockets: mutual TLS with real certificates, principals, the replicated ACL, the
 * interceptor in front of Raft and of Ratis' admin API, and certificate rotation. One secure
 * three-node cluster for the class; alice and bob consume "orders-*", rita reads.
 */
class SecurityClusterTest {
  private static final Duration SHORT = Duration.ofSeconds(4);

  @TempDir
  static Path dir;
  static MiniCluster cluster;

  @BeforeAll
  static void start() throws IOException {
    cluster = MiniCluster.builder(3, dir.resolve("cluster")).start();
    cluster.leaderId();
    BlockingCohortClient admin = client(cluster.adminTls()).blocking();
    admin.createTopic("t", 4);
    admin.createGroup("orders-1", "t");
    admin.createGroup("billing", "t");
    admin.grantAccess("alice", Role.CONSUMER, List.of("orders-*"));
    admin.grantAccess("bob", Role.CONSUMER, List.of("orders-*"));
    admin.grantAccess("rita", Role.READER, List.of());
  }

  @AfterAll
  static void stop() {
    for (CohortClient c : CLIENTS) {
      try {
        c.close();
      } catch (CohortException e) {
        // closing anyway
      }
    }
    if (cluster != null) {
      cluster.close();
    }
  }

  private static final List<CohortClient> CLIENTS = new java.util.concurrent.CopyOnWriteArrayList<>();

  private static CohortClient client(TlsFiles tls) {
    return client(tls, MiniCluster.TIMEOUT);
  }

  private static CohortClient client(TlsFiles tls, Duration callTimeout) {
    CohortClientConfig.Builder b = CohortClientConfig.builder(cluster.peers()).callTimeout(callTimeout)
        .attemptTimeout(Duration.ofSeconds(2));
    CohortClient c = CohortClient.connect(tls == null ? b.insecure().build() : b.tls(tls).build());
    CLIENTS.add(c);
    return c;
  }

  private static Code codeOf(Runnable call) {
    CohortRejectedException e = assertThrows(CohortRejectedException.class, call::run);
    return e.code();
  }

  @Test
  void R11_aClientWithoutACertificateOrFromAnotherCaFailsTheHandshake() throws IOException {
    // plaintext against a TLS port
    assertThrows(CohortUnavailableException.class, () -> client(null, SHORT).blocking().listGroups());
    // another CA's certificate, even with the admin's CN
    TlsFiles rogue = TestCerts.create(dir.resolve("rogue-ca")).user(MiniCluster.ADMIN);
    TlsFiles rogueWithOurCa = new TlsFiles(rogue.cert(), rogue.key(), cluster.adminTls().ca());
    assertThrows(CohortUnavailableException.class, () -> client(rogueWithOurCa, SHORT).blocking().listGroups());
    // TLS that trusts the cluster but sends no certificate
    PeerTrustManager trust = PeerTrustManager.fromCaFile(cluster.adminTls().ca(), (h, p) -> Optional.empty(), false);
    Parameters p = new Parameters();
    GrpcConfigKeys.TLS.setConf(p, new GrpcTlsConfig((KeyManager) null, trust, false));
    try (RaftClient noCert = RaftClient.newBuilder().setProperties(MiniCluster.clientProperties())
        .setRaftGroup(cluster.group()).setParameters(p).setRetryPolicy(RetryPolicies.noRetry()).build()) {
      assertThrows(IOException.class, () -> noCert.io().sendReadOnly(
          Messages.of(Commands.describeGroup("orders-1"))));
    }
    // the cluster's own certificate works
    assertEquals(2, client(cluster.adminTls()).blocking().listGroups().size());
  }

  @Test
  void R11_aConsumerMayNotDeleteAGroupResetACheckpointOrUseGroupsAndIdsThatAreNotItsOwn() {
    BlockingCohortClient alice = client(cluster.tls("alice")).blocking();
    BlockingCohortClient bob = client(cluster.tls("bob")).blocking();
    assertEquals(Code.PERMISSION_DENIED, codeOf(() -> alice.deleteGroup("orders-1", true)));
    assertEquals(Code.PERMISSION_DENIED, codeOf(() -> alice.resetCheckpoint("orders-1", "t", 0, "0")));
    assertEquals(Code.PERMISSION_DENIED, codeOf(() -> alice.heartbeat(join("billing", "w1"))));

    HeartbeatResult joined = alice.heartbeat(join("orders-1", "w1"));
    assertEquals(16, joined.getSessionToken().size(), "a random 128-bit token");
    CohortRejectedException takeover = assertThrows(CohortRejectedException.class,
        () -> bob.heartbeat(join("orders-1", "w1")));
    assertEquals(Code.PERMISSION_DENIED, takeover.code());
    assertTrue(takeover.getMessage().contains("belongs to principal 'alice'"), takeover.getMessage());
    // the real w1 is untouched: its session still renews
    assertEquals(joined.getSessionToken(), alice.heartbeat(Heartbeat.newBuilder().setGroup("orders-1")
        .setConsumerId("w1").setSessionToken(joined.getSessionToken()).build()).getSessionToken());
    assertEquals("alice", client(cluster.adminTls()).blocking().describeGroup("orders-1").getMembersList().stream()
        .filter(m -> m.getConsumerId().equals("w1")).findFirst().orElseThrow().getOwner());
  }

  @Test
  void R11_aReaderDescribesButMayNotCommit() {
    BlockingCohortClient alice = client(cluster.tls("alice")).blocking();
    HeartbeatResult joined = alice.heartbeat(join("orders-1", "r-target"));
    BlockingCohortClient rita = client(cluster.tls("rita")).blocking();
    assertEquals("orders-1", rita.describeGroup("orders-1").getSummary().getGroup());
    assertEquals(2, rita.listGroups().size());
    var grant = joined.getGrantsList().isEmpty() ? null : joined.getGrants(0);
    CommitCheckpoints commit = CommitCheckpoints.newBuilder().setGroup("orders-1").setConsumerId("r-target")
        .setSessionToken(joined.getSessionToken()).addEntries(io.cohort.statemachine.proto.CheckpointEntry.newBuilder()
            .setTopic("t").setPartition(grant == null ? 0 : grant.getPartition())
            .setEpoch(grant == null ? 1 : grant.getEpoch()).setCursor("99")).build();
    assertEquals(Code.PERMISSION_DENIED, codeOf(() -> rita.commit(commit)));
    assertEquals(Code.PERMISSION_DENIED, codeOf(() -> rita.createTopic("u", 1)));
    // and an unknown principal of the right CA may do nothing at all
    BlockingCohortClient stranger = client(cluster.tls("stranger")).blocking();
    assertEquals(Code.PERMISSION_DENIED, codeOf(() -> stranger.describeGroup("orders-1")));
    assertEquals(Code.PERMISSION_DENIED, codeOf(() -> stranger.clusterInfo(ReadMode.linearizable())));
  }

  @Test
  void R11_ratisAdminCallsAreForAdminsOnly() throws Exception {
    String leader = cluster.leaderId();
    String other = cluster.ids().stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();
    long term = cluster.server(leader).division().getInfo().getCurrentTerm();
    try (RaftClient alice = RaftClient.newBuilder().setProperties(MiniCluster.clientProperties())
        .setRaftGroup(cluster.group()).setParameters(cluster.clientParameters(cluster.tls("alice")))
        .setRetryPolicy(RetryPolicies.noRetry()).build()) {
      long started = System.nanoTime();
      IOException transfer = assertThrows(IOException.class,
          () -> alice.admin().transferLeadership(RaftPeerId.valueOf(other), 3000));
      assertInstanceOf(PermissionDeniedIOException.class, rootOrSelf(transfer), transfer.toString());
      assertTrue(rootOrSelf(transfer).getMessage().contains("may not call Ratis' transferLeadership: admin only"));
      List<RaftPeer> justTwo = cluster.group().getPeers().stream().filter(p -> !p.getId().toString().equals(other))
          .toList();
      IOException conf = assertThrows(IOException.class, () -> alice.admin().setConfiguration(justTwo));
      assertInstanceOf(PermissionDeniedIOException.class, rootOrSelf(conf), conf.toString());
      assertTrue(System.nanoTime() - started < TimeUnit.SECONDS.toNanos(10), "a refusal is final, not retried");
      // group info stays open to any authenticated principal (cluster status)
      assertTrue(alice.getGroupManagementApi(RaftPeerId.valueOf(leader)).info(cluster.group().getGroupId())
          .isSuccess());
    }
    assertEquals(leader, cluster.leaderId());
    assertEquals(term, cluster.server(leader).division().getInfo().getCurrentTerm());
    assertEquals(3, cluster.server(leader).division().getRaftConf().getCurrentPeers().size(), "nothing changed");
  }

  private static Throwable rootOrSelf(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof PermissionDeniedIOException) {
        return c;
      }
    }
    return t;
  }

  /**
   * A fourth server that believes it belongs (its peers list names n1..n3 and itself): with a node
   * certificate of the cluster's CA but an id no configuration names, its vote requests reach Ratis,
   * which refuses them (and learns nothing from their terms); with another CA's certificate the
   * handshakes fail. Either way the group keeps its leader and its term.
   */
  @Test
  void R11_aServerOutsideTheGroupCannotJoinOrDisturbIt() throws Exception {
    String leader = cluster.leaderId();
    long term = cluster.server(leader).division().getInfo().getCurrentTerm();
    int port;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    String peers = cluster.peers() + ",n4=127.0.0.1:" + port;
    ServerConfig intruder = ServerConfig.insecure("n4", dir.resolve("n4"), peers)
        .withTls(cluster.certs().node("n4"), List.of(MiniCluster.ADMIN));
    try (CohortServer n4 = CohortServer.start(intruder, StartMode.BOOTSTRAP)) {
      await("n4's vote requests are answered: it learns the group's term").atMost(MiniCluster.TIMEOUT)
          .until(() -> n4.division().getInfo().getCurrentTerm() >= term);
      assertUndisturbed(leader, n4);
    }
    TestCerts rogue = TestCerts.create(dir.resolve("rogue-ca-node"));
    ServerConfig impostor = ServerConfig.insecure("n4", dir.resolve("n4b"), peers)
        .withTls(rogue.node("n4"), List.of(MiniCluster.ADMIN));
    try (CohortServer n4 = CohortServer.start(impostor, StartMode.BOOTSTRAP)) {
      assertUndisturbed(leader, n4);
    }
    assertEquals(leader, cluster.leaderId(), "the group kept its leader");
    assertEquals(term, cluster.server(leader).division().getInfo().getCurrentTerm(), "and its term");
    assertEquals(3, cluster.server(leader).division().getRaftConf().getCurrentPeers().size());
  }

  /**
   * Raft traffic from a certificate of the cluster's CA that is not a peer's: a user certificate
   * named like a peer (n2) is refused every Raft call, and a node certificate for an id no
   * configuration names (n5) every call but a vote request, which Ratis itself refuses.
   */
  @Test
  void R11_onlyAPeersNodeCertificateMayCallTheRaftService() throws Exception {
    for (Map.Entry<TlsFiles, String> call : List.of(Map.entry(cluster.tls("n2"), "requestVote"),
        Map.entry(cluster.certs().node("n5"), "readIndex"), Map.entry(cluster.certs().node("n5"), "startLeaderElection"))) {
      var status = assertThrows(org.apache.ratis.thirdparty.io.grpc.StatusRuntimeException.class,
          () -> rawCall(call.getKey(), "ratis.grpc.RaftServerProtocolService/" + call.getValue()));
      assertEquals(org.apache.ratis.thirdparty.io.grpc.Status.Code.PERMISSION_DENIED, status.getStatus().getCode());
      assertTrue(status.getStatus().getDescription().contains("is not a peer of this Raft group"),
          status.getStatus().getDescription());
    }
    var vote = assertThrows(org.apache.ratis.thirdparty.io.grpc.StatusRuntimeException.class,
        () -> rawCall(cluster.certs().node("n5"), "ratis.grpc.RaftServerProtocolService/requestVote"));
    assertNotEquals(org.apache.ratis.thirdparty.io.grpc.Status.Code.PERMISSION_DENIED, vote.getStatus().getCode(),
        "a node's vote request passes the door (Ratis refuses the empty one): " + vote.getStatus());
    // and a node certificate, even a member's, is not a user: Ratis' admin API refuses it
    var asClient = assertThrows(org.apache.ratis.thirdparty.io.grpc.StatusRuntimeException.class,
        () -> rawCall(cluster.certs().node("n2"), "ratis.grpc.AdminProtocolService/transferLeadership"));
    assertEquals(org.apache.ratis.thirdparty.io.grpc.Status.Code.PERMISSION_DENIED, asClient.getStatus().getCode());
  }

  /** One unary call with an empty message to n1, over mutual TLS with these files. */
  private static byte[] rawCall(TlsFiles tls, String method) throws Exception {
    var bytes = new org.apache.ratis.thirdparty.io.grpc.MethodDescriptor.Marshaller<byte[]>() {
      public java.io.InputStream stream(byte[] v) {
        return new java.io.ByteArrayInputStream(v);
      }

      public byte[] parse(java.io.InputStream in) {
        try {
          return in.readAllBytes();
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      }
    };
    var descriptor = org.apache.ratis.thirdparty.io.grpc.MethodDescriptor.<byte[], byte[]>newBuilder()
        .setType(org.apache.ratis.thirdparty.io.grpc.MethodDescriptor.MethodType.UNARY).setFullMethodName(method)
        .setRequestMarshaller(bytes).setResponseMarshaller(bytes).build();
    var ssl = org.apache.ratis.thirdparty.io.grpc.netty.GrpcSslContexts.forClient()
        .keyManager(new ReloadingKeyManager(tls.cert(), tls.key(), 10_000))
        .trustManager(PeerTrustManager.fromCaFile(tls.ca(), (h, p) -> Optional.empty(), false)).build();
    var channel = org.apache.ratis.thirdparty.io.grpc.netty.NettyChannelBuilder
        .forTarget(cluster.config("n1").self().getAddress()).sslContext(ssl).build();
    try {
      return org.apache.ratis.thirdparty.io.grpc.stub.ClientCalls.blockingUnaryCall(channel, descriptor,
          org.apache.ratis.thirdparty.io.grpc.CallOptions.DEFAULT.withDeadlineAfter(20, TimeUnit.SECONDS), new byte[0]);
    } finally {
      channel.shutdownNow();
    }
  }

  /** For 3 s (several of n4's election timeouts): the leader stays, and n4 never learns one. */
  private static void assertUndisturbed(String leader, CohortServer n4) {
    await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(30)).until(() ->
        leader.equals(cluster.leaderId()) && n4.division().getInfo().getLeaderId() == null);
  }

  /** A node's new leaf certificate serves new connections at once; open ones keep working. */
  @Test
  void R11_aRotatedCertificateServesNewConnectionsWithoutARestart() throws Exception {
    String node = "n1";
    BlockingCohortClient open = client(cluster.adminTls()).blocking();
    assertEquals(2, open.listGroups().size());
    BigInteger before = presentedSerial(node);
    assertEquals(cluster.server(node).tls().certificate().getSerialNumber(), before);

    TlsFiles files = cluster.config(node).tls();
    cluster.certs().ca().issueNode(node, List.of("127.0.0.1"), List.of("localhost"), Duration.ofDays(1))
        .write(files.cert(), files.key());
    assertTrue(cluster.server(node).reloadTls(), "the changed files were read");
    BigInteger after = presentedSerial(node);
    assertNotEquals(before, after, "a new connection sees the new leaf");
    assertEquals(cluster.server(node).tls().certificate().getSerialNumber(), after);
    assertEquals(2, open.listGroups().size(), "connections already open keep working");
    assertEquals(2, client(cluster.adminTls()).blocking().listGroups().size(), "and new clients connect");
  }

  /** A raw TLS handshake with the node's port, as the admin: the serial of the certificate it presents. */
  private static BigInteger presentedSerial(String node) throws Exception {
    TlsFiles admin = cluster.adminTls();
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(new KeyManager[] {new ReloadingKeyManager(admin.cert(), admin.key(), 10_000)},
        new TrustManager[] {PeerTrustManager.fromCaFile(admin.ca(), (h, p) -> Optional.of(node), false)}, null);
    int port = cluster.config(node).selfAddress().port();
    try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket("127.0.0.1", port)) {
      SSLParameters params = s.getSSLParameters();
      params.setApplicationProtocols(new String[] {"h2"});
      s.setSSLParameters(params);
      s.setSoTimeout(10_000);
      s.startHandshake();
      return ((X509Certificate) s.getSession().getPeerCertificates()[0]).getSerialNumber();
    }
  }

  private static Heartbeat join(String group, String consumer) {
    return Heartbeat.newBuilder().setGroup(group).setConsumerId(consumer).build();
  }
}
