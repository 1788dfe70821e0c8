package io.cohort.client.admin;

import io.cohort.client.CohortException;
import io.cohort.client.CohortUnavailableException;
import io.cohort.client.Peers;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.apache.ratis.RaftConfigKeys;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.SetConfigurationRequest;
import org.apache.ratis.protocol.exceptions.RaftRetryFailureException;
import org.apache.ratis.protocol.exceptions.TimeoutIOException;
import org.apache.ratis.retry.ExceptionDependentRetry;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.retry.RetryPolicy;
import org.apache.ratis.rpc.SupportedRpcType;
import org.apache.ratis.util.TimeDuration;

/**
 * One membership change or leadership transfer through Ratis' admin API (RATIS-NOTES D.1-D.2):
 * checks first (a leader, no change in progress, a new node that answers and holds no
 * configuration of its own, no address used twice), hands leadership away from a leader that
 * leaves, then one compare-and-set of the voters (a replace is one SET: the cluster never runs
 * with two voters while it swaps one). The leader stages a new node — catches it up — before the
 * joint configuration is committed; meanwhile the new node's progress is reported.
 */
final class Reconfiguration {
  private static final long PROGRESS_EVERY_NS = TimeUnit.SECONDS.toNanos(2);
  /** How long a new node may take to answer before the change is given up. */
  static final long NEW_NODE_WAIT_S = 30;
  /** Tries of a leaving leader's hand-off before the change gives up. */
  static final int HANDOFF_ATTEMPTS = 3;
  /** How long an added node may take to vote once the configuration naming it committed. */
  static final long VOTING_WAIT_MS = 10_000;

  /**
   * A leader elected a moment ago refuses until its first entry is applied, a follower redirects
   * to the leader (Ratis hands the policy no exception for either), and a leader whose previous
   * change is not committed yet refuses as "in progress": all retried for ~10 s. A timed-out
   * request is not resent (it would only be refused as in progress): the configuration is read
   * back instead.
   */
  private static final RetryPolicy TRANSIENT = ExceptionDependentRetry.newBuilder()
      .setExceptionToPolicy(TimeoutIOException.class, RetryPolicies.noRetry())
      .setDefaultPolicy(fixed()).build();

  private static RetryPolicy fixed() {
    return RetryPolicies.retryUpToMaximumCountWithFixedSleep(50, TimeDuration.valueOf(200, TimeUnit.MILLISECONDS));
  }

  private final ClusterAdmin admin;
  private final Duration wait;
  private final Consumer<String> progress;
  private final long t0 = System.nanoTime();

  Reconfiguration(ClusterAdmin admin, Duration wait, Consumer<String> progress) {
    this.admin = admin;
    this.wait = Objects.requireNonNull(wait);
    this.progress = progress == null ? line -> { } : progress;
  }

