package io.cohort.client.admin;

import io.cohort.client.CohortClientConfig;
import io.cohort.client.CohortException;
import io.cohort.client.CohortRejectedException;
import io.cohort.client.PermissionDeniedIOException;
import io.cohort.client.tls.ClientTls;
import io.cohort.client.tls.TlsFiles;
import io.cohort.statemachine.proto.ClusterInfoQuery;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Query;
import org.apache.ratis.conf.Parameters;
import io.cohort.client.CohortGroup;
import io.cohort.client.CohortUnavailableException;
import io.cohort.client.Peers;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.ratis.RaftConfigKeys;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.proto.RaftProtos.CommitInfoProto;
import org.apache.ratis.proto.RaftProtos.LogInfoProto;
import org.apache.ratis.proto.RaftProtos.RoleInfoProto;
import org.apache.ratis.protocol.GroupInfoReply;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.rpc.SupportedRpcType;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.util.TimeDuration;

/**
 * The Raft side of a Cohort cluster, for operators: what each peer says about its Raft state
 * ({@link #view}), snapshots on demand, and membership: adding, removing and replacing a node and
 * handing leadership off ({@link Reconfiguration}). These are calls to Ratis itself, not commands
 * to the state machine.
 *
 * <p>Every call is bounded by the timeout given at connect: a peer that does not answer in time
 * is reported unreachable (status) or fails the call with {@link CohortUnavailableException}.
 */
public final class ClusterAdmin implements AutoCloseable {
  /** A cheap query any principal may read: {@link #refusesReadAt} sends it. */
  private static final Message CLUSTER_INFO = Message.valueOf(ByteString.copyFrom(
      Query.newBuilder().setClusterInfo(ClusterInfoQuery.getDefaultInstance()).build().toByteArray()));

  private final Peers peers;
  private final RaftGroupId groupId;
  private final TlsFiles tls;
  private final Duration timeout;
  private final RaftClient raft;
  private final ExecutorService askers;

