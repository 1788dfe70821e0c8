package io.cohort.server;

import static org.junit.jupiter.api.Assertions.*;

import com.beust.jcommander.JCommander;
import io.cohort.server.metrics.MetricsSettings;
import io.cohort.statemachine.Limits;
import io.cohort.statemachine.proto.LimitsRecord;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Flags to config, config to Ratis properties: Cohort's defaults, then the overrides. */
class ServerConfigTest {
  @TempDir Path dir;

  /** These tests are about the other settings: plaintext, said explicitly (TLS has its own tests below). */
  private static final Map<String, String> INSECURE = Map.of(ServerOptions.INSECURE_ENV, "1");

  private static ServerOptions parse(String... args) {
    ServerOptions o = new ServerOptions();
    JCommander.newBuilder().addObject(o).build().parse(args);
    return o;
  }

  @Test
  void flagsBecomeOneConfig() {
    ServerConfig c = parse("--id", "n2", "--storage", "/tmp/x", "--peers", "n1=127.0.0.1:7001,n2=127.0.0.1:7002",
        "--snapshot-every", "500", "--snapshots-retained", "5", "--tick-interval-ms", "100",
        "--ratis", "raft.server.rpc.timeout.min=300ms").toConfig(INSECURE);
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
    ServerConfig c = ServerConfig.insecure("n1", Path.of("/tmp/s"), "n1=127.0.0.1:7001");
    RaftProperties p = RatisSettings.forServer(c);
    assertEquals(250, RaftServerConfigKeys.Rpc.timeoutMin(p).toLong(java.util.concurrent.TimeUnit.MILLISECONDS));
    assertEquals(400, RaftServerConfigKeys.Rpc.timeoutMax(p).toLong(java.util.concurrent.TimeUnit.MILLISECONDS));
    assertEquals(RaftServerConfigKeys.Read.Option.LINEARIZABLE, RaftServerConfigKeys.Read.option(p));
    assertTrue(RaftServerConfigKeys.Log.purgeUptoSnapshotIndex(p));
    assertTrue(RaftServerConfigKeys.Snapshot.autoTriggerEnabled(p));
    assertEquals(100_000, RaftServerConfigKeys.Snapshot.autoTriggerThreshold(p));
    assertEquals(3, RaftServerConfigKeys.Snapshot.retentionFileNum(p));
    assertEquals(512, RaftServerConfigKeys.Log.forceSyncNum(p));
    assertEquals("127.0.0.1", p.get("raft.grpc.server.host"));
    assertEquals(RatisSettings.APPENDER_RETRY_POLICY, RaftServerConfigKeys.Log.Appender.retryPolicy(p));
    // The leader's connections to its followers on event loops of their own, not gRPC's shared ones
    assertEquals(RatisSettings.PEER_EVENT_LOOPS, org.apache.ratis.grpc.GrpcConfigKeys.Client.workerGroupSize(p));
    assertTrue(RatisSettings.PEER_EVENT_LOOPS > 0);

    RaftProperties o = RatisSettings.forServer(c.withRatis(Map.of("raft.server.rpc.timeout.min", "300ms")));
    assertEquals(300, RaftServerConfigKeys.Rpc.timeoutMin(o).toLong(java.util.concurrent.TimeUnit.MILLISECONDS));
    RaftProperties shared = RatisSettings.forServer(c.withRatis(Map.of("raft.grpc.client.worker-group.size", "0")));
    assertEquals(0, org.apache.ratis.grpc.GrpcConfigKeys.Client.workerGroupSize(shared), "an override still wins");
  }

  @Test
  void nodesStaggerTheirAutomaticSnapshotsByTheirPlaceInThePeersList() {
    String peers = "n3=127.0.0.1:7003,n1=127.0.0.1:7001,n2=127.0.0.1:7002";
    long[] every = new long[3];
    for (int i = 0; i < 3; i++) {
      every[i] = RaftServerConfigKeys.Snapshot.autoTriggerThreshold(
          RatisSettings.forServer(ServerConfig.insecure("n" + (i + 1), Path.of("/tmp/s"), peers)));
    }
    assertArrayEquals(new long[] {100_000, 119_000, 138_000}, every, "by id, not by the order given");
  }

  @Test
  void snapshotEveryZeroMeansOnlyExplicitSnapshots() {
    ServerConfig c = parse("--id", "n1", "--storage", "d", "--peers", "n1=h:1", "--snapshot-every", "0")
        .toConfig(INSECURE);
    assertFalse(RaftServerConfigKeys.Snapshot.autoTriggerEnabled(RatisSettings.forServer(c)));
    assertThrows(ConfigException.class, () -> parse("--id", "n1", "--storage", "d", "--peers", "n1=h:1",
        "--snapshot-every", "-1").toConfig(INSECURE));
  }

