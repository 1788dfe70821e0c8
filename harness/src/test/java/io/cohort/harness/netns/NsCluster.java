package io.cohort.harness.netns;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.cohort.tools.Cohort;
import io.cohort.tools.json.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * Three Cohort servers, {@code cohort consume} processes and the {@link ProbeMain}, each a JVM of
 * its own in its own namespace of a {@link NetNs}, run from this JVM's class path. Servers keep the
 * production Raft timeouts; every server listens on port {@value #PORT} of its own address.
 * Closing stops exactly the processes started here (SIGTERM, SIGKILL after 20 s); a shutdown hook
 * does the same if the test JVM is stopped.
 */
final class NsCluster implements AutoCloseable {
  static final List<String> SERVERS = List.of("n1", "n2", "n3");
  static final int PORT = 9861;
  /** Small, quick to start JVMs: seven share two cores. */
  static final List<String> JAVA_OPTS = List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xms32m",
      "-Xmx256m", "-Xss512k");

  private final NetNs net;
  private final Path dir;
  private final String peers;
  private final Map<String, Process> servers = new LinkedHashMap<>();
  private final Map<String, Process> consumers = new LinkedHashMap<>();
  private final Map<String, Long> consumerExitMs = new TreeMap<>();
  private final Thread hook = new Thread(this::kill, "ns-cluster-cleanup");
  private Process probeProcess;
  private Probe probe;

  private NsCluster(NetNs net, Path dir) {
    this.net = net;
    this.dir = dir;
    this.peers = peers(SERVERS);
  }

  /** Starts n1..n3 and the probe (in {@code observer}), and waits for a leader. */
  static NsCluster start(NetNs net, Path dir, String observer) throws IOException {
    NsCluster c = new NsCluster(net, dir);
    Runtime.getRuntime().addShutdownHook(c.hook);
    try {
      for (String id : SERVERS) {
        c.startServer(id);
      }
      c.probeProcess = c.launch(observer, List.of(ProbeMain.class.getName(), c.peers),
          ProcessBuilder.Redirect.PIPE, dir.resolve("probe.err"));
      c.probe = new Probe(c.probeProcess);
      await("a leader").atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500))
          .until(() -> c.leader().isPresent());
      return c;
    } catch (IOException | RuntimeException e) {
      c.close();
      throw e;
    }
  }

  String peers() {
    return peers;
  }

  /** {@code --peers} naming only these servers (a client told of a cut-off node may keep asking it). */
  String peers(List<String> ids) {
    List<String> p = new ArrayList<>();
    for (String id : ids) {
      p.add(id + "=" + net.address(id) + ":" + PORT);
    }
    return String.join(",", p);
  }

  Probe probe() {
    return probe;
  }

  synchronized void startServer(String id) throws IOException {
    servers.put(id, launch(id, List.of("io.cohort.server.ServerMain", "server", "--id", id, "--storage",
        dir.resolve(id).toString(), "--peers", peers), ProcessBuilder.Redirect.appendTo(dir.resolve(id + ".log")
        .toFile()), dir.resolve(id + ".log")));
  }

  /** A {@code cohort consume GROUP --json} process in the member's namespace; the member's name is its id. */
  synchronized void startConsumer(String member, String group, Path logDir) throws IOException {
    consumers.put(member, launch(member, List.of(Cohort.class.getName(), "consume", group, "--consumer", member,
        "--log-dir", logDir.toString(), "--json", "--commit-every-ms", "200", "--peers", peers),
        ProcessBuilder.Redirect.appendTo(events(member).toFile()), dir.resolve(member + ".err")));
  }

  Path events(String member) {
    return dir.resolve(member + ".jsonl");
  }

  /** Each consumer's event file. */
  synchronized Map<String, Path> eventFiles() {
    Map<String, Path> out = new TreeMap<>();
    consumers.keySet().forEach(c -> out.put(c, events(c)));
    return out;
  }

  /** When each consumer exited, or now for those still running: the end of whatever they still read. */
  synchronized Map<String, Long> consumerEndMs() {
    Map<String, Long> out = new TreeMap<>();
    long now = System.currentTimeMillis();
    consumers.forEach((c, p) -> out.put(c, p.isAlive() ? now : consumerExitMs.getOrDefault(c, now)));
    return out;
  }

  /** Each peer's own view (id, reachable, role, term, commitIndex, appliedIndex, leader), from the probe. */
  List<JsonNode> status() throws IOException {
    Probe.Answer a = probe.run("@status");
    List<JsonNode> out = new ArrayList<>();
    Json.read(a.out()).forEach(out::add);
    return out;
  }

  /** The reachable peer that says it leads in the highest term (an old, cut-off leader may still say so). */
  Optional<String> leader() throws IOException {
    return status().stream().filter(s -> s.get("reachable").asBoolean() && "LEADER".equals(s.get("role").asText()))
        .max((a, b) -> Long.compare(a.get("term").asLong(), b.get("term").asLong())).map(s -> s.get("id").asText());
  }

  /** SIGTERM to the consumers (they commit and leave), waits up to 20 s each, SIGKILL the rest. */
  synchronized void stopConsumers() {
    consumers.values().forEach(Process::destroy);
    consumers.forEach((c, p) -> {
      stop(p);
      consumerExitMs.putIfAbsent(c, System.currentTimeMillis());
    });
  }

  private Process launch(String member, List<String> mainAndArgs, ProcessBuilder.Redirect out, Path err)
      throws IOException {
    Files.createDirectories(dir);
    List<String> cmd = new ArrayList<>(net.exec(member));
    cmd.add(ProcessHandle.current().info().command().orElse("java"));
    cmd.addAll(JAVA_OPTS);
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.addAll(mainAndArgs);
    Process p = new ProcessBuilder(cmd).redirectOutput(out).redirectError(ProcessBuilder.Redirect.appendTo(err.toFile()))
        .start();
    if (out != ProcessBuilder.Redirect.PIPE) {
      p.getOutputStream().close();
    }
    return p;
  }

  private static void stop(Process p) {
    try {
      if (!p.waitFor(20, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        p.waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  /** The shutdown hook: no waiting, nothing left running. */
  private synchronized void kill() {
    consumers.values().forEach(Process::destroyForcibly);
    servers.values().forEach(Process::destroyForcibly);
    if (probeProcess != null) {
      probeProcess.destroyForcibly();
    }
  }

  @Override
  public synchronized void close() {
    stopConsumers();
    if (probe != null) {
      try {
        probe.close();
      } catch (IOException e) {
        // it is killed below if it does not end
      }
    }
    servers.values().forEach(Process::destroy);
    servers.values().forEach(NsCluster::stop);
    if (probeProcess != null) {
      probeProcess.destroy();
      stop(probeProcess);
    }
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException shuttingDown) {
      // the hook runs anyway
    }
  }
}
