package io.cohort.server;

import com.beust.jcommander.DynamicParameter;
import com.beust.jcommander.Parameter;
import com.beust.jcommander.Parameters;
import io.cohort.client.CohortGroup;
import io.cohort.client.Peers;
import io.cohort.statemachine.proto.LimitsRecord;
import io.cohort.server.metrics.MetricsSettings;
import java.nio.file.Path;
import io.cohort.client.tls.TlsFiles;
import io.cohort.statemachine.Principals;
import java.util.ArrayList;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;

/**
 * {@code cohort server --id n1 --storage DIR [--peers ...] [--config FILE]}: JCommander options,
 * turned into a {@link ServerConfig}. Nothing is required at parse time (a config file may name id
 * and storage), so {@code --help} always parses; {@link #toConfig} checks what is missing. Each
 * flag overrides the same key of the file.
 */
@Parameters(commandNames = "server", commandDescription = "Run one Cohort node in the foreground")
public final class ServerOptions {
  @Parameter(names = "--config", description = "A properties file with any of these settings (flags override it)")
  public Path config;

  @Parameter(names = "--id", description = "This node's id, one of --peers (required, here or in --config)")
  public String id;

  @Parameter(names = "--storage", description = "Directory for the Raft log and snapshots (required, here or in --config)")
  public Path storage;

  @Parameter(names = "--peers", description = "Every node as id=host:port,... (default: $COHORT_PEERS or the local cluster)")
  public String peers;

  @Parameter(names = "--snapshot-every", description = "Take a snapshot every N applied entries (0 = only when asked; default "
      + CohortStateMachine.Settings.DEFAULT_AUTO_SNAPSHOT_EVERY + "); the k-th node of --peers by id waits "
      + "N x (1 + " + RatisSettings.SNAPSHOT_STAGGER + " k), so the nodes do not all write at once")
  public Long snapshotEvery;

  @Parameter(names = "--warmup-ms", description = "Before the node starts, run the write and snapshot paths on a "
      + "throwaway state for up to this long, so the JIT has them before requests arrive (0 = off)")
  public long warmupMs = StartupWarmup.DEFAULT_BUDGET_MS;

  @Parameter(names = "--snapshots-retained", description = "Snapshot files kept per node (default "
      + ServerConfig.DEFAULT_SNAPSHOTS_RETAINED + ")")
  public Integer snapshotsRetained;

  @Parameter(names = "--tick-interval-ms", description = "Interval of the leader's expiry ticks, R7 (default "
      + CohortStateMachine.Settings.DEFAULT_TICK_INTERVAL_MS + ")")
  public Long tickIntervalMs;

  @Parameter(names = "--bootstrap", description = "First start of the initial members: a missing storage is formatted "
      + "with --peers as the first configuration (without it or --join, a node refuses to start without its storage)")
  public boolean bootstrap;

  @Parameter(names = "--join", description = "A new, empty node waiting to be added with `cohort cluster add|replace`: "
      + "it cannot vote until the leader's log names it (--peers needs only this node's own id=host:port)")
  public boolean join;

  @Parameter(names = "--http-port", description = "Port of /metrics, /livez and /readyz on the node's host (default: the Raft port + "
      + MetricsSettings.DEFAULT_PORT_OFFSET + "; 0 = off)")
  public Integer httpPort;

  @Parameter(names = "--ready-max-lag-entries", description = "/readyz fails while the applied index is more than this behind the leader's commit (default "
      + MetricsSettings.DEFAULT_READY_MAX_LAG_ENTRIES + ")")
  public Long readyMaxLagEntries;

  @Parameter(names = "--stall-after-ms", description = "A held partition with lag whose holder heartbeats but has not committed for this long is stalled (default "
      + MetricsSettings.DEFAULT_STALL_AFTER_MS + ")")
  public Long stallAfterMs;

  @Parameter(names = "--metrics-max-series", description = "At most this many per-partition series per metric (default "
      + MetricsSettings.DEFAULT_MAX_SERIES_PER_METRIC + ")")
  public Integer metricsMaxSeries;

  @Parameter(names = "--tls-cert", description = "This node's certificate (PEM): CN = its id, serverAuth, its address as a SAN (cohort certs create --node)")
  public Path tlsCert;

  @Parameter(names = "--tls-key", description = "The certificate's private key (PKCS#8 PEM)")
  public Path tlsKey;

  @Parameter(names = "--tls-ca", description = "The cluster CA (PEM): peers and clients must present a certificate it signed")
  public Path tlsCa;

