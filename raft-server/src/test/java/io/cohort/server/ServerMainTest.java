package io.cohort.server;

import static io.cohort.server.Commands.*;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.*;

import io.cohort.server.snapshot.SnapshotDirectory;
import io.cohort.server.snapshot.SnapshotFile;
import io.cohort.server.testing.MiniCluster;
import io.cohort.server.testing.TestClient;
import io.cohort.statemachine.proto.Code;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mapdb.DB;
import org.mapdb.DBMaker;
import org.mapdb.Serializer;

/** The server process's flags and its one-line errors. */
class ServerMainTest {
  @TempDir Path dir;
  final ByteArrayOutputStream out = new ByteArrayOutputStream();
  final ByteArrayOutputStream err = new ByteArrayOutputStream();

  /** These tests are about other errors: plaintext, said explicitly (the TLS ones say otherwise). */
  private int run(String... args) {
    return run(Map.of(ServerOptions.INSECURE_ENV, "1"), args);
  }

  private int run(Map<String, String> env, String... args) {
    return ServerMain.run(args, env, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  private String err() {
    return err.toString(StandardCharsets.UTF_8);
  }

  @Test
  void aBadPeersListIsOneClearLine() {
    assertEquals(2, run("server", "--id", "n1", "--storage", dir.toString(), "--peers", "n1=127.0.0.1"));
    assertEquals("cohort server: peer 'n1=127.0.0.1' has no port in peers 'n1=127.0.0.1': expected id=host:port\n", err());
  }

  @Test
  void peersListProblems() {
    for (String[] c : new String[][] {
        {"n1=h:1,n1=h:2", "peer id 'n1' appears twice"},
        {"n1=h:1,n2=h:1", "address h:1 appears twice"},
        {"n1=h:99999", "outside 1..65535"},
        {"n1h:1", "expected id=host:port"},
        {"", "peers are empty"}}) {
      ConfigException e = assertThrows(ConfigException.class, () -> ServerConfig.parsePeers(c[0]));
      assertTrue(e.getMessage().contains(c[1]), e.getMessage());
    }
    assertEquals(2, ServerConfig.parsePeers("n1=127.0.0.1:9861, n2=localhost:9862").size());
  }

  @Test
  void anIdOutsideThePeersIsRejected() {
    assertEquals(2, run("server", "--id", "n4", "--storage", dir.toString(), "--peers", "n1=127.0.0.1:9861"));
    assertTrue(err().contains("--id n4 is not in the peers list"), err());
  }

  @Test
  void anUnusableStorageDirIsOneClearLine() throws Exception {
    Path file = Files.writeString(dir.resolve("a-file"), "x");
    assertEquals(1, run("server", "--bootstrap", "--id", "n1", "--storage", file.resolve("sub").toString(),
        "--peers", "n1=127.0.0.1:" + MiniCluster.freePorts(1).get(0)));
    assertTrue(err().startsWith("cohort server: storage dir " + file.resolve("sub") + " cannot be created"), err());
    assertEquals(1, err().lines().count(), err());
  }

  @Test
  void usageErrorsExitWithTwo() {
    assertEquals(2, run("server", "--storage", dir.toString()));
    assertTrue(err().contains("--id"), err());
    assertEquals(2, run("frobnicate"));
    assertEquals(0, run("server", "--help"));
  }

  @Test
  void helpPrintsTheUsageAndStartsNothing() throws Exception {
    Path missing = dir.resolve("missing.properties");
    for (String[] args : new String[][] {{"server", "--help"}, {"server", "-h"},
        {"server", "--config", missing.toString(), "--help"}, {"server", "--id", "n1", "--help"}}) {
      out.reset();
      assertEquals(0, run(args), String.join(" ", args) + ": " + err());
      String usage = out.toString(StandardCharsets.UTF_8);
      assertTrue(usage.contains("--config") && usage.contains("--limit") && usage.contains("--ratis"), usage);
      assertTrue(usage.contains("--http-port") && usage.contains("--stall-after-ms"), usage);
    }
    assertEquals("", err());
    // As the tools CLI calls it: options parsed elsewhere, --help set, no id.
    ServerOptions o = new ServerOptions();
    o.help = true;
    ByteArrayOutputStream printed = new ByteArrayOutputStream();
    assertEquals(0, ServerMain.runServer(o, Map.of(), new PrintStream(printed, true, StandardCharsets.UTF_8)));
    assertTrue(printed.toString(StandardCharsets.UTF_8).contains("--storage"));
    assertFalse(Files.exists(missing));
  }

  @Test
  void aConfigFileProblemIsOneClearLineAndExitTwo() throws Exception {
    Path file = Files.writeString(dir.resolve("server.properties"), "id=n1\nstorage=" + dir.resolve("n1")
        + "\npeers=n1=127.0.0.1:9861\ntick.interval=5\n");
    assertEquals(2, run("server", "--config", file.toString()));
    assertEquals("cohort server: config file " + file + ": unknown key 'tick.interval' (known: admins, http-port, id, "
        + "insecure, metrics-max-series, peers, ready-max-lag-entries, snapshot-every, snapshots-retained, "
        + "stall-after-ms, storage, tick-interval-ms, tls-ca, tls-cert, tls-key, limit.NAME, ratis.KEY)\n", err());
    assertFalse(Files.exists(dir.resolve("n1")), "nothing created");
  }

  @Test
  void aSnapshotThatFailsItsChecksumStopsTheStartWithAClearError() throws Exception {
    String peers = "n1=127.0.0.1:" + MiniCluster.freePorts(1).get(0);
    ServerConfig config = ServerConfig.insecure("n1", dir.resolve("n1"), peers);
    try (CohortServer server = CohortServer.start(config, StartMode.BOOTSTRAP)) {
      await().atMost(MiniCluster.TIMEOUT).until(server::isLeaderReady);
      try (TestClient c = TestClient.insecure(config.group())) {
        assertEquals(Code.OK, c.write(createTopic("t", 3)).getCode());
      }
    } // closing takes a snapshot (trigger when stop)
    List<SnapshotDirectory.Listing> snapshots = SnapshotDirectory.list(config.storageDir());
    assertEquals(1, snapshots.size());
    Path file = snapshots.get(0).file();
    DB db = DBMaker.fileDB(file.toFile()).fileChannelEnable().make();
    var topics = db.treeMap("topics", Serializer.STRING, Serializer.BYTE_ARRAY).open();
    topics.put("u", new byte[] {0x0a, 0x01, 0x75});
    db.close();
    Path md5 = file.resolveSibling(file.getFileName() + ".md5");
    Files.move(md5, dir.resolve("moved.md5")); // without its MD5 the file must still fail our own checksum

    int code = CompletableFuture.supplyAsync(() -> run("server", "--id", "n1", "--storage",
        config.storageDir().toString(), "--peers", peers)).get(60, TimeUnit.SECONDS);
    assertEquals(1, code, err());
    assertTrue(err().startsWith("cohort server: node n1 cannot start: snapshot " + file), err());
    assertTrue(err().contains("fails its checksum: 4 records found, 3 expected"), err());

    Files.move(dir.resolve("moved.md5"), md5);
    err.reset();
    code = CompletableFuture.supplyAsync(() -> run("server", "--id", "n1", "--storage",
        config.storageDir().toString(), "--peers", peers)).get(60, TimeUnit.SECONDS);
    assertEquals(1, code, err());
    assertTrue(err().contains("fails its MD5 checksum"), err());
  }

  @Test
  void aTakenHttpPortIsOneClearLine_andTheNodeDoesNotRun() throws Exception {
    String peers = "n1=127.0.0.1:" + MiniCluster.freePorts(1).get(0);
    try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      int code = CompletableFuture.supplyAsync(() -> run("server", "--bootstrap", "--id", "n1", "--storage",
          dir.resolve("n1").toString(), "--peers", peers, "--http-port", Integer.toString(taken.getLocalPort())))
          .get(60, TimeUnit.SECONDS);
      assertEquals(1, code, err());
      assertTrue(err().startsWith("cohort server: --http-port " + taken.getLocalPort() + " on 127.0.0.1 cannot be bound"),
          err());
    }
  }

  @Test
  void R11_withoutTlsFilesOrInsecureTheServerStopsWithOneLineNamingBoth() {
    assertEquals(2, run(Map.of(), "server", "--id", "n1", "--storage", dir.resolve("n1").toString(),
        "--peers", "n1=127.0.0.1:9861"));
    assertEquals("cohort server: no TLS: give --tls-cert, --tls-key and --tls-ca (or tls-* in --config; "
        + "`cohort certs create` makes them), or --insecure (COHORT_INSECURE=1) for plaintext\n", err());
    assertFalse(Files.exists(dir.resolve("n1")), "nothing created");
  }

  @Test
  void R11_aNodeRefusesToStartWithACertificateThatIsNotItsOwn() throws Exception {
    io.cohort.server.testing.TestCerts certs = io.cohort.server.testing.TestCerts.create(dir.resolve("tls"));
    String peers = "n1=127.0.0.1:" + MiniCluster.freePorts(1).get(0);
    for (io.cohort.client.tls.TlsFiles wrong : List.of(certs.user("n1"), certs.node("n2"))) {
      err.reset();
      assertEquals(1, run(Map.of(), "server", "--bootstrap", "--id", "n1", "--storage", dir.resolve("n1").toString(),
          "--peers", peers, "--tls-cert", wrong.cert().toString(), "--tls-key", wrong.key().toString(), "--tls-ca", wrong.ca().toString()));
      assertTrue(err().startsWith("cohort server: --tls-cert " + wrong.cert() + " (CN="), err());
      assertTrue(err().contains("is not node n1's certificate"), err());
      assertEquals(1, err().lines().count(), err());
    }
    err.reset();
    io.cohort.client.tls.TlsFiles noSuchKey = new io.cohort.client.tls.TlsFiles(certs.node("n1").cert(),
        dir.resolve("none.key"), certs.caFile());
    assertEquals(1, run(Map.of(), "server", "--bootstrap", "--id", "n1", "--storage", dir.resolve("n1").toString(),
        "--peers", peers, "--tls-cert", noSuchKey.cert().toString(), "--tls-key", noSuchKey.key().toString(), "--tls-ca",
        noSuchKey.ca().toString()));
    assertEquals("cohort server: TLS file " + dir.resolve("none.key") + " does not exist\n", err());
  }
}