  MembershipResult change(String what, List<Peers.Peer> adding, List<String> removing) {
    ClusterView v = stableView();
    RaftConf before = v.conf();
    for (String id : removing) {
      if (!before.isVoter(id)) {
        throw new CohortException(id + " is not a voter of the configuration (" + before.describe() + ")", null);
      }
    }
    for (Peers.Peer p : adding) {
      checkNewNode(before, p);
    }
    List<Peers.Peer> target = new ArrayList<>();
    before.voters().stream().filter(p -> !removing.contains(p.id())).forEach(target::add);
    target.addAll(adding);
    if (target.isEmpty()) {
      throw new CohortException("the configuration would have no voter left (" + before.describe() + ")", null);
    }
    if (removing.contains(v.leader())) {
      v = handOff(v, removing, target.stream().map(Peers.Peer::id).filter(before::isVoter).toList(), true);
      if (!v.conf().equals(before)) {
        throw new CohortException("the configuration changed meanwhile (now " + v.conf().describe() + "): run again", null);
      }
    }
    String targetIds = String.join(",", target.stream().map(Peers.Peer::id).toList());
    progress.accept(what + ": configuration " + before.describe() + " -> " + targetIds + " (leader " + v.leader() + ")"
        + (adding.isEmpty() ? "" : "; the leader catches " + ids(adding) + " up first"));
    SetConfigurationRequest.Arguments args = SetConfigurationRequest.Arguments.newBuilder()
        .setServersInNewConf(target.stream().map(Peers.Peer::toRaftPeer).toList())
        .setListenersInNewConf(before.listenerPeers())
        .setServersInCurrentConf(before.voterPeers())
        .setListenersInCurrentConf(before.listenerPeers())
        .setMode(SetConfigurationRequest.Mode.COMPARE_AND_SET)
        .build();
    List<Peers.Peer> everyone = new ArrayList<>(before.all());
    everyone.addAll(adding);
    Throwable failure;
    try (RaftClient client = leaderClient(everyone, v.leader())) {
      CompletableFuture<RaftClientReply> sent = CompletableFuture.supplyAsync(() -> {
        try {
          return client.admin().setConfiguration(args);
        } catch (IOException e) {
          throw new CompletionException(e);
        }
      });
      failure = awaitReporting(sent, adding);
    } catch (IOException e) {
      failure = e;
    }
    ClusterView after = awaitConf(target, failure == null ? wait.toMillis() : 3000);
    if (after != null && !adding.isEmpty()) {
      after = awaitVoting(what, after, adding);
    }
    if (after != null) {
      return new MembershipResult(what + ": configuration " + after.conf().describe() + " (leader " + after.leader()
          + ", " + seconds() + ")", before, after.conf(), after.leader(), millis());
    }
    ClusterView now = admin.view();
    String reason = failure == null ? "the configuration did not settle within " + wait.toSeconds() + " s"
        : explain(failure, adding);
    throw new CohortException(what + " failed: " + reason + "; the configuration is "
        + (now.conf() == null ? "unknown (no leader)" : now.conf().describe()), failure);
  }

  MembershipResult transferLeadership(String to) {
    ClusterView v = stableView();
    String from = v.leader();
    String now;
    if (to == null) { // any other voter will do: a transfer that loses its race is tried again, as for a leaving leader
      now = handOff(v, List.of(from), v.conf().voterIds(), false).leader();
    } else if (!v.conf().isVoter(to)) {
      throw new CohortException(to + " is not a voter of the configuration (" + v.conf().describe() + ")", null);
    } else if (to.equals(from)) {
      return new MembershipResult(to + " leads already", v.conf(), v.conf(), to, millis());
    } else {
      progress.accept("handing leadership from " + from + " to " + to);
      now = transfer(v, to);
      if (!now.equals(to)) {
        throw new CohortException("leadership moved from " + from + " to " + now + ", not to " + to
            + " (an election won the race): run again", null);
      }
    }
    return new MembershipResult("leadership moved from " + from + " to " + now + " (" + seconds() + ")", v.conf(),
        v.conf(), now, millis());
  }

  // ------------------------------------------------------------------ checks

  /** A leader, and no configuration change in progress. */
  private ClusterView stableView() {
    ClusterView v = admin.view();
    if (v.leader() == null || v.conf() == null) {
      throw new CohortUnavailableException("no leader: a configuration change needs one", null);
    }
    if (v.conf().joint() || !v.staging().isEmpty()) {
      throw new CohortException("a configuration change is in progress (" + v.conf().describe()
          + (v.staging().isEmpty() ? "" : ", staging " + String.join(",", v.staging())) + "): wait for it", null);
    }
    return v;
  }

