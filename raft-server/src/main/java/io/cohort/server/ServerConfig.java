package io.cohort.server;

import io.cohort.client.CohortGroup;
import io.cohort.client.Peers;
import io.cohort.client.tls.TlsFiles;
import io.cohort.server.metrics.MetricsSettings;
import io.cohort.statemachine.Principals;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;

/**
 * One node's configuration, parsed once and passed down.
 *
 * @param id this node's peer id, one of {@code peers}
 * @param storageDir Raft log and snapshots ({@code <dir>/<group uuid>/{current,sm}})
 * @param peers every voting member, this node included
 * @param groupId the Raft group ({@link CohortGroup#ID} unless a test wants another)
 * @param stateMachine tick interval, bootstrap limits, automatic snapshot interval
 * @param snapshotsRetained snapshot files kept (older ones are deleted), at least 1
 * @param ratis Ratis properties set after Cohort's defaults (key to value)
 * @param metrics the HTTP endpoint (/metrics, /livez, /readyz) and its thresholds (step 9)
 * @param tls the node's certificate, key and cluster CA for mutual TLS on every channel (R11);
 *     null for a node started {@code --insecure}
 */
public record ServerConfig(RaftPeerId id, Path storageDir, List<RaftPeer> peers, RaftGroupId groupId,
    CohortStateMachine.Settings stateMachine, int snapshotsRetained, Map<String, String> ratis,
    MetricsSettings metrics, TlsFiles tls) {

  public static final int DEFAULT_SNAPSHOTS_RETAINED = 3;

  public ServerConfig {
    peers = List.copyOf(peers);
    ratis = Map.copyOf(new TreeMap<>(ratis));
    if (peers.stream().noneMatch(p -> p.getId().equals(id))) {
      throw new ConfigException("--id " + id + " is not in the peers list " + Peers.of(peers));
    }
    if (snapshotsRetained < 1) {
      throw new ConfigException("snapshots retained must be at least 1: " + snapshotsRetained);
    }
    for (String key : ratis.keySet()) {
      if (!RatisSettings.KNOWN_KEYS.contains(key)) {
        throw new ConfigException("unknown Ratis property '" + key + "'");
      }
    }
    if (Boolean.parseBoolean(ratis.getOrDefault(RatisSettings.COMPOSED_APPENDS_KEY, "false").trim())) {
      throw new ConfigException(RatisSettings.COMPOSED_APPENDS_KEY + "=true is refused: with it a follower can"
          + " acknowledge entries it never wrote (docs/RATIS-NOTES.md H)");
    }
    if (metrics.enabled() && metrics.httpPort() == address(self(id, peers)).port()) {
      throw new ConfigException("--http-port " + metrics.httpPort() + " is the node's Raft port: choose another");
    }
    var bootstrap = stateMachine.bootstrapLimits();
    int maxCommandBytes = RatisSettings.maxCommandBytes(ratis);
    if (bootstrap.hasMaxCommandBytes() && bootstrap.getMaxCommandBytes() > maxCommandBytes) {
      throw new ConfigException("limit max_command_bytes must be at most " + maxCommandBytes
          + " (what a Raft log entry holds: raft.server.log.appender.buffer.byte-limit minus "
          + RatisSettings.ENTRY_OVERHEAD_BYTES + "): " + bootstrap.getMaxCommandBytes());
    }
  }

  /**
   * A plaintext node ({@code --insecure}: every caller is the admin {@code anonymous}) with Cohort's
   * defaults and no HTTP endpoint; {@link #withTls} makes it a secure one, {@link #withMetrics}
   * adds the endpoint (the CLI's default is on).
   */
  public static ServerConfig insecure(String id, Path storageDir, String peers) {
    return new ServerConfig(RaftPeerId.valueOf(id), storageDir, parsePeers(peers), CohortGroup.ID,
        CohortStateMachine.Settings.DEFAULTS.withBootstrapAdmins(List.of(Principals.ANONYMOUS)),
        DEFAULT_SNAPSHOTS_RETAINED, Map.of(), MetricsSettings.OFF, null);
  }

  /** True for a node started {@code --insecure} (plaintext, every caller {@code anonymous}). */
  public boolean isInsecure() {
    return tls == null;
  }

  /** Parses {@code id=host:port,...} with the client's parser; a bad list is a {@link ConfigException}. */
  public static List<RaftPeer> parsePeers(String spec) {
    try {
      return Peers.parse(spec).toRaftPeers();
    } catch (IllegalArgumentException e) {
      throw new ConfigException(e.getMessage());
    }
  }

  public RaftPeer self() {
    return self(id, peers);
  }

  /** This node's host and port. */
  public Peers.Peer selfAddress() {
    return address(self());
  }

  static Peers.Peer address(RaftPeer peer) {
    return Peers.of(List.of(peer)).list().get(0);
  }

  private static RaftPeer self(RaftPeerId id, List<RaftPeer> peers) {
    return peers.stream().filter(p -> p.getId().equals(id)).findFirst().orElseThrow();
  }

  public RaftGroup group() {
    return RaftGroup.valueOf(groupId, peers);
  }

  public ServerConfig withStateMachine(CohortStateMachine.Settings settings) {
    return new ServerConfig(id, storageDir, peers, groupId, settings, snapshotsRetained, ratis, metrics, tls);
  }

  public ServerConfig withSnapshotsRetained(int n) {
    return new ServerConfig(id, storageDir, peers, groupId, stateMachine, n, ratis, metrics, tls);
  }

  public ServerConfig withRatis(Map<String, String> overrides) {
    Map<String, String> merged = new TreeMap<>(ratis);
    merged.putAll(overrides);
    return new ServerConfig(id, storageDir, peers, groupId, stateMachine, snapshotsRetained, merged, metrics, tls);
  }

  public ServerConfig withMetrics(MetricsSettings settings) {
    return new ServerConfig(id, storageDir, peers, groupId, stateMachine, snapshotsRetained, ratis, settings, tls);
  }

  public ServerConfig withGroupId(RaftGroupId gid) {
    return new ServerConfig(id, storageDir, peers, gid, stateMachine, snapshotsRetained, ratis, metrics, tls);
  }

  /** Mutual TLS with these files; the bootstrap admins become {@code admins} (R11). */
  public ServerConfig withTls(TlsFiles files, List<String> admins) {
    return new ServerConfig(id, storageDir, peers, groupId, stateMachine.withBootstrapAdmins(admins),
        snapshotsRetained, ratis, metrics, files);
  }
}