  @Parameter(names = "--insecure", description = "Plaintext, no authentication: every caller is the admin 'anonymous' (also COHORT_INSECURE=1)")
  public boolean insecure;

  @Parameter(names = "--admin", description = "A principal (certificate CN) the first leader makes admin (repeatable; default: admin); later ACL changes go through `cohort acl`")
  public List<String> admins = new ArrayList<>();

  @DynamicParameter(names = "--limit", description = "A bootstrap limit the first leader sets, e.g. --limit max_slots=500000 (repeatable; R9)")
  public Map<String, String> limits = new LinkedHashMap<>();

  @DynamicParameter(names = "--ratis", description = "A Ratis property, e.g. --ratis raft.server.rpc.timeout.max=800ms (repeatable)")
  public Map<String, String> ratis = new LinkedHashMap<>();

  @Parameter(names = {"--help", "-h"}, help = true, description = "Show this help")
  public boolean help;

  /**
   * What a missing storage means ({@link StartMode}). Flags only, never in the config file: a
   * file that always says "bootstrap" would format a node whose disk was lost.
   */
  public StartMode startMode() {
    if (bootstrap && join) {
      throw new ConfigException("--bootstrap and --join exclude each other: --bootstrap formats the initial members, "
          + "--join starts a node that is added later");
    }
    return bootstrap ? StartMode.BOOTSTRAP : join ? StartMode.JOIN : StartMode.RECOVER;
  }

  /** Peers from the flag, else {@code COHORT_PEERS}, else the local default. */
  public String peersOrDefault(Map<String, String> env) {
    return Peers.specOrDefault(peers, env);
  }

  /**
   * The flags over the config file (if any) over the defaults. Peers: flag, file, {@code
   * COHORT_PEERS}, the local cluster.
   *
   * @throws ConfigException with a one-line message for the operator
   */
  public ServerConfig toConfig(Map<String, String> env) {
    ServerConfigFile file = config == null ? null : ServerConfigFile.load(config);
    String nodeId = id != null ? id : file != null ? file.string("id") : null;
    Path storageDir = storage != null ? storage : file != null ? file.path("storage") : null;
    if (nodeId == null || nodeId.isBlank()) {
      throw new ConfigException("--id is required (or id= in --config FILE)");
    }
    if (storageDir == null) {
      throw new ConfigException("--storage is required (or storage= in --config FILE)");
    }
    String peerList = peers != null && !peers.isBlank() ? peers
        : file != null && file.string("peers") != null ? file.string("peers") : peersOrDefault(env);
    long every = pick(snapshotEvery, file, "snapshot-every",
        CohortStateMachine.Settings.DEFAULTS.autoSnapshotEveryEntries());
    long retained = pick(snapshotsRetained == null ? null : snapshotsRetained.longValue(), file,
        "snapshots-retained", ServerConfig.DEFAULT_SNAPSHOTS_RETAINED);
    long tickMs = pick(tickIntervalMs, file, "tick-interval-ms", CohortStateMachine.Settings.DEFAULTS.tickIntervalMs());
    if (every < 0) {
      throw new ConfigException("--snapshot-every must be 0 or more: " + every);
    }
    if (tickMs <= 0) {
      throw new ConfigException("--tick-interval-ms must be positive: " + tickMs);
    }
    if (retained < 1 || retained > Integer.MAX_VALUE) {
      throw new ConfigException("--snapshots-retained must be at least 1: " + retained);
    }
    Map<String, String> limitValues = new TreeMap<>(file != null ? file.limits() : Map.of());
    limitValues.putAll(limits);
    LimitsRecord bootstrap = BootstrapLimits.parse(limitValues);
    Map<String, String> ratisValues = new TreeMap<>(file != null ? file.ratis() : Map.of());
    ratisValues.putAll(ratis);

    RaftPeerId self = RaftPeerId.valueOf(nodeId.trim());
    List<RaftPeer> peerRecords = ServerConfig.parsePeers(peerList);
    TlsFiles tls = tls(file, env);
    List<String> adminList = admins(file, tls == null);
    CohortStateMachine.Settings settings = new CohortStateMachine.Settings(bootstrap, tickMs, every,
        CohortStateMachine.Settings.DEFAULTS.explicitSnapshotWaitMs(), adminList);
    return new ServerConfig(self, storageDir, peerRecords, CohortGroup.ID, settings, (int) retained, ratisValues,
        metricsSettings(file, peerRecords.stream().filter(p -> p.getId().equals(self)).findFirst()
            .map(p -> ServerConfig.address(p).port()).orElse(0)), tls);
  }

