package io.cohort.server.testing;

import static org.awaitility.Awaitility.await;

import io.cohort.client.Peers;
import io.cohort.server.CohortServer;
import io.cohort.server.CohortStateMachine;
import io.cohort.server.FreePorts;
import io.cohort.server.ServerConfig;
import io.cohort.server.StartMode;
import io.cohort.server.metrics.MetricsSettings;
import io.cohort.statemachine.proto.DigestView;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import org.apache.ratis.RaftConfigKeys;
import org.apache.ratis.client.RaftClient;
import io.cohort.client.tls.ClientTls;
import io.cohort.client.tls.TlsFiles;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.retry.RetryPolicy;
import org.apache.ratis.rpc.SupportedRpcType;
import org.apache.ratis.util.TimeDuration;

/**
 * A Cohort cluster of real Ratis servers (gRPC on free loopback ports) inside the test JVM, each
 * node with its own storage dir under the given temp dir. Secure by default, as a real cluster:
 * mutual TLS with a CA made for this cluster (EC P-256, under {@code tempDir/tls}), node
 * certificates for 127.0.0.1, and the bootstrap admin {@link #ADMIN}, whose certificate the
 * cluster's clients use; {@link Builder#insecure()} for tests that need plaintext.
 *
 * <pre>{@code
 * try (MiniCluster cluster = MiniCluster.start(3, tempDir)) {
 *   String leader = cluster.leaderId();          // waits for a ready leader
 *   try (TestClient c = cluster.client()) { c.write(command); }
 *   cluster.kill(leader);
 *   cluster.restart(leader);
 *   cluster.awaitSameDigest();                   // replicas byte-identical
 * }
 * }</pre>
 */
public final class MiniCluster implements AutoCloseable {
  /** Generous: first Ratis requests are slow on 2 cores. */
  public static final Duration TIMEOUT = Duration.ofSeconds(60);

  /** The principal of the certificate {@link #client()} and {@link #newRaftClient()} use: the bootstrap admin. */
  public static final String ADMIN = "admin";

  private final Map<String, ServerConfig> configs;
  private final TestCerts certs; // null: insecure
  /** A node that stopped itself ({@link FailStop}): the exit code and line its process would have printed. */
  public record Stopped(String id, int exitCode, String line) {}

  private final Map<String, StartMode> modes = new TreeMap<>();
  private final List<Stopped> stopped = new java.util.concurrent.CopyOnWriteArrayList<>();
  private volatile boolean keepFailedNodes;
  private final Map<String, SteppableClock> clocks = new TreeMap<>();
  private final Map<String, CohortServer> servers = new TreeMap<>();
  private final List<RaftClient> clients = new ArrayList<>();

  static {
    // Ratis exits the JVM when a server cannot start (a port taken); in a test that is one failure,
    // not a crashed fork that takes every test after it along
    org.apache.ratis.util.ExitUtils.disableSystemExit();
  }

  private MiniCluster(Map<String, ServerConfig> configs, TestCerts certs) {
    this.configs = configs;
    this.certs = certs;
    configs.keySet().forEach(id -> clocks.put(id, new SteppableClock()));
    configs.keySet().forEach(id -> modes.put(id, StartMode.BOOTSTRAP)); // the initial members
  }

  /** Starts {@code nodes} nodes (n1, n2, ...) with Cohort's default settings. */
  public static MiniCluster start(int nodes, Path tempDir) throws IOException {
    return builder(nodes, tempDir).start();
  }

  public static Builder builder(int nodes, Path tempDir) {
    return new Builder(nodes, tempDir);
  }

  /** Options for tests that need small snapshot intervals, short ticks or Ratis overrides. */
  public static final class Builder {
    private final int nodes;
    private final Path tempDir;
    private CohortStateMachine.Settings settings = CohortStateMachine.Settings.DEFAULTS;
    private int snapshotsRetained = ServerConfig.DEFAULT_SNAPSHOTS_RETAINED;
    private final Map<String, String> ratis = new TreeMap<>();
    private MetricsSettings metrics; // null: no HTTP endpoint
    private boolean insecure;
    private final List<String> admins = new ArrayList<>(List.of(ADMIN));
    private boolean keepFailedNodes;

    private Builder(int nodes, Path tempDir) {
      if (nodes < 1) {
        throw new IllegalArgumentException("nodes must be at least 1");
      }
      this.nodes = nodes;
      this.tempDir = tempDir;
    }

    /** Automatic snapshot every {@code entries} applied entries (0 = only explicit snapshots). */
    public Builder autoSnapshotEvery(long entries) {
      settings = settings.withAutoSnapshotEveryEntries(entries);
      return this;
    }

    public Builder tickIntervalMs(long ms) {
      settings = settings.withTickIntervalMs(ms);
      return this;
    }