  /** The new node answers, holds no configuration that names it, and uses an address of its own. */
  private void checkNewNode(RaftConf conf, Peers.Peer p) {
    if (conf.contains(p.id())) {
      throw new CohortException(p.id() + " is a member already (" + conf.describe() + ")", null);
    }
    for (Peers.Peer m : conf.all()) {
      if (m.address().equals(p.address())) {
        throw new CohortException("address " + p.address() + " belongs to member " + m.id() + ": give " + p.id()
            + " a port of its own (or remove " + m.id() + " first, then add " + p.id() + ")", null);
      }
    }
    ClusterAdmin.Answer a = admin.probe(p);
    long deadline = System.nanoTime() + Math.min(wait.toNanos(), TimeUnit.SECONDS.toNanos(NEW_NODE_WAIT_S));
    if (!a.status().reachable()) {
      progress.accept("waiting for " + p.id() + " at " + p.address() + " to answer (" + a.status().error() + ")");
    }
    while (!a.status().reachable() && System.nanoTime() < deadline) {
      pause(500); // a node started a moment ago is still starting its JVM
      a = admin.probe(p);
    }
    if (!a.status().reachable()) {
      throw new CohortException(p.id() + " at " + p.address() + " does not answer (" + a.status().error()
          + "): start it first with `cohort server --join --id " + p.id() + " --storage DIR --peers " + p + "`", null);
    }
    RaftConf own = a.reply().getConf().map(RaftConf::of).orElse(RaftConf.EMPTY);
    if (own.contains(p.id())) {
      throw new CohortException(p.id() + " at " + p.address() + " already belongs to a configuration (" + own.describe()
          + "): a node to add starts empty, with --join", null);
    }
  }

  /**
   * The leader (leaving, or asked to hand off to anyone) hands its leadership to the most caught-up
   * staying voter. Ratis' transfer can lose a race under load (the target's election fails and the
   * old leader is elected again: DIFFERENT_LEADER; seen in the chaos run right after the target
   * restarted), so it is tried up to {@link #HANDOFF_ATTEMPTS} times, each time to the voter then
   * furthest along.
   */
  private ClusterView handOff(ClusterView v, List<String> removing, List<String> staying, boolean leaving) {
    CohortException last = null;
    for (int attempt = 1; attempt <= HANDOFF_ATTEMPTS; attempt++) {
      String to = mostCaughtUp(v, staying);
      progress.accept((leaving ? "leader " + v.leader() + " is leaving: handing leadership to " + to + " first"
          : "handing leadership from " + v.leader() + " to " + to)
          + (attempt > 1 ? " (attempt " + attempt + " of " + HANDOFF_ATTEMPTS + ")" : ""));
      try {
        transfer(v, to);
        return stableView();
      } catch (CohortException e) {
        last = e;
        progress.accept("  " + e.getMessage());
      }
      v = stableView();
      if (!removing.contains(v.leader())) {
        return v; // it moved to a staying voter after all
      }
    }
    throw last;
  }

  /** The voter among {@code candidates} the leader knows to be furthest along (reachable first). */
  private static String mostCaughtUp(ClusterView v, List<String> candidates) {
    return candidates.stream().filter(id -> !id.equals(v.leader()))
        .max((a, b) -> Long.compare(rank(v, a), rank(v, b)))
        .orElseThrow(() -> new CohortException("no other voter to lead (" + v.conf().describe() + ")", null));
  }

  private static long rank(ClusterView v, String id) {
    PeerStatus p = v.peer(id).orElse(null);
    if (p == null || !p.reachable()) {
      return Long.MIN_VALUE;
    }
    return p.lag() < 0 ? Long.MIN_VALUE / 2 : -p.lag();
  }

  // ------------------------------------------------------------------ doing it

  /**
   * Asks the leader to hand leadership to {@code to} and waits until another voter leads: usually
   * {@code to}, but an election can win the race (seen in chaos: n2 elected while n1 handed off to
   * n3). Returns the new leader; throws when the leader did not change.
   */
  private String transfer(ClusterView v, String to) {
    Throwable failure = null;
    try (RaftClient client = leaderClient(v.conf().all(), v.leader())) {
      RaftClientReply r = client.admin().transferLeadership(RaftPeerId.valueOf(to), RaftPeerId.valueOf(v.leader()),
          Math.max(1000, wait.toMillis() - 1000));
      if (!r.isSuccess()) {
        failure = r.getException();
      }
    } catch (IOException e) {
      failure = e;
    }
    long deadline = System.nanoTime() + (failure == null ? wait.toNanos() : TimeUnit.SECONDS.toNanos(3));
    String now = awaitOtherLeader(() -> admin.view().leader(), v.leader(), deadline);
    if (now != null) {
      return now;
    }
    throw new CohortException("leadership did not move to " + to + ": " + (failure == null ? "no leader change within "
        + wait.toSeconds() + " s" : explain(failure, List.of())), failure);
  }

