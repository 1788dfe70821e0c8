package io.cohort.server;

import io.cohort.client.Peers;
import io.cohort.server.health.Readiness;
import io.cohort.server.metrics.NodeMetrics;
import io.cohort.server.tls.AccessInterceptor;
import io.cohort.server.tls.PeerDirectory;
import io.cohort.server.tls.ServerTls;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.storage.RaftStorage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** One Cohort node: a Ratis server with a {@link CohortStateMachine}, started from a {@link ServerConfig}. */
public final class CohortServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(CohortServer.class);

  private final ServerConfig config;
  private final RaftServer server;
  private final CohortStateMachine stateMachine;
  private final NodeMetrics metrics;
  private final ServerTls tls;
  private final AccessInterceptor access;
  private final Readiness readiness;
  private final AtomicBoolean closed;
  private final CountDownLatch terminated = new CountDownLatch(1);
  private final NodeGuard guard;
  private final ScheduledExecutorService checks;
  private final WatchService watches;
  private final CallThreads callThreads;

  private CohortServer(ServerConfig config, RaftServer server, CohortStateMachine stateMachine, NodeMetrics metrics,
      ServerTls tls, AccessInterceptor access, AtomicBoolean closed, NodeGuard guard, WatchService watches,
      CallThreads callThreads) {
    this.watches = watches;
    this.callThreads = callThreads;
    this.config = config;
    this.server = server;
    this.stateMachine = stateMachine;
    this.metrics = metrics;
    this.tls = tls;
    this.access = access;
    this.readiness = new Readiness(this::divisionOrNull, stateMachine, config.metrics().readyMaxLagEntries());
    this.closed = closed;
    this.guard = guard;
    this.checks = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "cohort-node-check-" + config.id());
      t.setDaemon(true);
      return t;
    });
    guard.start(checks);
  }

  /**
   * Starts a node from its storage (newest snapshot plus the log). Refuses, with a {@link
   * ConfigException} naming the next step, when the storage is missing: see {@link StartMode}.
   * Throws {@link IOException} (often a {@code CorruptSnapshotException} as cause) when the node
   * cannot start; {@link StartupDiagnosis#explain} turns it into one line for the operator.
   */
  public static CohortServer start(ServerConfig config) throws IOException {
    return start(config, StartMode.RECOVER);
  }

  /** {@link #start(ServerConfig)} in the given mode; a failure that must stop the node closes it. */
  public static CohortServer start(ServerConfig config, StartMode mode) throws IOException {
    return start(config, mode, ServerClock.SYSTEM, null);
  }

  /**
   * @param clock the clocks the leader stamps commands with (tests step them)
   * @param failStop told when the node must stop for good (the server process exits); null: the
   *     node only closes itself
   */
  public static CohortServer start(ServerConfig config, StartMode mode, ServerClock clock, FailStop failStop)
      throws IOException {
    NodeStorage storage = new NodeStorage(config.storageDir(), config.groupId());
    boolean existed = storage.exists();
    if (!existed && mode == StartMode.RECOVER) {
      throw new ConfigException(StartupDiagnosis.missingStorage(config));
    }
    checkStorageDir(config.storageDir());
    if (!existed && mode == StartMode.JOIN) {
      storage.markJoining();
    }
    boolean joining = storage.isJoining();
    // A joining node knows no configuration until the leader's log gives it one that names it.
    RaftGroup group = joining ? RaftGroup.valueOf(config.groupId(), List.of()) : config.group();

    AtomicReference<CohortServer> started = new AtomicReference<>();
    FailStop onFailure = (code, line) -> {
      CohortServer node = started.get();
      if (failStop != null) {
        failStop.stop(code, line);
      } else if (node != null) {
        node.close();
      }
    };
    PeerDirectory peers = new PeerDirectory(config.peers(), joining);
    ServerTls tls = config.tls() == null ? null
        : ServerTls.start(config.tls(), peers, config.id().toString(), config.selfAddress());
    NodeMetrics metrics = config.metrics().enabled() ? new NodeMetrics(config.metrics()) : null;
    CohortStateMachine sm = metrics == null ? new CohortStateMachine(config.stateMachine(), clock)
        : new CohortStateMachine(config.stateMachine(), clock, metrics.events(), metrics.events());
    sm.judgeStallsAfter(config.metrics().stallAfterMs());
    AccessInterceptor access = new AccessInterceptor(tls != null, peers, sm::acl, config.id().toString());
    AtomicReference<RaftServer> raft = new AtomicReference<>();
    AtomicBoolean fresh = new AtomicBoolean();
    RaftProperties properties = RatisSettings.forServer(config);
    long freshnessBoundMs = LeaderFreshness.boundMs(properties);
    // The sample, else a look now: a leader ready within the last sample period is not refused.
    BooleanSupplier freshNow = () -> fresh.get()
        || LeaderFreshness.fresh(divisionOrNull(raft.get(), config), freshnessBoundMs);
    sm.judgeLeadershipBy(freshNow); // quiet heartbeats are answered only while it holds (step 11)
    sm.judgeReadsBy(() -> LeaderFreshness.cutOff(divisionOrNull(raft.get(), config), freshnessBoundMs)); // R10
    WatchService watches = new WatchService(config.id().toString(), sm::watchView, sm::quietHeartbeat,
        new WatchService.Leadership() {
          @Override
          public String notLeader() {
            return CohortServer.notLeader(divisionOrNull(raft.get(), config), freshNow);
          }

          @Override
          public boolean raftLeader() {
            return sm.raftLeader();
          }
        });
    sm.watchedBy(watches);
    AtomicBoolean closed = new AtomicBoolean();
    NodeGuard guard = new NodeGuard(config.id(), storage, () -> divisionOrNull(raft.get(), config),
        closed::get, onFailure);
    sm.reportFailuresTo(guard);
    JoinGuard joinGuard = joining
        ? new JoinGuard(config.id(), () -> holdsNothing(raft.get(), config), guard::refuseRejoin) : null;
    CallThreads callThreads = new CallThreads(config.id().toString());
    RaftServer server;
    try {
      server = RaftServer.newBuilder()
          .setServerId(config.id())
          .setGroup(group)
          .setStateMachine(sm)
          .setProperties(properties)
          .setParameters(parameters(tls, access, joinGuard, watches, callThreads))
          .setOption(RaftStorage.StartupOption.RECOVER)
          .build();
    } catch (IOException | RuntimeException e) {
      watches.close();
      callThreads.close();
      closeQuietly(tls);
      throw e;
    }
    raft.set(server);
    try {
      server.start();
    } catch (IOException | RuntimeException e) {
      closed.set(true);
      closeQuietly(server);
      watches.close();
      callThreads.close();
      closeQuietly(tls);
      throw e;
    }
    LOG.info("[{}] started on {} with storage {} in group {} ({}) of {} ({})", config.id(),
        config.self().getAddress(), config.storageDir(), config.groupId().getUuid(),
        existed ? "recovered" : joining ? "joining: waiting to be added" : "bootstrapped",
        joining ? "no configuration yet" : Peers.of(config.peers()),
        tls == null ? "INSECURE: plaintext, every caller is the admin 'anonymous'"
            : "mutual TLS as " + tls.certificate().getSubjectX500Principal().getName());
    CohortServer node = new CohortServer(config, server, sm, metrics, tls, access, closed, guard, watches,
        callThreads);
    node.checks.scheduleWithFixedDelay(() -> {
      boolean now = LeaderFreshness.fresh(node.divisionOrNull(), freshnessBoundMs);
      if (fresh.getAndSet(now) && !now) {
        watches.notLeader(""); // cut off (or stepping down): the parked watches try the other peers
      }
    }, 0, FRESHNESS_SAMPLE_MS, TimeUnit.MILLISECONDS);
    started.set(node);
    peers.attach(node::divisionOrNull);
    if (metrics != null) {
      try {
        metrics.start(config.id().toString(), config.selfAddress().host(), node::divisionOrNull, sm, node.readiness,
            tls == null ? null : tls.httpsContext());
      } catch (RuntimeException e) {
        node.close();
        throw e;
      }
    }
    return node;
  }

  /**
   * Ratis' parameters: the node's TLS for its one port and its outbound connections (R11), the
   * access interceptor in front of every service on that port and, on a joining node, the guard
   * that refuses a log from a group it was never added to; and, next to Ratis' client service,
   * the watch (R12), behind the same TLS and interceptor; the port's calls run on {@link CallThreads}.
   */
  private static Parameters parameters(ServerTls tls, AccessInterceptor access, JoinGuard joinGuard,
      WatchService watches, CallThreads callThreads) {
    Parameters p = new Parameters();
    if (tls != null) {
      GrpcConfigKeys.TLS.setConf(p, tls.grpc());
    }
    GrpcConfigKeys.Server.setServicesCustomizer(p, (builder, types) -> {
      if (types.contains(org.apache.ratis.grpc.server.GrpcServices.Type.CLIENT)) {
        builder.addService(watches.definition());
        builder.callExecutor(callThreads.supplier());
      }
      return joinGuard == null ? builder.intercept(access) : builder.intercept(joinGuard).intercept(access);
    });
    return p;
  }

  /** How often the leader's freshness (a majority heard within the election timeout's minimum) is sampled. */
  static final long FRESHNESS_SAMPLE_MS = 100;

  /**
   * The watch's leadership check (R12): null when this node leads, is ready and heard from a
   * majority lately ({@link LeaderFreshness}: the sample, or a look now when it says not); else the
   * leader's id, or "" when it knows none or leads without a fresh majority (a leader cut off from
   * its followers: the consumers' watches go to the other peers).
   */
  private static String notLeader(RaftServer.Division d, BooleanSupplier fresh) {
    if (d == null) {
      return "";
    }
    if (d.getInfo().isLeader() && d.getInfo().isLeaderReady()) {
      return fresh.getAsBoolean() ? null : "";
    }
    RaftPeerId leader = d.getInfo().getLeaderId();
    return leader == null ? "" : leader.toString();
  }

  /** R12: watches parked on this node now. */
  public int parkedWatches() {
    return watches.parked();
  }

  /** R12: watches this node answered "heartbeat now" so far. */
  public long watchChangesAnswered() {
    return watches.changesAnswered();
  }

  /** Calls this node's interceptor refused (R11): not a peer, not an admin, no certificate. */
  public long accessRefusals() {
    return access.refusals();
  }

  /** Re-reads the node's certificate if its files changed (SIGHUP); false when nothing changed or TLS is off. */
  public boolean reloadTls() {
    return tls != null && tls.reload();
  }

  /** The node's TLS, or null on an insecure node. */
  public ServerTls tls() {
    return tls;
  }

  private static RaftServer.Division divisionOrNull(RaftServer server, ServerConfig config) {
    try {
      return server == null ? null : server.getDivision(config.groupId());
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /** No log entry and no snapshot: what a node that just formatted its storage holds. */
  private static boolean holdsNothing(RaftServer server, ServerConfig config) {
    RaftServer.Division d = divisionOrNull(server, config);
    if (d == null) {
      return true;
    }
    return d.getRaftLog().getLastEntryTermIndex() == null && d.getStateMachine().getLatestSnapshot() == null;
  }

  static void checkStorageDir(Path dir) {
    try {
      Files.createDirectories(dir);
    } catch (IOException | SecurityException e) {
      throw new ConfigException("storage dir " + dir + " cannot be created: " + e.getMessage());
    }
    if (!Files.isDirectory(dir)) {
      throw new ConfigException("storage dir " + dir + " is not a directory");
    }
    try {
      Path probe = Files.createTempFile(dir, ".write-check", ".tmp");
      Files.delete(probe);
    } catch (IOException | SecurityException e) {
      throw new ConfigException("storage dir " + dir + " is not writable: " + e.getMessage());
    }
  }

  public ServerConfig config() {
    return config;
  }

  public RaftServer raftServer() {
    return server;
  }

  public CohortStateMachine stateMachine() {
    return stateMachine;
  }

  public RaftServer.Division division() throws IOException {
    return server.getDivision(config.groupId());
  }

  /** The division while the node runs, else null. */
  private RaftServer.Division divisionOrNull() {
    if (closed.get()) {
      return null;
    }
    try {
      return division();
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /** Whether this node should get traffic, as {@code /readyz} answers (step 9). */
  public Readiness.Verdict readiness() {
    return readiness.check();
  }

  /** The node's metrics, or null when its HTTP endpoint is off ({@code --http-port 0}). */
  public NodeMetrics metrics() {
    return metrics;
  }

  /** True when this node leads and its start-up entry is applied (writes are accepted). */
  public boolean isLeaderReady() {
    try {
      return !closed.get() && division().getInfo().isLeaderReady();
    } catch (IOException e) {
      return false;
    }
  }

  public boolean isClosed() {
    return closed.get();
  }

  /** A committed configuration names this node a voter, but Ratis has not started it (it cannot vote). */
  public boolean unstartedVoter() {
    return guard.unstartedVoter();
  }

  /** True once this node decided to stop for good (log or snapshot write failed, removed, ...). */
  public boolean failStopped() {
    return guard.fired();
  }

  /** Blocks until {@link #close()} has finished. */
  public void awaitTermination() throws InterruptedException {
    terminated.await();
  }

  /** Blocks until {@link #close()} has finished or the time is up; true if it finished. */
  public boolean awaitTermination(long ms) throws InterruptedException {
    return terminated.await(ms, TimeUnit.MILLISECONDS);
  }

  /** Stops the node: applies what is committed, closes the state machine and the log. Idempotent. */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    LOG.info("[{}] stopping", config.id());
    checks.shutdownNow();
    if (metrics != null) {
      metrics.close(); // a load balancer sees the node gone before Raft stops
    }
    closeQuietly(server);
    watches.close();
    callThreads.close();
    closeQuietly(tls);
    LOG.info("[{}] stopped", config.id());
    terminated.countDown();
  }

  private static void closeQuietly(ServerTls tls) {
    if (tls != null) {
      tls.close();
    }
  }

  private static void closeQuietly(RaftServer server) {
    try {
      server.close();
    } catch (IOException | RuntimeException e) {
      LOG.warn("closing {}: {}", server.getId(), e.toString());
    }
  }
}