  @Test
  void aConfigFileSetsEveryFlagAndFlagsOverrideIt() throws Exception {
    Path file = Files.writeString(dir.resolve("server.properties"), String.join("\n",
        "# a comment",
        "id = n1",
        "storage=/var/lib/cohort/n1",
        "peers=n1=127.0.0.1:7001,n2=127.0.0.1:7002,n3=127.0.0.1:7003",
        "snapshot-every=500",
        "snapshots-retained=5",
        "tick-interval-ms=100",
        "limit.max_slots=5000",
        "limit.max_command_bytes=524288",
        "ratis.raft.server.rpc.timeout.min=700ms",
        "ratis.raft.server.rpc.timeout.max=1400ms"));
    ServerConfig c = parse("--config", file.toString()).toConfig(Map.of("COHORT_PEERS", "n9=h:1", "COHORT_INSECURE", "1"));
    assertEquals("n1", c.id().toString());
    assertEquals(Path.of("/var/lib/cohort/n1"), c.storageDir());
    assertEquals(3, c.peers().size());
    assertEquals(500, c.stateMachine().autoSnapshotEveryEntries());
    assertEquals(5, c.snapshotsRetained());
    assertEquals(100, c.stateMachine().tickIntervalMs());
    assertEquals(LimitsRecord.newBuilder().setMaxSlots(5000).setMaxCommandBytes(524288).build(),
        c.stateMachine().bootstrapLimits());
    assertEquals(Map.of("raft.server.rpc.timeout.min", "700ms", "raft.server.rpc.timeout.max", "1400ms"), c.ratis());
    assertEquals(700, RaftServerConfigKeys.Rpc.timeoutMin(RatisSettings.forServer(c))
        .toLong(java.util.concurrent.TimeUnit.MILLISECONDS));

    ServerConfig o = parse("--config", file.toString(), "--id", "n2", "--storage", "d2", "--tick-interval-ms", "50",
        "--limit", "max_slots=6000", "--ratis", "raft.server.rpc.timeout.min=650ms").toConfig(INSECURE);
    assertEquals("n2", o.id().toString());
    assertEquals(Path.of("d2"), o.storageDir());
    assertEquals(50, o.stateMachine().tickIntervalMs());
    assertEquals(500, o.stateMachine().autoSnapshotEveryEntries(), "the file's value where no flag is given");
    assertEquals(LimitsRecord.newBuilder().setMaxSlots(6000).setMaxCommandBytes(524288).build(),
        o.stateMachine().bootstrapLimits());
    assertEquals("650ms", o.ratis().get("raft.server.rpc.timeout.min"));
    assertEquals("1400ms", o.ratis().get("raft.server.rpc.timeout.max"));
  }

  @Test
  void theHttpEndpointIsOnTheRaftPortPlus1000_zeroTurnsItOff_theFileSetsItAndFlagsWin() throws Exception {
    String peers = "n1=127.0.0.1:7001,n2=127.0.0.1:7002";
    ServerConfig dflt = parse("--id", "n2", "--storage", "d", "--peers", peers).toConfig(INSECURE);
    assertEquals(new MetricsSettings(8002, 1000, 30_000, 10_000), dflt.metrics());
    assertFalse(parse("--id", "n2", "--storage", "d", "--peers", peers, "--http-port", "0").toConfig(INSECURE)
        .metrics().enabled());
    Path file = Files.writeString(dir.resolve("m.properties"), String.join("\n", "id=n1", "storage=d",
        "peers=" + peers, "http-port=9100", "ready-max-lag-entries=50", "stall-after-ms=5000",
        "metrics-max-series=200"));
    assertEquals(new MetricsSettings(9100, 50, 5000, 200), parse("--config", file.toString()).toConfig(INSECURE)
        .metrics());
    assertEquals(new MetricsSettings(9200, 50, 7000, 200), parse("--config", file.toString(), "--http-port", "9200",
        "--stall-after-ms", "7000").toConfig(INSECURE).metrics());
    assertError("--http-port must be in 0..65535 (0 = off): 70000", "--id", "n1", "--storage", "d",
        "--http-port", "70000");
    assertError("--http-port 7001 is the node's Raft port", "--id", "n1", "--storage", "d", "--http-port", "7001");
    assertError("--stall-after-ms must be positive: 0", "--id", "n1", "--storage", "d", "--stall-after-ms", "0");
    assertError("--ready-max-lag-entries must be 0 or more: -1", "--id", "n1", "--storage", "d",
        "--ready-max-lag-entries", "-1");
    assertError("--metrics-max-series must be 0 or more: -5", "--id", "n1", "--storage", "d",
        "--metrics-max-series", "-5");
  }

