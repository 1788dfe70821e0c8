package io.cohort.harness.bench;

import io.cohort.client.Peers;
import io.cohort.client.admin.ClusterAdmin;
import io.cohort.client.admin.PeerStatus;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Three server processes on loopback (n1..n3), started from this JVM's class path: Cohort servers
 * ({@code cohort server}) or the no-op baseline ({@link NoopServer}). Keeps each process it
 * started, kills (SIGKILL) and restarts them by handle, and stops exactly those on close.
 */
public final class ServerProcesses implements AutoCloseable {
  public enum Kind {
    COHORT, NOOP
  }

  public static final List<String> IDS = List.of("n1", "n2", "n3");
  /** In a JVM option, stands for the node's id (per-node files: archives, recordings). */
  public static final String NODE_ID = "{id}";

  private final Kind kind;
  private final Path dir;
  private final int basePort;
  private final String peers;
  private final List<String> javaOpts;
  private final List<String> extraArgs;
  private final Map<String, Process> processes = new LinkedHashMap<>();
  private final ClusterAdmin admin;
  private final long startedNanos = System.nanoTime();

  private ServerProcesses(Kind kind, Path dir, int basePort, List<String> javaOpts, List<String> extraArgs) {
    this.kind = kind;
    this.dir = dir;
    this.basePort = basePort;
    this.peers = Ports.peers(basePort);
    this.javaOpts = List.copyOf(javaOpts);
    this.extraArgs = List.copyOf(extraArgs);
    this.admin = ClusterAdmin.connect(Peers.parse(peers), Duration.ofSeconds(1));
  }

  /**
   * Starts n1..n3 on free ports with storage under {@code dir} and waits (up to 120 s) for a leader.
   *
   * @param javaOpts the servers' JVM options ({@value #NODE_ID} in one becomes the node's id)
   * @param ratis Ratis properties passed to every server ({@code --ratis k=v})
   */
  public static ServerProcesses start(Kind kind, Path dir, List<String> javaOpts, Map<String, String> ratis,
      List<String> serverArgs) throws IOException {
    Files.createDirectories(dir);
    List<String> extra = new ArrayList<>(serverArgs);
    ratis.forEach((k, v) -> {
      extra.add("--ratis");
      extra.add(k + "=" + v);
    });
    ServerProcesses s = new ServerProcesses(kind, dir, Ports.freeBase(), javaOpts, extra);
    try {
      for (String id : IDS) {
        s.startNode(id);
      }
      s.awaitLeader(Duration.ofSeconds(120));
    } catch (IOException | RuntimeException e) {
      s.close();
      throw e;
    }
    return s;
  }

  public String peers() {
    return peers;
  }

  public Path dir() {
    return dir;
  }

  public Kind kind() {
    return kind;
  }

  /** {@link System#nanoTime} just before the first process was launched: servers' age 0. */
  public long startedNanos() {
    return startedNanos;
  }

  /** Seconds since the first process was launched. */
  public double ageS() {
    return (System.nanoTime() - startedNanos) / 1e9;
  }

  public synchronized void startNode(String id) throws IOException {
    Process old = processes.get(id);
    if (old != null && old.isAlive()) {
      return;
    }
    List<String> cmd = new ArrayList<>();
    cmd.add(ProcessHandle.current().info().command().orElse("java"));
    javaOpts.forEach(o -> cmd.add(o.replace(NODE_ID, id)));
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    if (kind == Kind.COHORT) {
      cmd.addAll(List.of("io.cohort.server.ServerMain", "server")); // the raft-server main: takes --ratis
    } else {
      cmd.add(NoopServer.class.getName());
    }
    cmd.addAll(List.of("--id", id, "--storage", dir.resolve(id).toString(), "--peers", peers));
    cmd.addAll(extraArgs);
    File log = dir.resolve(id + ".log").toFile();
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log)).redirectInput(ProcessBuilder.Redirect.PIPE).start();
    p.getOutputStream().close();
    processes.put(id, p);
    Files.writeString(dir.resolve(id + ".pid"), Long.toString(p.pid()) + "\n"); // for scripts cleaning up after a crash
  }

  /** SIGKILL, and waits until the process is gone. */
  public void kill(String id) throws InterruptedException {
    Process p;
    synchronized (this) {
      p = processes.get(id);
    }
    if (p != null) {
      p.destroyForcibly();
      p.waitFor(30, TimeUnit.SECONDS);
    }
  }

  public synchronized boolean isAlive(String id) {
    Process p = processes.get(id);
    return p != null && p.isAlive();
  }

  public synchronized long pid(String id) {
    Process p = processes.get(id);
    return p == null ? -1 : p.pid();
  }

  /** CPU time used so far by the live server processes (ns). */
  public synchronized long cpuNanos() {
    long total = 0;
    for (Process p : processes.values()) {
      total += p.info().totalCpuDuration().map(Duration::toNanos).orElse(0L);
    }
    return total;
  }

  public List<PeerStatus> status() {
    return admin.status();
  }

  /** The leader's id, or null when no reachable peer says it leads. */
  public String leaderOrNull() {
    try {
      return ClusterAdmin.leader(status()).map(PeerStatus::id).orElse(null);
    } catch (RuntimeException e) {
      // electing
    }
    return null;
  }

  public String awaitLeader(Duration timeout) throws IOException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      String l = leaderOrNull();
      if (l != null) {
        return l;
      }
      for (String id : IDS) {
        if (!isAlive(id) && processes.containsKey(id) && processes.size() == IDS.size() && allExited()) {
          throw new IOException("every server exited; see " + dir + "/n*.log");
        }
      }
      sleepMs(100);
    }
    throw new IOException("no leader after " + timeout.toSeconds() + " s; see " + dir + "/n*.log");
  }

  private synchronized boolean allExited() {
    return processes.values().stream().noneMatch(Process::isAlive);
  }

  /** Waits until every node is reachable and reports the same applied index (the cluster is quiet). */
  public boolean awaitCaughtUp(Duration timeout) {
    return awaitCaughtUp(timeout, 0);
  }

  /** Waits until every node is reachable and has applied at least the highest commit index minus {@code slack}. */
  public boolean awaitCaughtUp(Duration timeout, long slack) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      try {
        List<PeerStatus> st = status();
        if (st.stream().allMatch(PeerStatus::reachable)) {
          long max = st.stream().mapToLong(PeerStatus::commitIndex).max().orElse(0);
          if (st.stream().allMatch(s -> s.appliedIndex() >= max - slack)) {
            return true;
          }
        }
      } catch (RuntimeException e) {
        // ask again
      }
      sleepMs(200);
    }
    return false;
  }

  /** SIGTERM to every process this instance started, SIGKILL after 30 s; waits for each. */
  @Override
  public synchronized void close() {
    for (Process p : processes.values()) {
      if (p.isAlive()) {
        p.destroy();
      }
    }
    for (Process p : processes.values()) {
      try {
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
          p.destroyForcibly();
          p.waitFor(10, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        p.destroyForcibly();
        Thread.currentThread().interrupt();
      }
    }
    processes.clear();
    admin.close();
    for (String id : IDS) {
      try {
        Files.deleteIfExists(dir.resolve(id + ".pid"));
      } catch (IOException e) {
        // best effort
      }
    }
  }

  static void sleepMs(long ms) {
    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(ms));
  }
}