  /** Waits for the reply, printing the new nodes' progress; the failure, or null. */
  private Throwable awaitReporting(CompletableFuture<RaftClientReply> sent, List<Peers.Peer> adding) {
    long deadline = System.nanoTime() + wait.toNanos() + TimeUnit.SECONDS.toNanos(5);
    long nextReport = System.nanoTime() + PROGRESS_EVERY_NS;
    Map<String, Long> last = new LinkedHashMap<>();
    while (true) {
      try {
        RaftClientReply r = sent.get(200, TimeUnit.MILLISECONDS);
        return r.isSuccess() ? null : r.getException();
      } catch (java.util.concurrent.TimeoutException e) {
        // still staging or committing
      } catch (java.util.concurrent.ExecutionException e) {
        return e.getCause() instanceof CompletionException c && c.getCause() != null ? c.getCause() : e.getCause();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return e;
      }
      long now = System.nanoTime();
      if (now > deadline) {
        return new IOException("no answer from the leader within " + wait.toSeconds() + " s");
      }
      if (now > nextReport && !adding.isEmpty()) {
        nextReport = now + PROGRESS_EVERY_NS;
        long leaderCommit = admin.view(false).leaderCommit();
        for (Peers.Peer p : adding) {
          PeerStatus s = admin.probe(p).status();
          if (s.reachable() && !Objects.equals(last.put(p.id(), s.commitIndex()), s.commitIndex())) {
            progress.accept("  " + p.id() + " catching up: commit index " + s.commitIndex() + " of the leader's "
                + leaderCommit + " (" + seconds() + ")");
          } else if (!s.reachable()) {
            progress.accept("  " + p.id() + " does not answer (" + s.error() + ")");
          }
        }
      }
    }
  }

  /**
   * Waits until every added node votes: serves a stale read at the commit index the new
   * configuration settled at (Ratis takes client calls only on a running member). Ratis 3.3.0 can
   * leave an added node un-started for the rest of a leader's term: a log sender restarted during
   * the catch-up comes back treating the node as still being caught up (LeaderStateImpl.restart
   * makes its FollowerInfo with caughtUp=false), so every append says "initializing" and the node
   * never starts as a voter. Seen in chaos (docs/BENCHMARKS.md), where the next leader kill left
   * the two others without a quorum for 60 s. A new leader makes new senders: leadership is
   * handed to another voter once.
   */
  private ClusterView awaitVoting(String what, ClusterView after, List<Peers.Peer> adding) {
    long bar = after.leaderCommit();
    List<String> others = after.conf().voterIds().stream()
        .filter(id -> !id.equals(after.leader()) && adding.stream().noneMatch(p -> p.id().equals(id))).toList();
    ensureVoting(what, adding, p -> admin.refusesReadAt(p, bar), VOTING_WAIT_MS,
        Math.max(VOTING_WAIT_MS, wait.toMillis() - millis()), () -> {
          if (others.isEmpty()) {
            throw new CohortException(what + ": no other voter to hand leadership to (" + after.conf().describe()
                + ")", null);
          }
          String to = mostCaughtUp(after, others);
          progress.accept("handing leadership from " + after.leader() + " to " + to + ", whose new log senders"
              + " start " + ids(adding) + " as voters");
          transfer(after, to);
        }, progress);
    return admin.view();
  }

  /**
   * Waits up to {@code firstMs} for every added node to vote ({@code refusal} says why one does
   * not, or null); if one does not, runs {@code newLeader} once and waits up to {@code thenMs}.
   *
   * @throws CohortException naming the nodes that still do not vote
   */
  static void ensureVoting(String what, List<Peers.Peer> adding, Function<Peers.Peer, String> refusal, long firstMs,
      long thenMs, Runnable newLeader, Consumer<String> progress) {
    Map<String, String> refusing = notVotingAfter(adding, refusal, firstMs);
    if (refusing.isEmpty()) {
      return;
    }
    progress.accept("  " + describe(refusing) + " " + firstMs / 1000 + " s after the configuration naming it committed");
    newLeader.run();
    refusing = notVotingAfter(adding, refusal, thenMs);
    if (!refusing.isEmpty()) {
      throw new CohortException(what + ": committed, but " + describe(refusing) + " even under a new leader: see its log",
          null);
    }
  }

