package io.cohort.client.admin;

import io.cohort.client.CohortClientConfig;
import io.cohort.client.CohortException;
import io.cohort.client.CohortRejectedException;
import io.cohort.client.PermissionDeniedIOException;
import io.cohort.client.tls.ClientTls;
import io.cohort.client.tls.TlsFiles;
import io.cohort.statemachine.proto.Code;
import org.apache.ratis.conf.Parameters;
import io.cohort.client.CohortGroup;
import io.cohort.client.CohortUnavailableException;
import io.cohort.client.Peers;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.RaftConfigKeys;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.proto.RaftProtos.LogInfoProto;
import org.apache.ratis.proto.RaftProtos.RoleInfoProto;
import org.apache.ratis.protocol.GroupInfoReply;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.rpc.SupportedRpcType;
import org.apache.ratis.util.TimeDuration;

/**
 * The Raft side of a Cohort cluster, for operators: what each peer says about its Raft state, and
 * snapshots on demand. These are calls to Ratis itself, not commands to the state machine; the
 * membership calls of later steps (leadership transfer, set-configuration) belong here too and
 * share its client, its per-peer targeting and its error mapping.
 *
 * <p>Every call is bounded by the timeout given at connect: a peer that does not answer in time
 * is reported unreachable (status) or fails the call with {@link CohortUnavailableException}.
 */
public final class ClusterAdmin implements AutoCloseable {
  private final Peers peers;
  private final RaftGroupId groupId;
  private final Duration timeout;
  private final RaftClient raft;
  private final ExecutorService askers;

  private ClusterAdmin(Peers peers, RaftGroupId groupId, Duration timeout, TlsFiles tls) {
    if (timeout.isZero() || timeout.isNegative()) {
      throw new IllegalArgumentException("timeout must be positive, got " + timeout);
    }
    this.peers = peers;
    this.groupId = groupId;
    this.timeout = timeout;
    RaftProperties p = new RaftProperties();
    RaftConfigKeys.Rpc.setType(p, SupportedRpcType.GRPC);
    RaftClientConfigKeys.Rpc.setRequestTimeout(p, TimeDuration.valueOf(timeout.toMillis(), TimeUnit.MILLISECONDS));
    // One attempt per call: each call names its peer, and the caller decides whether to ask again.
    this.raft = RaftClient.newBuilder().setProperties(p)
        .setRaftGroup(RaftGroup.valueOf(groupId, peers.toRaftPeers()))
        .setParameters(tls == null ? new Parameters() : ClientTls.of(tls, peers).parameters())
        .setRetryPolicy(RetryPolicies.noRetry()).build();
    this.askers = Executors.newFixedThreadPool(Math.min(peers.list().size(), 8), r -> {
      Thread t = new Thread(r, "cohort-admin");
      t.setDaemon(true);
      return t;
    });
  }

  /**
   * @param tls this caller's certificate for mutual TLS (R11); null for a cluster started
   *     {@code --insecure}
   */
  public static ClusterAdmin connect(Peers peers, Duration timeout, TlsFiles tls) {
    return new ClusterAdmin(peers, CohortGroup.ID, timeout, tls);
  }

  public static ClusterAdmin connect(Peers peers, RaftGroupId groupId, Duration timeout, TlsFiles tls) {
    return new ClusterAdmin(peers, groupId, timeout, tls);
  }

  /** The client's transport settings: its TLS files, or plaintext when the config is insecure. */
  public static ClusterAdmin connect(CohortClientConfig config, Duration timeout) {
    return new ClusterAdmin(config.peers(), config.groupId(), timeout, config.tls());
  }

  public Peers peers() {
    return peers;
  }

  public Duration timeout() {
    return timeout;
  }

  /** Every peer, asked in parallel; in the peers' order. Never throws for a peer that is down. */
  public List<PeerStatus> status() {
    List<CompletableFuture<PeerStatus>> asked = new ArrayList<>();
    for (Peers.Peer peer : peers.list()) {
      asked.add(CompletableFuture.supplyAsync(() -> ask(peer), askers));
    }
    List<PeerStatus> out = new ArrayList<>();
    for (int i = 0; i < asked.size(); i++) {
      Peers.Peer peer = peers.list().get(i);
      try {
        out.add(asked.get(i).get(timeout.toMillis() + 1000, TimeUnit.MILLISECONDS));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        out.add(PeerStatus.unreachable(peer.id(), peer.address(), "interrupted"));
      } catch (Exception e) {
        out.add(PeerStatus.unreachable(peer.id(), peer.address(), "no answer within " + seconds()));
      }
    }
    return out;
  }