  @Test
  void unknownKeysLimitsAndRatisPropertiesAreErrorsNamingThem() throws Exception {
    Path file = Files.writeString(dir.resolve("bad.properties"), "id=n1\nstorage=d\nsnapshot.every=5\n");
    assertError("unknown key 'snapshot.every'", "--config", file.toString());
    assertError("config file " + dir.resolve("none.properties") + " does not exist",
        "--config", dir.resolve("none.properties").toString());
    Path notNumber = Files.writeString(dir.resolve("nan.properties"), "id=n1\nstorage=d\ntick-interval-ms=fast\n");
    assertError("tick-interval-ms is not a number: 'fast'", "--config", notNumber.toString());
    assertError("unknown limit 'max_slot'", "--id", "n1", "--storage", "d", "--limit", "max_slot=5");
    assertError("limit max_slots must be between 1 and", "--id", "n1", "--storage", "d", "--limit", "max_slots=0");
    assertError("limit max_command_bytes must be at least 65536", "--id", "n1", "--storage", "d",
        "--limit", "max_command_bytes=1000");
    assertError("limit max_command_bytes must be at most 4194304", "--id", "n1", "--storage", "d",
        "--limit", "max_command_bytes=5000000");
    assertError("unknown Ratis property 'raft.server.rpc.timout.min'", "--id", "n1", "--storage", "d",
        "--ratis", "raft.server.rpc.timout.min=1s");
    assertError("raft.server.log.append-entries.compose.enabled=true is refused", "--id", "n1", "--storage", "d",
        "--ratis", "raft.server.log.append-entries.compose.enabled=true");
    assertError("--id is required", "--storage", "d");
    assertError("--storage is required", "--id", "n1");
  }

  private static void assertError(String expected, String... args) {
    String[] withPeers = java.util.stream.Stream.concat(java.util.Arrays.stream(args),
        java.util.stream.Stream.of("--peers", "n1=127.0.0.1:7001")).toArray(String[]::new);
    ConfigException e = assertThrows(ConfigException.class, () -> parse(withPeers).toConfig(INSECURE));
    assertTrue(e.getMessage().contains(expected), e.getMessage());
  }

  @Test
  void theSampleConfigFileIsValidAndShowsEveryLimitWithItsDefault() throws Exception {
    Path sample = Path.of("src/main/dist/conf/cohort-server.properties");
    ServerConfig c = parse("--config", sample.toString(), "--id", "n2", "--storage", "data/n2").toConfig(INSECURE);
    assertEquals(io.cohort.client.Peers.LOCAL, io.cohort.client.Peers.of(c.peers()).toString());
    assertEquals(CohortStateMachine.Settings.DEFAULTS.withBootstrapAdmins(java.util.List.of("admin", "anonymous")),
        c.stateMachine(), "insecure: the default admin and anonymous");
    assertEquals(MetricsSettings.defaultsFor(9862), c.metrics());
    // Uncommented, its commented settings are Cohort's defaults.
    String uncommented = Files.readString(sample).replaceAll("(?m)^#(limit|ratis)\\.", "$1.")
        .replaceAll("(?m)^#(id|storage)=", "$1=");
    Path all = Files.writeString(dir.resolve("all.properties"), uncommented);
    ServerConfig d = parse("--config", all.toString()).toConfig(INSECURE);
    assertEquals("n1", d.id().toString(), "the file's id");
    d = parse("--config", all.toString(), "--id", "n2").toConfig(INSECURE); // c's node: the same snapshot stagger
    assertEquals(Limits.DEFAULTS.toRecord(), d.stateMachine().bootstrapLimits());
    assertFalse(d.ratis().isEmpty());
    assertEquals(toMap(RatisSettings.forServer(c)), toMap(RatisSettings.forServer(d)), "no Ratis default changes");
  }

  private static Map<String, String> toMap(RaftProperties p) {
    Map<String, String> m = new TreeMap<>();
    for (String key : RatisSettings.KNOWN_KEYS) {
      String v = p.get(key);
      if (v != null && !key.equals("raft.server.storage.dir") && !key.startsWith("raft.grpc.server.")) {
        m.put(key, v);
      }
    }
    return m;
  }