  private static String describe(Map<String, String> refusing) {
    return refusing.entrySet().stream().map(e -> e.getKey() + " does not vote yet (" + e.getValue() + ")")
        .collect(Collectors.joining("; "));
  }

  /** The added nodes that still do not vote after up to {@code ms}, with why; empty once all do. */
  private static Map<String, String> notVotingAfter(List<Peers.Peer> adding, Function<Peers.Peer, String> refusal,
      long ms) {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ms);
    Map<String, String> refusing = new LinkedHashMap<>();
    while (true) {
      refusing.clear();
      for (Peers.Peer p : adding) {
        String why = refusal.apply(p);
        if (why != null) {
          refusing.put(p.id(), why);
        }
      }
      if (refusing.isEmpty() || System.nanoTime() >= deadline) {
        return refusing;
      }
      pause(250);
    }
  }

  /** Waits until the leader's configuration is exactly {@code target} and not joint; null if it never is. */
  private ClusterView awaitConf(List<Peers.Peer> target, long ms) {
    List<String> want = target.stream().map(Peers.Peer::id).sorted().toList();
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ms);
    do {
      ClusterView v = admin.view();
      if (v.conf() != null && !v.conf().joint() && v.conf().voterIds().stream().sorted().toList().equals(want)) {
        return v;
      }
      pause(200);
    } while (System.nanoTime() < deadline);
    return null;
  }

  private RaftClient leaderClient(List<Peers.Peer> peers, String leader) {
    RaftProperties p = new RaftProperties();
    RaftConfigKeys.Rpc.setType(p, SupportedRpcType.GRPC);
    RaftClientConfigKeys.Rpc.setRequestTimeout(p, TimeDuration.valueOf(wait.toMillis() + 2000, TimeUnit.MILLISECONDS));
    List<RaftPeer> raftPeers = peers.stream().map(Peers.Peer::toRaftPeer).toList();
    // The admin's certificate; the peers being added count as expected ids at their addresses.
    org.apache.ratis.conf.Parameters params = admin.tls() == null ? new org.apache.ratis.conf.Parameters()
        : io.cohort.client.tls.ClientTls.of(admin.tls(), new Peers(peers)).parameters();
    return RaftClient.newBuilder().setProperties(p).setRaftGroup(RaftGroup.valueOf(admin.groupId(), raftPeers))
        .setParameters(params).setLeaderId(RaftPeerId.valueOf(leader)).setRetryPolicy(TRANSIENT).build();
  }

  /** Polls {@code leader} until it names a leader other than {@code old} (whoever); null if none by the deadline. */
  static String awaitOtherLeader(Supplier<String> leader, String old, long deadlineNanos) {
    while (System.nanoTime() < deadlineNanos) {
      String now = leader.get();
      if (now != null && !now.equals(old)) {
        return now;
      }
      pause(200);
    }
    return null;
  }

  private static String explain(Throwable failure, List<Peers.Peer> adding) {
    String line = failure instanceof RaftRetryFailureException r && r.getCause() == null
        ? "the leader kept refusing it (no leader ready, or another change in progress)" : ClusterAdmin.firstLine(failure);
    if (!adding.isEmpty()) {
      return "the leader did not catch " + ids(adding) + " up (" + line + "): is it running with --join, and can the"
          + " leader reach " + adding.get(0).address() + "? (a node added back under an id it had before must keep"
          + " its old address: the members remember an id's address)";
    }
    return line;
  }

  private static String ids(List<Peers.Peer> peers) {
    return String.join(",", peers.stream().map(Peers.Peer::id).toList());
  }

  private long millis() {
    return (System.nanoTime() - t0) / 1_000_000;
  }

  private String seconds() {
    return String.format("%.1f s", millis() / 1000.0);
  }

  private static void pause(long ms) {
    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(ms));
  }
}