  /** The peer that says it leads, among those that answered. */
  public static Optional<PeerStatus> leader(List<PeerStatus> status) {
    return status.stream().filter(s -> s.reachable() && s.isLeader()).findFirst();
  }

  private PeerStatus ask(Peers.Peer peer) {
    try {
      GroupInfoReply r = raft.getGroupManagementApi(RaftPeerId.valueOf(peer.id())).info(groupId);
      RoleInfoProto role = r.getRoleInfoProto();
      LogInfoProto log = r.getLogInfoProto();
      long term = log.hasLastEntry() ? log.getLastEntry().getTerm() : -1;
      String leader = null;
      if (role.hasLeaderInfo()) {
        term = role.getLeaderInfo().getTerm();
        leader = peer.id();
      } else if (role.hasFollowerInfo() && role.getFollowerInfo().hasLeaderInfo()) {
        leader = role.getFollowerInfo().getLeaderInfo().getId().getId().toStringUtf8();
        leader = leader.isEmpty() ? null : leader;
      }
      return new PeerStatus(peer.id(), peer.address(), true, role.getRole().name(), term,
          log.hasCommitted() ? log.getCommitted().getIndex() : -1,
          log.hasApplied() ? log.getApplied().getIndex() : -1,
          log.hasLastSnapshot() ? log.getLastSnapshot().getIndex() : -1, leader, null);
    } catch (IOException | RuntimeException e) {
      return PeerStatus.unreachable(peer.id(), peer.address(), reason(e));
    }
  }

  /** Why a peer did not answer, in an operator's words where the cause is a common one. */
  private String reason(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof java.net.UnknownHostException) {
        return "unknown host";
      }
      if (t instanceof PermissionDeniedIOException) {
        return "permission denied: " + t.getMessage();
      }
      if (t instanceof javax.net.ssl.SSLException) {
        return "TLS handshake failed: " + firstLine(t);
      }
      if (t instanceof org.apache.ratis.protocol.exceptions.TimeoutIOException) {
        return "no answer within " + seconds();
      }
      if (t.getMessage() != null && t.getMessage().contains("Connection refused")) {
        return "connection refused";
      }
    }
    return firstLine(e);
  }

  /**
   * Asks one peer to take a snapshot now. Returns the log index the snapshot covers; the node may
   * still be writing the file (watch {@link PeerStatus#snapshotIndex()} for it).
   */
  public long createSnapshot(String peerId) {
    Peers.Peer peer = peers.find(peerId).orElseThrow(() ->
        new IllegalArgumentException("peer '" + peerId + "' is not one of " + peers));
    RaftClientReply reply;
    try {
      reply = raft.getSnapshotManagementApi(RaftPeerId.valueOf(peerId)).create(true, timeout.toMillis());
    } catch (IOException e) {
      throw unavailable(peer, e);
    }
    if (!reply.isSuccess()) {
      throw new CohortException("peer " + peerId + " did not take a snapshot: "
          + (reply.getException() == null ? "no reason given" : firstLine(reply.getException())), reply.getException());
    }
    return reply.getLogIndex();
  }

  /** A refusal by the peer's interceptor (R11) is final; anything else means it did not answer. */
  private CohortException unavailable(Peers.Peer peer, IOException e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof PermissionDeniedIOException) {
        return new CohortRejectedException(Code.PERMISSION_DENIED, t.getMessage());
      }
    }
    return new CohortUnavailableException("peer " + peer + " did not answer within " + seconds()
        + " (" + reason(e) + ")", e);
  }

  private String seconds() {
    long ms = timeout.toMillis();
    return ms % 1000 == 0 ? ms / 1000 + " s" : ms + " ms";
  }

  /** The first line of the deepest message: Ratis nests the telling one. */
  static String firstLine(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    String m = t.getMessage() != null ? t.getMessage() : e.getMessage();
    if (m == null || m.isBlank()) {
      return t.getClass().getSimpleName();
    }
    return m.lines().findFirst().orElse(m).strip();
  }

  @Override
  public void close() {
    askers.shutdownNow();
    try {
      raft.close();
    } catch (IOException e) {
      // the answers are in; nothing to release that the JVM would not
    }
  }
}