  private ClusterAdmin(Peers peers, RaftGroupId groupId, Duration timeout, TlsFiles tls) {
    if (timeout.isZero() || timeout.isNegative()) {
      throw new IllegalArgumentException("timeout must be positive, got " + timeout);
    }
    this.peers = peers;
    this.groupId = groupId;
    this.tls = tls;
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

  /**
   * Every listed peer, asked in parallel, in the peers' order, with its lag behind the leader and
   * its place in the leader's configuration. Never throws for a peer that is down.
   */
  public List<PeerStatus> status() {
    return view(false).peers();
  }

  /**
   * {@link #status()} plus the members of the leader's configuration that were not listed, the
   * configuration itself and the peers being staged into it.
   */
  public ClusterView view() {
    return view(true);
  }

  /** One peer's answer: its status, and Ratis' reply when it answered. */
  record Answer(Peers.Peer peer, PeerStatus status, GroupInfoReply reply) {}

  ClusterView view(boolean discover) {
    List<Answer> answers = askAll(peers.list());
    Answer leader = leaderOf(answers);
    RaftConf conf = leader != null && leader.reply().getConf().isPresent() ? RaftConf.of(leader.reply().getConf().get())
        : null;
    if (discover && conf != null) {
      List<Peers.Peer> unlisted = conf.all().stream().filter(p -> peers.find(p.id()).isEmpty()).toList();
      if (!unlisted.isEmpty()) {
        raft.getClientRpc().addRaftPeers(unlisted.stream().map(Peers.Peer::toRaftPeer).toList());
        List<Answer> more = askAll(unlisted);
        answers = new ArrayList<>(answers);
        for (Answer a : more) {
          answers.add(new Answer(a.peer(), a.status().with(-1, PeerStatus.Membership.UNKNOWN, false), a.reply()));
        }
      }
    }
    Map<String, Long> commits = new TreeMap<>();
    long leaderCommit = -1;
    if (leader != null) {
      leaderCommit = leader.status().commitIndex();
      for (CommitInfoProto c : leader.reply().getCommitInfos()) {
        commits.put(c.getServer().getId().toStringUtf8(), c.getCommitIndex());
      }
      commits.put(leader.peer().id(), leaderCommit);
    }
    List<String> staging = new ArrayList<>();
    if (conf != null) {
      commits.keySet().stream().filter(id -> !conf.contains(id)).forEach(staging::add);
    }
    List<PeerStatus> out = new ArrayList<>();
    for (Answer a : answers) {
      String id = a.peer().id();
      long lag = commits.containsKey(id) ? Math.max(0, leaderCommit - commits.get(id)) : -1;
      PeerStatus.Membership m = conf == null ? PeerStatus.Membership.UNKNOWN
          : conf.isVoter(id) ? PeerStatus.Membership.MEMBER
          : conf.isListener(id) ? PeerStatus.Membership.LISTENER
          : staging.contains(id) ? PeerStatus.Membership.STAGING : PeerStatus.Membership.NOT_MEMBER;
      // A peer that answers with a configuration without itself is not a member, whatever the leader says.
      if (m == PeerStatus.Membership.MEMBER && a.reply() != null && a.reply().getConf().isPresent()
          && !RaftConf.of(a.reply().getConf().get()).contains(id)
          && !RaftConf.of(a.reply().getConf().get()).isEmpty()) {
        m = PeerStatus.Membership.NOT_MEMBER;
      }
      out.add(a.status().with(lag, m, a.status().listed()));
    }
    return new ClusterView(out, leader == null ? null : leader.peer().id(), conf, leaderCommit, staging);
  }

  /** Asks one peer, listed or not (a node to add). */
  Answer probe(Peers.Peer peer) {
    raft.getClientRpc().addRaftPeers(List.of(peer.toRaftPeer()));
    Answer a = ask(peer);
    return new Answer(a.peer(), a.status().with(-1, PeerStatus.Membership.UNKNOWN, peers.find(peer.id()).isPresent()),
        a.reply());
  }

  /**
   * Whether {@code peer} serves a stale read at {@code minIndex}: Ratis takes client calls only on
   * a running member (one that votes, not one still being caught up), and a stale read only once
   * its commit index reached {@code minIndex}. Null when it did; otherwise why not, in one line.
   */
  public String refusesReadAt(Peers.Peer peer, long minIndex) {
    raft.getClientRpc().addRaftPeers(List.of(peer.toRaftPeer()));
    try {
      RaftClientReply r = raft.io().sendStaleRead(CLUSTER_INFO, minIndex, RaftPeerId.valueOf(peer.id()));
      return r.isSuccess() ? null : firstLine(r.getException());
    } catch (IOException | RuntimeException e) {
      return reason(e);
    }
  }

  /**
   * The members that answer Ratis but refuse a read, one line each: a member Ratis left
   * initializing (RATIS-NOTES D.7) looks caught up in {@link #view} yet cannot vote, so the next
   * failure may leave the others without a quorum.
   */
  public List<String> notVoting(ClusterView view) {
    List<String> out = new ArrayList<>();
    for (PeerStatus s : view.peers()) {
      if (s.reachable() && s.membership() == PeerStatus.Membership.MEMBER) {
        String why = refusesReadAt(Peers.parse(s.id() + "=" + s.address()).list().get(0), 0);
        if (why != null) {
          out.add(s.id() + " is a member but refuses reads, so it may not vote (" + why + ")");
        }
      }
    }
    return out;
  }

  /** The caller's certificate, or null on a plaintext cluster: every Raft client of this admin uses it. */
  TlsFiles tls() {
    return tls;
  }

  RaftGroupId groupId() {
    return groupId;
  }

  // ------------------------------------------------------------------ membership (step 10)

  /**
   * Adds a voter: the node must run, empty, with {@code cohort server --join}. The leader catches
   * it up before the configuration that adds it commits. Waits up to {@code wait}, printing
   * progress lines to {@code progress}.
   *
   * @throws CohortException with one line when a check fails or the change does not commit
   */
  public MembershipResult add(Peers.Peer peer, Duration wait, Consumer<String> progress) {
    return new Reconfiguration(this, wait, progress).change(peer.id() + " added", List.of(peer), List.of());
  }

  /** Removes a voter (leadership is handed off first if it leads); the removed node stops by itself. */
  public MembershipResult remove(String id, Duration wait, Consumer<String> progress) {
    return new Reconfiguration(this, wait, progress).change(id + " removed", List.of(), List.of(id));
  }

  /** Swaps one voter for a new, empty node in one configuration change. */
  public MembershipResult replace(String oldId, Peers.Peer peer, Duration wait, Consumer<String> progress) {
    return new Reconfiguration(this, wait, progress).change(oldId + " replaced by " + peer.id(), List.of(peer),
        List.of(oldId));
  }

  /** Hands leadership to {@code to}, or (null) to the most caught-up other voter. */
  public MembershipResult transferLeadership(String to, Duration wait, Consumer<String> progress) {
    return new Reconfiguration(this, wait, progress).transferLeadership(to);
  }

  /** The peer that says it leads with the highest term (an old leader cut off may still say so). */
  private static Answer leaderOf(List<Answer> answers) {
    return answers.stream().filter(a -> a.status().reachable() && a.status().isLeader())
        .max(Comparator.comparingLong(a -> a.status().term())).orElse(null);
  }

  /** The peer that says it leads, among those that answered. */
  public static Optional<PeerStatus> leader(List<PeerStatus> status) {
    return status.stream().filter(s -> s.reachable() && s.isLeader()).max(Comparator.comparingLong(PeerStatus::term));
  }

  private List<Answer> askAll(List<Peers.Peer> who) {
    List<CompletableFuture<Answer>> asked = new ArrayList<>();
    for (Peers.Peer peer : who) {
      asked.add(CompletableFuture.supplyAsync(() -> ask(peer), askers));
    }
    List<Answer> out = new ArrayList<>();
    for (int i = 0; i < asked.size(); i++) {
      Peers.Peer peer = who.get(i);
      try {
        out.add(asked.get(i).get(timeout.toMillis() + 1000, TimeUnit.MILLISECONDS));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        out.add(new Answer(peer, PeerStatus.unreachable(peer.id(), peer.address(), "interrupted"), null));
      } catch (Exception e) {
        out.add(new Answer(peer, PeerStatus.unreachable(peer.id(), peer.address(), "no answer within " + seconds()),
            null));
      }
    }
    return out;
  }

  private Answer ask(Peers.Peer peer) {
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
      String conf = r.getConf().map(c -> String.join(",", RaftConf.of(c).voterIds())).orElse("");
      return new Answer(peer, new PeerStatus(peer.id(), peer.address(), true, role.getRole().name(), term,
          log.hasCommitted() ? log.getCommitted().getIndex() : -1,
          log.hasApplied() ? log.getApplied().getIndex() : -1,
          log.hasLastSnapshot() ? log.getLastSnapshot().getIndex() : -1, leader, null, -1,
          PeerStatus.Membership.UNKNOWN, conf, true), r);
    } catch (IOException | RuntimeException e) {
      return new Answer(peer, PeerStatus.unreachable(peer.id(), peer.address(), reason(e)), null);
    }
  }

  /** Why a peer did not answer, in an operator's words where the cause is a common one. */
  String reason(Throwable e) {
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

  String seconds() {
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
