package io.cohort.server;

import com.beust.jcommander.DynamicParameter;
import com.beust.jcommander.Parameter;
import com.beust.jcommander.Parameters;
import io.cohort.client.CohortGroup;
import io.cohort.client.Peers;
import io.cohort.statemachine.Limits;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.ratis.protocol.RaftPeerId;

/** {@code cohort server --id n1 --storage DIR [--peers ...]}: JCommander options, turned into a {@link ServerConfig}. */
@Parameters(commandNames = "server", commandDescription = "Run one Cohort node in the foreground")
public final class ServerOptions {
  @Parameter(names = "--id", required = true, description = "This node's id, one of --peers")
  public String id;

  @Parameter(names = "--storage", required = true, description = "Directory for the Raft log and snapshots")
  public Path storage;

  @Parameter(names = "--peers", description = "Every node as id=host:port,... (default: $COHORT_PEERS or the local cluster)")
  public String peers;

  @Parameter(names = "--snapshot-every", description = "Take a snapshot every N applied entries (0 = only when asked)")
  public long snapshotEvery = CohortStateMachine.Settings.DEFAULTS.autoSnapshotEveryEntries();

  @Parameter(names = "--snapshots-retained", description = "Snapshot files kept per node")
  public int snapshotsRetained = ServerConfig.DEFAULT_SNAPSHOTS_RETAINED;

  @Parameter(names = "--tick-interval-ms", description = "Interval of the leader's expiry ticks (R7)")
  public long tickIntervalMs = CohortStateMachine.Settings.DEFAULTS.tickIntervalMs();

  @DynamicParameter(names = "--ratis", description = "A Ratis property, e.g. --ratis raft.server.rpc.timeout.min=300ms (repeatable)")
  public Map<String, String> ratis = new LinkedHashMap<>();

  @Parameter(names = {"--help", "-h"}, help = true, description = "Show this help")
  public boolean help;

  /** Peers from the flag, else {@code COHORT_PEERS}, else the local default. */
  public String peersOrDefault(Map<String, String> env) {
    return Peers.specOrDefault(peers, env);
  }

  public ServerConfig toConfig(Map<String, String> env) {
    if (snapshotEvery < 0) {
      throw new ConfigException("--snapshot-every must be 0 or more: " + snapshotEvery);
    }
    if (tickIntervalMs <= 0) {
      throw new ConfigException("--tick-interval-ms must be positive: " + tickIntervalMs);
    }
    CohortStateMachine.Settings settings = new CohortStateMachine.Settings(Limits.DEFAULTS, tickIntervalMs,
        snapshotEvery, CohortStateMachine.Settings.DEFAULTS.explicitSnapshotWaitMs());
    return new ServerConfig(RaftPeerId.valueOf(id), storage, ServerConfig.parsePeers(peersOrDefault(env)),
        CohortGroup.ID, settings, snapshotsRetained, ratis);
  }
}
