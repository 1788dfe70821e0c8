package io.cohort.server;

import static org.junit.jupiter.api.Assertions.*;

import com.beust.jcommander.JCommander;
import java.nio.file.Path;
import java.util.Map;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.junit.jupiter.api.Test;

/** Flags to config, config to Ratis properties: Cohort's defaults, then the overrides. */
class ServerConfigTest {
  private static ServerOptions parse(String... args) {
    ServerOptions o = new ServerOptions();
    JCommander.newBuilder().addObject(o).build().parse(args);
    return o;
  }

  @Test
  void flagsBecomeOneConfig() {
    ServerConfig c = parse("--id", "n2", "--storage", "/tmp/x", "--peers", "n1=127.0.0.1:7001,n2=127.0.0.1:7002",
        "--snapshot-every", "500", "--snapshots-retained", "5", "--tick-interval-ms", "100",
        "--ratis", "raft.server.rpc.timeout.min=300ms").toConfig(Map.of());
    assertEquals("n2", c.id().toString());
    assertEquals(Path.of("/tmp/x"), c.storageDir());
    assertEquals("127.0.0.1:7002", c.self().getAddress());
    assertEquals(500, c.stateMachine().autoSnapshotEveryEntries());
    assertEquals(100, c.stateMachine().tickIntervalMs());
    assertEquals(5, c.snapshotsRetained());
    assertEquals(Map.of("raft.server.rpc.timeout.min", "300ms"), c.ratis());
    assertEquals(io.cohort.client.CohortGroup.ID, c.group().getGroupId());
  }

  @Test
  void peersComeFromTheFlagThenTheEnvironmentThenTheLocalDefault() {
    ServerOptions o = parse("--id", "n1", "--storage", "d");
    assertEquals(io.cohort.client.Peers.LOCAL, o.peersOrDefault(Map.of()));
    assertEquals("n1=h:1", o.peersOrDefault(Map.of("COHORT_PEERS", "n1=h:1")));
    o.peers = "n1=h:2";
    assertEquals("n1=h:2", o.peersOrDefault(Map.of("COHORT_PEERS", "n1=h:1")));
  }

  @Test
  void ratisGetsCohortDefaultsAndOverridesWin() {
    ServerConfig c = ServerConfig.of("n1", Path.of("/tmp/s"), "n1=127.0.0.1:7001");
    RaftProperties p = RatisSettings.forServer(c);
    assertEquals(600, RaftServerConfigKeys.Rpc.timeoutMin(p).toLong(java.util.concurrent.TimeUnit.MILLISECONDS));
    assertEquals(1200, RaftServerConfigKeys.Rpc.timeoutMax(p).toLong(java.util.concurrent.TimeUnit.MILLISECONDS));
    assertEquals(RaftServerConfigKeys.Read.Option.LINEARIZABLE, RaftServerConfigKeys.Read.option(p));
    assertTrue(RaftServerConfigKeys.Log.purgeUptoSnapshotIndex(p));
    assertTrue(RaftServerConfigKeys.Snapshot.autoTriggerEnabled(p));
    assertEquals(100_000, RaftServerConfigKeys.Snapshot.autoTriggerThreshold(p));
    assertEquals(3, RaftServerConfigKeys.Snapshot.retentionFileNum(p));
    assertEquals(512, RaftServerConfigKeys.Log.forceSyncNum(p));
    assertEquals("127.0.0.1", p.get("raft.grpc.server.host"));
    assertEquals(RatisSettings.APPENDER_RETRY_POLICY, RaftServerConfigKeys.Log.Appender.retryPolicy(p));

    RaftProperties o = RatisSettings.forServer(c.withRatis(Map.of("raft.server.rpc.timeout.min", "300ms")));
    assertEquals(300, RaftServerConfigKeys.Rpc.timeoutMin(o).toLong(java.util.concurrent.TimeUnit.MILLISECONDS));
  }

  @Test
  void snapshotEveryZeroMeansOnlyExplicitSnapshots() {
    ServerConfig c = parse("--id", "n1", "--storage", "d", "--peers", "n1=h:1", "--snapshot-every", "0")
        .toConfig(Map.of());
    assertFalse(RaftServerConfigKeys.Snapshot.autoTriggerEnabled(RatisSettings.forServer(c)));
    assertThrows(ConfigException.class, () -> parse("--id", "n1", "--storage", "d", "--peers", "n1=h:1",
        "--snapshot-every", "-1").toConfig(Map.of()));
  }
}
