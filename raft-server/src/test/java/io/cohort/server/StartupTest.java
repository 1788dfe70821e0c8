package io.cohort.server;

import static io.cohort.server.Commands.createTopic;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.*;

import io.cohort.server.snapshot.SnapshotDirectory;
import io.cohort.server.testing.MiniCluster;
import io.cohort.server.testing.ServerProcess;
import io.cohort.server.testing.TestClient;
import io.cohort.statemachine.proto.DigestView;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftPeerId;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Start-up is fail-safe (step 10): no silent format, and a node that cannot start says in one
 * line on stderr what to do. The refusals run the real server process; stderr must be exactly
 * that line (Ratis' own stack traces go to stdout, the node's log).
 */
class StartupTest {
  private static final Duration EXIT = Duration.ofSeconds(90);

  @TempDir Path dir;

  private String peers;
  private ServerConfig config;

  private void singleNode(Map<String, String> ratis) throws Exception {
    peers = "n1=127.0.0.1:" + MiniCluster.freePorts(1).get(0);
    config = ServerConfig.insecure("n1", dir.resolve("n1"), peers)
        .withStateMachine(CohortStateMachine.Settings.DEFAULTS.withAutoSnapshotEveryEntries(0)
            .withBootstrapAdmins(List.of(io.cohort.statemachine.Principals.ANONYMOUS))).withRatis(ratis);
  }

  private ServerProcess process(String name, String... extra) throws IOException {
    List<String> args = new java.util.ArrayList<>(List.of("--id", "n1", "--storage", config.storageDir().toString(),
        "--peers", peers, "--insecure"));
    args.addAll(List.of(extra));
    config.ratis().forEach((k, v) -> args.addAll(List.of("--ratis", k + "=" + v)));
    return ServerProcess.start(dir.resolve("logs"), name, args.toArray(String[]::new));
  }

  /** Exit code 1 and exactly one line on stderr; returns that line. */
  private static String refusedInOneLine(ServerProcess p) throws InterruptedException {
    int code = p.awaitExit(EXIT);
    String err = p.stderr();
    assertEquals(1, code, "exit code; stderr: " + err + "\nstdout tail: " + tail(p.stdout()));
    assertEquals(1, err.lines().count(), "stderr is exactly one line:\n" + err);
    System.out.println("refused: " + err.strip());
    return err.strip();
  }

  private static String tail(String s) {
    return s.length() > 3000 ? s.substring(s.length() - 3000) : s;
  }

  @Test
  void startWithoutStorageIsRefusedInOneLineNamingBootstrapAndJoin_andCreatesNothing() throws Exception {
    singleNode(Map.of());
    try (ServerProcess p = process("no-storage")) {
      String line = refusedInOneLine(p);
      assertTrue(line.startsWith("cohort server: no Raft storage for n1 under " + config.storageDir()), line);
      assertTrue(line.contains("--bootstrap") && line.contains("--join"), line);
      assertTrue(line.contains("cohort cluster replace n1 n1b=HOST:PORT"), line);
    }
    assertFalse(Files.exists(config.storageDir()), "a refused start creates nothing");
  }

  @Test
  void bootstrapFormatsOnlyTheFirstTime_thenTheNodeStartsFromItsStorageWithoutFlags() throws Exception {
    singleNode(Map.of());
    try (CohortServer s = CohortServer.start(config, StartMode.BOOTSTRAP)) {
      await().atMost(MiniCluster.TIMEOUT).until(s::isLeaderReady);
      try (TestClient c = TestClient.insecure(config.group())) {
        c.write(createTopic("t", 2));
      }
    }
    try (CohortServer s = CohortServer.start(config)) { // RECOVER: storage exists
      await().atMost(MiniCluster.TIMEOUT).until(s::isLeaderReady);
      try (TestClient c = TestClient.insecure(config.group())) {
        assertEquals(io.cohort.statemachine.proto.Code.ALREADY_EXISTS, c.write(createTopic("t", 2)).getCode(),
            "the state survived: it was recovered, not formatted");
      }
    }
    ConfigException refused = assertThrows(ConfigException.class, () -> CohortServer.start(
        ServerConfig.insecure("n1", dir.resolve("elsewhere"), peers)));
    assertTrue(refused.getMessage().startsWith("no Raft storage for n1"), refused.getMessage());
  }

