package io.cohort.server;

import io.cohort.client.Peers;
import io.cohort.server.health.Readiness;
import io.cohort.server.metrics.NodeMetrics;
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
  private final Readiness readiness;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final CountDownLatch terminated = new CountDownLatch(1);

  private CohortServer(ServerConfig config, RaftServer server, CohortStateMachine stateMachine,
      NodeMetrics metrics) {
    this.config = config;
    this.server = server;
    this.stateMachine = stateMachine;
    this.metrics = metrics;
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
    NodeMetrics metrics = config.metrics().enabled() ? new NodeMetrics(config.metrics()) : null;
    CohortStateMachine sm = metrics == null ? new CohortStateMachine(config.stateMachine(), clock)
        : new CohortStateMachine(config.stateMachine(), clock, metrics.events(), metrics.events());
    sm.judgeStallsAfter(config.metrics().stallAfterMs());
    RaftServer server = RaftServer.newBuilder()
        .setServerId(config.id())
        .setGroup(config.group())
        .setStateMachine(sm)
        .setProperties(RatisSettings.forServer(config))
        .setOption(RaftStorage.StartupOption.RECOVER)
        .build();
    try {
      server.start();
    } catch (IOException | RuntimeException e) {
      closeQuietly(server);
      throw e;
    }
    LOG.info("[{}] started on {} with storage {} in group {} of {}", config.id(), config.self().getAddress(),
        config.storageDir(), config.groupId().getUuid(), Peers.of(config.peers()));
    CohortServer node = new CohortServer(config, server, sm, metrics);
    if (metrics != null) {
      try {
        metrics.start(config.id().toString(), config.selfAddress().host(), node::divisionOrNull, sm, node.readiness,
            null);
      } catch (RuntimeException e) {
        node.close();
        throw e;
      }
    }
    return node;
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
    LOG.info("[{}] stopped", config.id());
    terminated.countDown();
  }

  private static void closeQuietly(RaftServer server) {
    try {
      server.close();
    } catch (IOException | RuntimeException e) {
      LOG.warn("closing {}: {}", server.getId(), e.toString());
    }
  }
}
