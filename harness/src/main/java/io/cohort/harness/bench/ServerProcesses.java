package io.cohort.harness.bench;

import io.cohort.client.Peers;
import io.cohort.client.CohortClientConfig;
import io.cohort.client.admin.ClusterAdmin;
import io.cohort.client.tls.TlsFiles;
import io.cohort.client.admin.PeerStatus;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Three server processes on loopback (n1..n3), started from this JVM's class path: Cohort servers
 * ({@code cohort server}) or the no-op baseline ({@link NoopServer}). Cohort servers run with
 * mutual TLS unless asked for plaintext: certificates made for the run under {@code dir/tls}
 * ({@link LocalCerts}), the bootstrap admin {@code admin} whose certificate {@link #clientConfig}
 * uses. Keeps each process it started, kills (SIGKILL) and restarts them by handle, and stops
 * exactly those on close. The initial members bootstrap on their first start; a node added later
 * ({@link #startJoining}) starts empty with {@code --join} on a port of its own, and a removed one
 * is forgotten.
 */
public final class ServerProcesses implements AutoCloseable {
  public enum Kind {
    COHORT, NOOP
  }

  /** The initial members. */
  public static final List<String> IDS = List.of("n1", "n2", "n3");
  /**
   * The servers' JVM options unless told otherwise, as scripts/cluster.sh and the systemd unit use:
   * ZGC, whose pauses stay far below the 250 ms minimum election timeout (G1 paused a loaded
   * leader 405 ms and cost it its term: docs/BENCHMARKS.md "soak"), with a 2 GB ceiling: under full
   * write load Ratis keeps 60 s of replies in its retry cache, and at 1 GB ZGC stalled allocations.
   */
  public static final String DEFAULT_JAVA_OPTS = "-XX:+UseZGC -Xms256m -Xmx2g";
  /** In a JVM option, stands for the node's id (per-node files: archives, recordings). */
  public static final String NODE_ID = "{id}";
  /** In a JVM option, stands for the kind, {@code cohort} or {@code noop} (one file per kind in an A B run). */
  public static final String KIND = "{kind}";

  private final Kind kind;
  private final Path dir;
  private final List<String> javaOpts;
  private final List<String> extraArgs;
  /** Current members (and nodes waiting to join), id to address. */
  private final Map<String, String> members = new LinkedHashMap<>();
  private final Map<String, Process> processes = new LinkedHashMap<>();
  private final LocalCerts certs; // null: plaintext
  private final java.util.Set<String> joining = new java.util.HashSet<>();
  private final java.util.Set<String> startedOnce = new java.util.HashSet<>();
  private ClusterAdmin admin;
  private final long startedNanos = System.nanoTime();
  /** Every process started, for the exit hook: a bench stopped by a signal stops its servers too. */
  private final List<Process> everStarted = new java.util.concurrent.CopyOnWriteArrayList<>();
  private final Thread stopOnExit = new Thread(() -> everStarted.forEach(Process::destroy), "stop-servers-on-exit");

  private ServerProcesses(Kind kind, Path dir, int basePort, List<String> javaOpts, List<String> extraArgs,
      LocalCerts certs) throws IOException {
    this.kind = kind;
    this.dir = dir;
    for (int i = 0; i < IDS.size(); i++) {
      members.put(IDS.get(i), "127.0.0.1:" + (basePort + i));
    }
    this.javaOpts = List.copyOf(javaOpts);
    this.extraArgs = List.copyOf(extraArgs);
    this.certs = certs;
    this.admin = ClusterAdmin.connect(Peers.parse(peers()), Duration.ofSeconds(1), adminTls());
    Runtime.getRuntime().addShutdownHook(stopOnExit);
  }

  /**
   * Starts n1..n3 on free ports with storage under {@code dir} and waits (up to 120 s) for a leader.
   *
   * @param javaOpts the servers' JVM options ({@value #NODE_ID} in one becomes the node's id, {@value #KIND} its kind)
   * @param ratis Ratis properties passed to every server ({@code --ratis k=v})
   */
  public static ServerProcesses start(Kind kind, Path dir, List<String> javaOpts, Map<String, String> ratis,
      List<String> serverArgs) throws IOException {
    return start(kind, dir, javaOpts, ratis, serverArgs, kind == Kind.COHORT);
  }

  /** @param secure mutual TLS (Cohort servers only; the no-op baseline is plaintext) */
  public static ServerProcesses start(Kind kind, Path dir, List<String> javaOpts, Map<String, String> ratis,
      List<String> serverArgs, boolean secure) throws IOException {
    Files.createDirectories(dir);
    List<String> extra = new ArrayList<>(serverArgs);
    ratis.forEach((k, v) -> {
      extra.add("--ratis");
      extra.add(k + "=" + v);
    });
    ServerProcesses s = new ServerProcesses(kind, dir, Ports.freeBase(), javaOpts, extra,
        secure ? LocalCerts.in(dir.resolve("tls")) : null);
    try {
      for (String id : s.ids()) {
        s.startNode(id);
      }
      s.awaitLeader(Duration.ofSeconds(120));
    } catch (IOException | RuntimeException e) {
      s.close();
      throw e;
    }
    return s;
  }

  /** The members (and nodes waiting to join) as {@code id=host:port,...}. */
  public synchronized String peers() {
    StringBuilder b = new StringBuilder();
    members.forEach((id, address) -> b.append(b.length() == 0 ? "" : ",").append(id).append('=').append(address));
    return b.toString();
  }

  /** The ids of the members (and of nodes waiting to join), in the order they came. */
  public synchronized List<String> ids() {
    return List.copyOf(members.keySet());
  }

  public synchronized String address(String id) {
    return members.get(id);
  }

  /** Starts a new, empty node with {@code --join} on a free port (it waits to be added). */
  public void startJoining(String id) throws IOException {
    synchronized (this) {
      if (members.containsKey(id)) {
        throw new IllegalArgumentException("node " + id + " exists");
      }
      try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
        members.put(id, "127.0.0.1:" + s.getLocalPort());
      }
      joining.add(id);
      refreshAdmin();
    }
    startNode(id);
  }

  /**
   * Forgets a node removed from the configuration: waits (up to {@code timeout}) for its process to
   * stop by itself and returns its exit code, or kills it and returns -1.
   */
  public int forget(String id, Duration timeout) throws InterruptedException {
    Process p;
    synchronized (this) {
      p = processes.remove(id);
      members.remove(id);
      refreshAdmin();
    }
    int code = -1;
    if (p != null) {
      if (p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        code = p.exitValue();
      } else {
        p.destroyForcibly();
        p.waitFor(30, TimeUnit.SECONDS);
      }
    }
    try {
      Files.deleteIfExists(dir.resolve(id + ".pid"));
    } catch (IOException e) {
      // best effort
    }
    return code;
  }

  private void refreshAdmin() {
    ClusterAdmin old = admin;
    TlsFiles tls;
    try {
      tls = adminTls();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    admin = ClusterAdmin.connect(Peers.parse(peers()), Duration.ofSeconds(1), tls);
    old.close();
  }

  private synchronized ClusterAdmin admin() {
    return admin;
  }

  public Path dir() {
    return dir;
  }

  public Kind kind() {
    return kind;
  }

  /** True when the servers run mutual TLS. */
  public boolean secure() {
    return certs != null;
  }

  /** The bootstrap admin's certificate, or null for plaintext servers. */
  public TlsFiles adminTls() throws IOException {
    return certs == null ? null : certs.user(LocalCerts.ADMIN);
  }

  /** A user certificate of the run's CA for {@code principal} (its rights come from the ACL). */
  public TlsFiles tls(String principal) throws IOException {
    if (certs == null) {
      throw new IllegalStateException("the servers run plaintext");
    }
    return certs.user(principal);
  }

  /** A client of these servers as the admin, with their transport. */
  public CohortClientConfig.Builder clientConfig() throws IOException {
    return clientConfig(adminTls());
  }

  /** The `cohort` flags that give a CLI process the same transport as this client configuration. */
  public static List<String> transportArgs(CohortClientConfig config) {
    TlsFiles t = config.tls();
    return t == null ? List.of("--insecure") : List.of("--tls-cert", t.cert().toString(), "--tls-key",
        t.key().toString(), "--tls-ca", t.ca().toString());
  }

  /** A client of these servers with this certificate (ignored on plaintext servers). */
  public CohortClientConfig.Builder clientConfig(TlsFiles tls) {
    CohortClientConfig.Builder b = CohortClientConfig.builder(peers());
    return certs == null ? b.insecure() : b.tls(tls);
  }

  /** Each node's HTTP endpoint ({@code 127.0.0.1:port}): its Raft port plus the server's default offset. */
  public synchronized List<String> httpEndpoints() {
    List<String> out = new ArrayList<>();
    for (Peers.Peer p : Peers.parse(peers()).list()) {
      out.add(p.host() + ":" + io.cohort.server.metrics.MetricsSettings.defaultsFor(p.port()).httpPort());
    }
    return out;
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
    javaOpts.forEach(o -> cmd.add(o.replace(NODE_ID, id).replace(KIND, kind.name().toLowerCase(Locale.ROOT))));
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    if (kind == Kind.COHORT) {
      cmd.addAll(List.of("io.cohort.server.ServerMain", "server")); // the raft-server main: takes --ratis
      if (!startedOnce.contains(id)) { // later starts recover from the node's storage
        cmd.add(joining.contains(id) ? "--join" : "--bootstrap");
      }
    } else {
      cmd.add(NoopServer.class.getName());
    }
    startedOnce.add(id);
    String peerList = joining.contains(id) ? id + "=" + members.get(id) : peers();
    cmd.addAll(List.of("--id", id, "--storage", dir.resolve(id).toString(), "--peers", peerList));
    if (certs != null) {
      TlsFiles tls = certs.node(id);
      cmd.addAll(List.of("--tls-cert", tls.cert().toString(), "--tls-key", tls.key().toString(),
          "--tls-ca", tls.ca().toString(), "--admin", LocalCerts.ADMIN));
    } else {
      cmd.add("--insecure"); // plaintext, said explicitly
    }
    cmd.addAll(extraArgs);
    File log = dir.resolve(id + ".log").toFile();
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log)).redirectInput(ProcessBuilder.Redirect.PIPE).start();
    p.getOutputStream().close();
    everStarted.add(p);
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

  /**
   * Stops the process (SIGSTOP) for {@code ms}, then lets it go on (SIGCONT): a whole-node stall, as
   * a long collector pause or a frozen VM would be.
   */
  public void pause(String id, long ms) throws IOException, InterruptedException {
    long pid = pid(id);
    if (pid < 0) {
      throw new IllegalStateException(id + " is not running");
    }
    signal("STOP", pid);
    try {
      sleepMs(ms);
    } finally {
      signal("CONT", pid);
    }
  }

  private static void signal(String name, long pid) throws IOException, InterruptedException {
    Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(pid)).redirectErrorStream(true).start();
    if (kill.waitFor() != 0) {
      throw new IOException("kill -" + name + " " + pid + " failed: " + new String(kill.getInputStream().readAllBytes()));
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
    return admin().status();
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

  /** A leader other than {@code previous} within {@code timeout} (null: none), as after stalling {@code previous}. */
  public String awaitOtherLeader(String previous, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      String l = leaderOrNull();
      if (l != null && !l.equals(previous)) {
        return l;
      }
      sleepMs(20);
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
      if (!processes.isEmpty() && allExited()) {
        throw new IOException("every server exited; see " + dir + "/n*.log");
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
    List<String> ids = new ArrayList<>(processes.keySet());
    ids.addAll(members.keySet());
    processes.clear();
    everStarted.clear();
    try {
      Runtime.getRuntime().removeShutdownHook(stopOnExit);
    } catch (IllegalStateException exiting) {
      // closed by the exit hook's own shutdown: nothing to remove
    }
    admin.close();
    for (String id : ids) {
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