  @Test
  void aCorruptNewestSnapshotCoveredByAnOlderOneSaysMoveItAside_andTheNodeThenStarts() throws Exception {
    singleNode(Map.of());
    DigestView before;
    long older;
    Path newest;
    try (CohortServer s = CohortServer.start(config, StartMode.BOOTSTRAP); TestClient c = TestClient.insecure(config.group())) {
      await().atMost(MiniCluster.TIMEOUT).until(s::isLeaderReady);
      write(c, "a", 20);
      older = snapshot(s, c);
      write(c, "b", 20);
      snapshot(s, c);
      write(c, "c", 5);
      before = s.stateMachine().digest();
    }
    newest = SnapshotDirectory.list(config.storageDir()).get(0).file();
    corrupt(newest);
    String line;
    try (ServerProcess p = process("corrupt-snapshot")) {
      line = refusedInOneLine(p);
    }
    assertTrue(line.startsWith("cohort server: node n1 cannot start: snapshot " + newest + " fails its MD5 checksum"),
        line);
    assertTrue(line.contains("move it aside (mv " + newest + " " + newest + ".corrupt)"), line);
    assertTrue(line.endsWith("snapshot " + older + " and the log from index 0 cover it"), line);

    Files.move(newest, newest.resolveSibling(newest.getFileName() + ".corrupt")); // the advice
    try (CohortServer s = CohortServer.start(config)) {
      await().atMost(MiniCluster.TIMEOUT).until(s::isLeaderReady);
      assertEquals(older, s.stateMachine().snapshotStats().lastLoadIndex(), "started from the older snapshot");
      await().atMost(MiniCluster.TIMEOUT).until(() -> s.stateMachine().appliedIndex() >= before.getAppliedIndex());
      assertEquals(before.getSha256(), digestAt(s, before.getAppliedIndex()).getSha256(),
          "the older snapshot plus the log rebuilt the same state");
    }
  }

  @Test
  void aCorruptNewestSnapshotThatNothingCoversSaysWipeAndReplaceUnderANewId() throws Exception {
    // One snapshot file kept, small segments, no purge gap: the log behind the older snapshot is
    // deleted, and so is that snapshot.
    singleNode(Map.of("raft.server.log.segment.size.max", "8KB", "raft.server.log.purge.gap", "1"));
    config = config.withSnapshotsRetained(1);
    Path newest;
    try (CohortServer s = CohortServer.start(config, StartMode.BOOTSTRAP); TestClient c = TestClient.insecure(config.group())) {
      await().atMost(MiniCluster.TIMEOUT).until(s::isLeaderReady);
      write(c, "a", 100);
      long first = snapshot(s, c);
      write(c, "b", 100);
      snapshot(s, c); // Ratis learns of the first one now and purges the log up to it
      await("log purged, one snapshot file kept").atMost(MiniCluster.TIMEOUT)
          .until(() -> s.division().getRaftLog().getStartIndex() > 1 && SnapshotDirectory.list(config.storageDir()).size() == 1);
      assertTrue(s.division().getRaftLog().getStartIndex() <= first + 1);
    }
    newest = SnapshotDirectory.list(config.storageDir()).get(0).file();
    corrupt(newest);
    try (ServerProcess p = process("uncovered-snapshot")) {
      String line = refusedInOneLine(p);
      assertTrue(line.contains("snapshot " + newest + " fails its MD5 checksum"), line);
      assertTrue(line.contains("no older snapshot"), line);
      assertTrue(line.contains("wipe " + config.storageDir() + " and rejoin under a new id"), line);
      assertTrue(line.contains("`cohort cluster replace n1 n1b=HOST:PORT`"), line);
    }
  }

  @Test
  void aTruncatedClosedLogSegmentWithoutACoveringSnapshotSaysWipeAndReplace() throws Exception {
    singleNode(Map.of("raft.server.log.segment.size.max", "8KB"));
    try (CohortServer s = CohortServer.start(config, StartMode.BOOTSTRAP); TestClient c = TestClient.insecure(config.group())) {
      await().atMost(MiniCluster.TIMEOUT).until(s::isLeaderReady);
      write(c, "a", 100);
    }
    List<StartupDiagnosis.Segment> closed = closedSegments();
    assertTrue(closed.size() >= 2, "closed segments: " + closed);
    StartupDiagnosis.Segment victim = closed.get(1);
    truncate(victim.file());
    try (ServerProcess p = process("truncated-segment")) {
      String line = refusedInOneLine(p);
      assertTrue(line.startsWith("cohort server: node n1 cannot start: log segment " + victim.file() + " is damaged"),
          line);
      assertTrue(line.contains("no snapshot covers index " + victim.end()), line);
      assertTrue(line.contains("`cohort cluster replace n1 n1b=HOST:PORT`"), line);
    }
  }