    /** Limits the first leader sets (R9), e.g. {@code LimitsRecord.newBuilder().setMaxSlots(500)}. */
    public Builder bootstrapLimits(io.cohort.statemachine.proto.LimitsRecord limits) {
      settings = settings.withBootstrapLimits(limits);
      return this;
    }

    public Builder snapshotsRetained(int n) {
      snapshotsRetained = n;
      return this;
    }

    /** A Ratis property set on every node after Cohort's defaults. */
    public Builder ratis(String key, String value) {
      ratis.put(key, value);
      return this;
    }

    /**
     * Each node serves /metrics, /livez and /readyz on its own free loopback port ({@link #httpUri}),
     * with these thresholds.
     */
    public Builder httpEndpoint(MetricsSettings settings) {
      metrics = settings;
      return this;
    }

    /** Plaintext: every caller is the admin 'anonymous' (only tests that need it). */
    public Builder insecure() {
      insecure = true;
      return this;
    }

    /** Another bootstrap admin besides {@link #ADMIN}. */
    public Builder admin(String principal) {
      admins.add(principal);
      return this;
    }

    /**
     * A node that decides to stop itself ({@link #stopped()}) keeps running, as a node would whose
     * fail-stop is late: to look at what it shows meanwhile (/readyz, metrics). By default it stops.
     */
    public Builder keepFailedNodesRunning() {
      keepFailedNodes = true;
      return this;
    }

    public MiniCluster start() throws IOException {
      List<Integer> ports = freePorts(metrics != null ? 2 * nodes : nodes);
      StringBuilder peers = new StringBuilder();
      for (int i = 0; i < nodes; i++) {
        peers.append(i == 0 ? "" : ",").append("n").append(i + 1).append("=127.0.0.1:").append(ports.get(i));
      }
      TestCerts certs = insecure ? null : TestCerts.create(tempDir.resolve("tls"));
      Map<String, ServerConfig> configs = new LinkedHashMap<>();
      for (int i = 1; i <= nodes; i++) {
        String id = "n" + i;
        MetricsSettings m = metrics != null ? metrics.withHttpPort(ports.get(nodes + i - 1)) : MetricsSettings.OFF;
        ServerConfig c = ServerConfig.insecure(id, tempDir.resolve(id), peers.toString())
            .withStateMachine(settings.withBootstrapAdmins(insecure ? List.of(io.cohort.statemachine.Principals.ANONYMOUS)
                : admins))
            .withSnapshotsRetained(snapshotsRetained).withRatis(ratis).withMetrics(m);
        configs.put(id, certs == null ? c : c.withTls(certs.node(id), admins));
      }
      MiniCluster cluster = new MiniCluster(configs, certs);
      cluster.keepFailedNodes = keepFailedNodes;
      try {
        for (String id : configs.keySet()) {
          cluster.restart(id);
        }
      } catch (RuntimeException e) {
        cluster.close();
        throw e;
      }
      return cluster;
    }
  }

  /** {@code n1=127.0.0.1:port,...} of every node this cluster knows, as {@code --peers} takes it. */
  public synchronized String peers() {
    return Peers.of(group().getPeers().stream().toList()).toString();
  }

  /** A group of every node this cluster knows (clients follow the leader's configuration from there). */
  public synchronized RaftGroup group() {
    ServerConfig any = configs.values().iterator().next();
    return RaftGroup.valueOf(any.groupId(), configs.values().stream().map(ServerConfig::self).toList());
  }

  /** The address of a node, {@code 127.0.0.1:port}. */
  public String address(String id) {
    return config(id).self().getAddress();
  }

  /**
   * Starts a new, empty node with {@code --join} on a free port (it waits to be added with a
   * configuration change) and returns its address.
   */
  public String addNode(String id) {
    return addNode(id, "127.0.0.1:" + freePorts(1).get(0));
  }

  /**
   * {@link #addNode(String)} at a given address, e.g. the one a removed node had: Ratis' peers
   * remember an id's address, so a node added back under its old id must keep its old address.
   */
  public String addNode(String id, String address) {
    synchronized (this) {
      if (configs.containsKey(id)) {
        throw new IllegalArgumentException("node " + id + " exists");
      }
      ServerConfig any = configs.values().iterator().next();
      String peer = id + "=" + address;
      ServerConfig c = new ServerConfig(org.apache.ratis.protocol.RaftPeerId.valueOf(id),
          any.storageDir().resolveSibling(id), ServerConfig.parsePeers(peer), any.groupId(), any.stateMachine(),
          any.snapshotsRetained(), any.ratis(),
          any.metrics().enabled() ? any.metrics().withHttpPort(freePorts(1).get(0)) : MetricsSettings.OFF,
          certs == null ? null : certs.node(id));
      configs.put(id, c);
      modes.put(id, StartMode.JOIN);
      clocks.put(id, new SteppableClock());
    }
    restart(id);
    return address(id);
  }