  @Test
  void R9_ratisSizesCarryACommandUpToTheCeilingToTheStateMachineAndNoFurther() {
    RaftProperties p = RatisSettings.forServer(ServerConfig.insecure("n1", Path.of("/tmp/s"), "n1=127.0.0.1:7001"));
    long entryMax = RaftServerConfigKeys.Log.Appender.bufferByteLimit(p).getSize();
    long messageMax = GrpcConfigKeys.messageSizeMax(p, s -> { }).getSize();
    assertEquals(4 << 20, RatisSettings.maxCommandBytes(p), "largest max_command_bytes");
    assertTrue(Limits.DEFAULTS.maxCommandBytes() <= RatisSettings.maxCommandBytes(p));
    assertEquals(RatisSettings.maxCommandBytes(p) + RatisSettings.ENTRY_OVERHEAD_BYTES, entryMax);
    assertTrue(RaftServerConfigKeys.Log.writeBufferSize(p).getSize() >= entryMax + 8, "SegmentedRaftLogWorker");
    assertTrue(messageMax - entryMax >= 1 << 20, "GrpcServicesImpl: message.size.max >= byte-limit + 1 MB");
    assertEquals(RatisSettings.COMMAND_CEILING.getSize() + RatisSettings.ENTRY_OVERHEAD_BYTES, messageMax);
    assertTrue(RaftServerConfigKeys.Log.Appender.snapshotChunkSizeMax(p).getSize() < messageMax - (64 << 10));
    assertTrue(RaftServerConfigKeys.Log.segmentSizeMax(p).getSize() >= entryMax);
  }

  @Test
  void R11_aNodeNeedsItsTlsFilesOrAnExplicitInsecure() throws Exception {
    String[] base = {"--id", "n1", "--storage", "d", "--peers", "n1=127.0.0.1:7001"};
    ConfigException none = assertThrows(ConfigException.class, () -> parse(base).toConfig(Map.of()));
    assertTrue(none.getMessage().contains("--tls-cert, --tls-key and --tls-ca"), none.getMessage());
    assertTrue(none.getMessage().contains("--insecure (COHORT_INSECURE=1)"), none.getMessage());
    assertFalse(none.getMessage().contains("\n"));
    ConfigException partial = assertThrows(ConfigException.class, () -> parse(concat(base, "--tls-cert", "n1.crt"))
        .toConfig(Map.of()));
    assertTrue(partial.getMessage().contains("missing --tls-key, --tls-ca"), partial.getMessage());
    ConfigException both = assertThrows(ConfigException.class, () -> parse(concat(base, "--tls-cert", "a",
        "--tls-key", "b", "--tls-ca", "c", "--insecure")).toConfig(Map.of()));
    assertTrue(both.getMessage().contains("exclude each other"), both.getMessage());
    assertThrows(ConfigException.class, () -> parse(concat(base, "--tls-cert", "a", "--tls-key", "b", "--tls-ca", "c"))
        .toConfig(INSECURE), "COHORT_INSECURE=1 with TLS files");

    ServerConfig plain = parse(concat(base, "--insecure")).toConfig(Map.of());
    assertTrue(plain.isInsecure());
    assertEquals(java.util.List.of("admin", "anonymous"), plain.stateMachine().bootstrapAdmins());
    ServerConfig secure = parse(concat(base, "--tls-cert", "a.crt", "--tls-key", "a.key", "--tls-ca", "ca.crt",
        "--admin", "ops", "--admin", "ops2")).toConfig(Map.of());
    assertEquals(Path.of("a.crt"), secure.tls().cert());
    assertEquals(java.util.List.of("ops", "ops2"), secure.stateMachine().bootstrapAdmins(), "no anonymous when secure");
    Path file = Files.writeString(dir.resolve("tls.properties"), "id=n1\nstorage=d\ntls-cert=x.crt\ntls-key=x.key\n"
        + "tls-ca=ca.crt\nadmins=ops, alice\n");
    ServerConfig fromFile = parse("--config", file.toString(), "--peers", "n1=127.0.0.1:7001").toConfig(Map.of());
    assertEquals(Path.of("ca.crt"), fromFile.tls().ca());
    assertEquals(java.util.List.of("ops", "alice"), fromFile.stateMachine().bootstrapAdmins());
    assertError("--admin: principal 'bad#name' has a character outside", "--id", "n1", "--storage", "d", "--insecure",
        "--admin", "bad#name");
  }

  private static String[] concat(String[] a, String... b) {
    return java.util.stream.Stream.concat(java.util.Arrays.stream(a), java.util.Arrays.stream(b)).toArray(String[]::new);
  }
}