  @Test
  void aTruncatedClosedLogSegmentBehindASnapshotSaysMoveItAside_andTheNodeThenStarts() throws Exception {
    singleNode(Map.of("raft.server.log.segment.size.max", "8KB"));
    DigestView before;
    try (CohortServer s = CohortServer.start(config, StartMode.BOOTSTRAP); TestClient c = TestClient.insecure(config.group())) {
      await().atMost(MiniCluster.TIMEOUT).until(s::isLeaderReady);
      write(c, "a", 100);
      snapshot(s, c); // the purge gap (1024) keeps the segments behind it
      write(c, "b", 3);
      before = s.stateMachine().digest();
    }
    List<StartupDiagnosis.Segment> closed = closedSegments();
    StartupDiagnosis.Segment victim = closed.get(1);
    truncate(victim.file());
    try (ServerProcess p = process("covered-segment")) {
      String line = refusedInOneLine(p);
      assertTrue(line.contains("log segment " + victim.file() + " is damaged"), line);
      assertTrue(line.contains("move it and the 1 older segment (" + closed.get(0).file().getFileName() + ") aside"),
          line);
    }
    for (StartupDiagnosis.Segment s : closed.subList(0, 2)) {
      Files.move(s.file(), s.file().resolveSibling(s.file().getFileName() + ".corrupt"));
    }
    try (CohortServer s = CohortServer.start(config)) {
      await().atMost(MiniCluster.TIMEOUT).until(s::isLeaderReady);
      await().atMost(MiniCluster.TIMEOUT).until(() -> s.stateMachine().appliedIndex() >= before.getAppliedIndex());
      assertEquals(before.getSha256(), digestAt(s, before.getAppliedIndex()).getSha256());
    }
  }

  // ------------------------------------------------------------------ helpers

  /** {@code n} entries of about 200 bytes each (long topic names: an 8 KB segment holds ~30). */
  private static void write(TestClient c, String prefix, int n) {
    String pad = "x".repeat(150);
    for (int i = 0; i < n; i++) {
      c.write(createTopic(prefix + i + pad, 1));
    }
  }

  /** An explicit snapshot; waits for its file (with MD5) and returns its index. */
  private long snapshot(CohortServer s, TestClient c) throws Exception {
    long applied = s.stateMachine().appliedIndex();
    RaftClientReply r = c.raft().getSnapshotManagementApi(RaftPeerId.valueOf("n1")).create(true, 60_000);
    assertTrue(r.isSuccess(), String.valueOf(r.getException()));
    return await("snapshot file").atMost(MiniCluster.TIMEOUT).until(() -> {
      var files = SnapshotDirectory.list(config.storageDir());
      return files.isEmpty() || !files.get(0).hasMd5() ? -1L : files.get(0).index();
    }, i -> i >= applied);
  }

  /** The digest once the node applied exactly {@code index} (ticks may follow; a single node has no members). */
  private static DigestView digestAt(CohortServer s, long index) {
    DigestView d = s.stateMachine().digest();
    assertTrue(d.getAppliedIndex() >= index, d.toString());
    return d;
  }

  private List<StartupDiagnosis.Segment> closedSegments() throws IOException {
    return StartupDiagnosis.segments(new NodeStorage(config.storageDir(), config.groupId())).stream()
        .filter(s -> !s.open()).toList();
  }

  private static void corrupt(Path file) throws IOException {
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
      long at = f.length() / 2;
      f.seek(at);
      int b = f.read();
      f.seek(at);
      f.write(b ^ 0xff);
    }
  }

  private static void truncate(Path segment) throws IOException {
    try (RandomAccessFile f = new RandomAccessFile(segment.toFile(), "rw")) {
      f.setLength(f.length() / 2);
    }
  }
}