  /** The environment variable that means --insecure (for the server and every CLI command). */
  public static final String INSECURE_ENV = "COHORT_INSECURE";

  /** True when the variable asks for plaintext ("1", "true" or "yes"). */
  public static boolean insecureEnv(Map<String, String> env) {
    String v = env.get(INSECURE_ENV);
    return v != null && (v.equals("1") || v.equalsIgnoreCase("true") || v.equalsIgnoreCase("yes"));
  }

  /**
   * The node's TLS files (flags over the file), or null for an explicit --insecure; neither is a
   * one-line error naming both. A node's identity is never taken from COHORT_TLS_* (those are a
   * CLI user's).
   */
  private TlsFiles tls(ServerConfigFile file, Map<String, String> env) {
    String cert = tlsCert != null ? tlsCert.toString() : file != null ? file.string("tls-cert") : null;
    String key = tlsKey != null ? tlsKey.toString() : file != null ? file.string("tls-key") : null;
    String ca = tlsCa != null ? tlsCa.toString() : file != null ? file.string("tls-ca") : null;
    Boolean fileInsecure = file != null ? file.bool("insecure") : null;
    boolean plain = insecure || Boolean.TRUE.equals(fileInsecure) || insecureEnv(env);
    TlsFiles files;
    try {
      files = TlsFiles.ofOptional(cert, key, ca, "--tls-cert", "--tls-key", "--tls-ca");
    } catch (IllegalArgumentException e) {
      throw new ConfigException(e.getMessage());
    }
    if (files != null && plain) {
      throw new ConfigException("--insecure (or " + INSECURE_ENV + "=1, insecure=true) and --tls-* exclude each other");
    }
    if (files == null && !plain) {
      throw new ConfigException("no TLS: give --tls-cert, --tls-key and --tls-ca (or tls-* in --config; "
          + "`cohort certs create` makes them), or --insecure (" + INSECURE_ENV + "=1) for plaintext");
    }
    return files;
  }

  /** --admin over admins= over "admin"; an insecure node adds "anonymous", every caller's principal there. */
  private List<String> admins(ServerConfigFile file, boolean plain) {
    List<String> out = new ArrayList<>(admins);
    if (out.isEmpty() && file != null && file.string("admins") != null) {
      for (String a : file.string("admins").split(",")) {
        if (!a.isBlank()) {
          out.add(a.trim());
        }
      }
    }
    if (out.isEmpty()) {
      out.add(DEFAULT_ADMIN);
    }
    for (String a : out) {
      String problem = Principals.problem(a);
      if (problem != null) {
        throw new ConfigException("--admin: " + problem);
      }
    }
    if (plain && !out.contains(Principals.ANONYMOUS)) {
      out.add(Principals.ANONYMOUS);
    }
    return List.copyOf(new java.util.LinkedHashSet<>(out));
  }

  /** The bootstrap admin when none is named: the CN `cohort certs create` gives the admin certificate. */
  public static final String DEFAULT_ADMIN = "admin";

  /** The endpoint's flags over the file over the defaults (port: the Raft port + 1000). */
  private MetricsSettings metricsSettings(ServerConfigFile file, int raftPort) {
    long port = pick(httpPort == null ? null : httpPort.longValue(), file, "http-port",
        raftPort + MetricsSettings.DEFAULT_PORT_OFFSET);
    long maxLag = pick(readyMaxLagEntries, file, "ready-max-lag-entries", MetricsSettings.DEFAULT_READY_MAX_LAG_ENTRIES);
    long stallMs = pick(stallAfterMs, file, "stall-after-ms", MetricsSettings.DEFAULT_STALL_AFTER_MS);
    long maxSeries = pick(metricsMaxSeries == null ? null : metricsMaxSeries.longValue(), file, "metrics-max-series",
        MetricsSettings.DEFAULT_MAX_SERIES_PER_METRIC);
    if (port < 0 || port > 65535) {
      throw new ConfigException("--http-port must be in 0..65535 (0 = off): " + port);
    }
    if (maxSeries < 0 || maxSeries > Integer.MAX_VALUE) {
      throw new ConfigException("--metrics-max-series must be 0 or more: " + maxSeries);
    }
    try {
      return new MetricsSettings((int) port, maxLag, stallMs, (int) maxSeries);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(e.getMessage());
    }
  }

  private static long pick(Long flag, ServerConfigFile file, String key, long dflt) {
    if (flag != null) {
      return flag;
    }
    Long fromFile = file == null ? null : file.number(key);
    return fromFile != null ? fromFile : dflt;
  }
}