  /** How a stopped node starts next time (e.g. RECOVER after its storage was wiped, to see it refuse). */
  public synchronized void startMode(String id, StartMode mode) {
    config(id);
    modes.put(id, mode);
  }

  /** Deletes a stopped node's storage. */
  public void wipe(String id) throws IOException {
    synchronized (this) {
      if (servers.containsKey(id)) {
        throw new IllegalStateException("node " + id + " is running: kill it first");
      }
    }
    Path dir = storageDir(id);
    if (java.nio.file.Files.exists(dir)) {
      try (var walk = java.nio.file.Files.walk(dir)) {
        for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
          java.nio.file.Files.delete(p);
        }
      }
    }
  }

  /** Stops a node and forgets it (after it was removed from the configuration). */
  public void forget(String id) {
    kill(id);
    synchronized (this) {
      configs.remove(id);
      modes.remove(id);
    }
  }

  /** The nodes that stopped themselves so far, in order. */
  public List<Stopped> stopped() {
    return List.copyOf(stopped);
  }

  public List<String> ids() {
    return List.copyOf(configs.keySet());
  }

  public synchronized ServerConfig config(String id) {
    return require(configs.get(id), id);
  }

  /** Changes a stopped node's configuration for its next {@link #restart}. */
  public synchronized void reconfigure(String id, java.util.function.UnaryOperator<ServerConfig> change) {
    if (servers.containsKey(id)) {
      throw new IllegalStateException("node " + id + " is running: kill it first");
    }
    configs.put(id, change.apply(config(id)));
  }

  /**
   * {@code https://127.0.0.1:PORT} of the node's HTTP endpoint ({@link Builder#httpEndpoint}), or
   * {@code http://} on an insecure cluster. {@code Scrape} trusts this cluster's CA for it.
   */
  public java.net.URI httpUri(String id) {
    int port = config(id).metrics().httpPort();
    if (port == 0) {
      throw new IllegalStateException("node " + id + " has no HTTP endpoint: build the cluster with httpEndpoint(...)");
    }
    java.net.URI uri = java.net.URI.create((certs == null ? "http" : "https") + "://127.0.0.1:" + port);
    if (certs != null) {
      io.cohort.server.metrics.Scrape.trust(uri, certs.caFile());
    }
    return uri;
  }

  /** The node's clocks: step its wall clock to test R6 (it keeps them across restarts). */
  public SteppableClock clock(String id) {
    return require(clocks.get(id), id);
  }

  public Path storageDir(String id) {
    return config(id).storageDir();
  }

  /** Waits (up to {@link #TIMEOUT}) for a running node that leads and accepts writes. */
  public String leaderId() {
    return await("a ready leader").atMost(TIMEOUT).pollInterval(Duration.ofMillis(50))
        .until(this::readyLeader, Optional::isPresent).orElseThrow();
  }

  private synchronized Optional<String> readyLeader() {
    return servers.entrySet().stream().filter(e -> e.getValue().isLeaderReady()).map(Map.Entry::getKey)
        .findFirst();
  }

  /** The running node, or an exception if it is stopped. */
  public synchronized CohortServer server(String id) {
    CohortServer s = servers.get(id);
    if (s == null) {
      throw new IllegalStateException("node " + id + " is not running");
    }
    return s;
  }

  public synchronized boolean isRunning(String id) {
    return servers.containsKey(id);
  }

  public synchronized List<String> running() {
    return List.copyOf(servers.keySet());
  }

  /** Stops a node (closes its Ratis server; its storage stays for {@link #restart}). */
  public void kill(String id) {
    CohortServer s;
    synchronized (this) {
      s = servers.remove(id);
    }
    if (s != null) {
      s.close();
    }
  }

  /**
   * Starts a stopped node again on the same port and storage (it recovers snapshot + log).
   *
   * @throws UncheckedIOException if the node cannot start
   */
  public void restart(String id) {
    ServerConfig config = config(id);
    synchronized (this) {
      if (servers.containsKey(id)) {
        throw new IllegalStateException("node " + id + " is running");
      }
    }
    StartMode mode;
    synchronized (this) {
      mode = modes.get(id);
    }
    CohortServer s;
    try {
      s = CohortServer.start(config, mode, clock(id), (code, line) -> {
        stopped.add(new Stopped(id, code, line));
        if (!keepFailedNodes) {
          kill(id); // as the process would: exit
        }
      });
    } catch (IOException e) {
      throw new UncheckedIOException("node " + id + " cannot start: " + e.getMessage(), e);
    }
    synchronized (this) {
      servers.put(id, s);
    }
    if (s.failStopped() && !keepFailedNodes) { // it stopped itself before it was registered
      kill(id);
    }
  }

  /** The node's state digest, read directly from its state machine. */
  public DigestView digest(String id) {
    return server(id).stateMachine().digest();
  }

  /** Waits until every running node holds the same state (same digest, same applied index). */
  public DigestView awaitSameDigest() {
    return awaitSameDigest(TIMEOUT);
  }

  public DigestView awaitSameDigest(Duration timeout) {
    return await("same digest on " + running()).atMost(timeout).pollInterval(Duration.ofMillis(100))
        .until(this::commonDigest, Optional::isPresent).orElseThrow();
  }

  private Optional<DigestView> commonDigest() {
    List<String> ids = running();
    DigestView first = digest(ids.get(0));
    for (String id : ids) {
      if (!digest(id).equals(first)) {
        return Optional.empty();
      }
    }
    return Optional.of(first);
  }

  /** Client properties: gRPC and a retry policy that gives up (Ratis' default retries forever). */
  public static RaftProperties clientProperties() {
    RaftProperties p = new RaftProperties();
    RaftConfigKeys.Rpc.setType(p, SupportedRpcType.GRPC);
    RaftClientConfigKeys.Rpc.setRequestTimeout(p, TimeDuration.valueOf(3, java.util.concurrent.TimeUnit.SECONDS));
    return p;
  }

  /** About 30 s of retries, 100 ms apart, then the call fails. */
  public static RetryPolicy boundedRetry() {
    return RetryPolicies.retryUpToMaximumCountWithFixedSleep(300,
        TimeDuration.valueOf(100, java.util.concurrent.TimeUnit.MILLISECONDS));
  }

  /** The cluster's certificates, or null when it runs insecure. */
  public TestCerts certs() {
    return certs;
  }

  public boolean isSecure() {
    return certs != null;
  }

  /** The admin's TLS files (null on an insecure cluster): what clients of this cluster use by default. */
  public TlsFiles adminTls() {
    return certs == null ? null : certs.user(ADMIN);
  }

  /** A user certificate of this cluster's CA for {@code principal} (made once). */
  public TlsFiles tls(String principal) {
    if (certs == null) {
      throw new IllegalStateException("this cluster runs insecure: no certificates");
    }
    return certs.user(principal);
  }

  /** Ratis client parameters: the admin's mutual TLS, or nothing on an insecure cluster. */
  public Parameters clientParameters() {
    return clientParameters(adminTls());
  }

  public Parameters clientParameters(TlsFiles tls) {
    return tls == null ? new Parameters() : ClientTls.of(tls, Peers.parse(peers())).parameters();
  }

  /** A new Ratis client of this cluster, as the admin (closed with the cluster). */
  public RaftClient newRaftClient() {
    return newRaftClient(adminTls());
  }

  /** A new Ratis client with these TLS files (null: plaintext), closed with the cluster. */
  public RaftClient newRaftClient(TlsFiles tls) {
    RaftClient c = RaftClient.newBuilder().setProperties(clientProperties()).setRaftGroup(group())
        .setParameters(clientParameters(tls)).setRetryPolicy(boundedRetry()).build();
    synchronized (clients) {
      clients.add(c);
    }
    return c;
  }

  /** A small typed client over {@link #newRaftClient()}, as the admin. */
  public TestClient client() {
    return new TestClient(newRaftClient());
  }

  /** A small typed client as {@code principal} (a user certificate of this cluster's CA). */
  public TestClient client(String principal) {
    return new TestClient(newRaftClient(tls(principal)));
  }

  @Override
  public void close() {
    synchronized (clients) {
      for (RaftClient c : clients) {
        try {
          c.close();
        } catch (IOException ignored) {
          // closing anyway
        }
      }
      clients.clear();
    }
    closeTogether(running().stream().map(id -> (Runnable) () -> kill(id)).toList());
  }

  /**
   * Runs each close on its own thread and waits for all: a Ratis server takes about 2 s to close
   * (its log worker polls its queue once a second), so three one after another cost 6 s, and the
   * survivors would hold elections meanwhile.
   */
  public static void closeTogether(List<Runnable> closes) {
    CompletableFuture.allOf(closes.stream()
        .map(close -> CompletableFuture.runAsync(close, r -> new Thread(r, "mini-cluster-close").start()))
        .toArray(CompletableFuture[]::new)).join();
  }

  private static <T> T require(T value, String id) {
    if (value == null) {
      throw new IllegalArgumentException("no node " + id);
    }
    return value;
  }

  /** Ports for nodes and their HTTP endpoints: see {@link FreePorts}. */
  public static List<Integer> freePorts(int n) {
    return FreePorts.pick(n);
  }
}
