package io.cohort.server;

import io.cohort.client.Peers;
import io.cohort.server.health.Readiness;
import io.cohort.server.metrics.NodeMetrics;
import io.cohort.server.tls.AccessInterceptor;
import io.cohort.server.tls.PeerDirectory;
import io.cohort.server.tls.ServerTls;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.grpc.GrpcConfigKeys;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
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
  private final AtomicBoolean closed = new AtomicBoolean();
  private final CountDownLatch terminated = new CountDownLatch(1);

  private CohortServer(ServerConfig config, RaftServer server, CohortStateMachine stateMachine,
      NodeMetrics metrics, ServerTls tls, AccessInterceptor access) {
    this.config = config;
    this.server = server;
    this.stateMachine = stateMachine;
    this.metrics = metrics;
    this.tls = tls;
    this.access = access;
    this.readiness = new Readiness(this::divisionOrNull, stateMachine, config.metrics().readyMaxLagEntries());
  }

  /**
   * Starts a node: formats its storage on first start, else recovers it (newest snapshot plus the
   * log). Throws {@link ConfigException} for an unusable storage dir and {@link IOException}
   * (often a {@code CorruptSnapshotException} as cause) when the node cannot start.
   */
  public static CohortServer start(ServerConfig config) throws IOException {
    return start(config, ServerClock.SYSTEM);
  }

  /** {@link #start(ServerConfig)} with the clocks the leader stamps commands with (tests step them). */
  public static CohortServer start(ServerConfig config, ServerClock clock) throws IOException {
    checkStorageDir(config.storageDir());
    PeerDirectory peers = new PeerDirectory(config.peers());
    ServerTls tls = config.tls() == null ? null
        : ServerTls.start(config.tls(), peers, config.id().toString(), config.selfAddress());
    NodeMetrics metrics = config.metrics().enabled() ? new NodeMetrics(config.metrics()) : null;
    CohortStateMachine sm = metrics == null ? new CohortStateMachine(config.stateMachine(), clock)
        : new CohortStateMachine(config.stateMachine(), clock, metrics.events(), metrics.events());
    AccessInterceptor access = new AccessInterceptor(tls != null, peers, sm::acl, config.id().toString());
    RaftServer server;
    try {
      server = RaftServer.newBuilder()
          .setServerId(config.id())
          .setGroup(config.group())
          .setStateMachine(sm)
          .setProperties(RatisSettings.forServer(config))
          .setParameters(parameters(tls, access))
          .setOption(RaftStorage.StartupOption.RECOVER)
          .build();
    } catch (IOException | RuntimeException e) {
      closeQuietly(tls);
      throw e;
    }
    try {
      server.start();
    } catch (IOException | RuntimeException e) {
      closeQuietly(server);
      closeQuietly(tls);
      throw e;
    }
    LOG.info("[{}] started on {} with storage {} in group {} of {} ({})", config.id(), config.self().getAddress(),
        config.storageDir(), config.groupId().getUuid(), Peers.of(config.peers()),
        tls == null ? "INSECURE: plaintext, every caller is the admin 'anonymous'"
            : "mutual TLS as " + tls.certificate().getSubjectX500Principal().getName());
    CohortServer node = new CohortServer(config, server, sm, metrics, tls, access);
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
   * Ratis' parameters: the node's TLS for its one port and its outbound connections (R11), and
   * the access interceptor in front of every service on that port.
   */
  private static Parameters parameters(ServerTls tls, AccessInterceptor access) {
    Parameters p = new Parameters();
    if (tls != null) {
      GrpcConfigKeys.TLS.setConf(p, tls.grpc());
    }
    GrpcConfigKeys.Server.setServicesCustomizer(p, (builder, types) -> builder.intercept(access));
    return p;
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

  /** Blocks until {@link #close()} has finished. */
  public void awaitTermination() throws InterruptedException {
    terminated.await();
  }

  /** Stops the node: applies what is committed, closes the state machine and the log. Idempotent. */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    LOG.info("[{}] stopping", config.id());
    if (metrics != null) {
      metrics.close(); // a load balancer sees the node gone before Raft stops
    }
    closeQuietly(server);
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
