package io.cohort.harness.bench;

import com.beust.jcommander.DynamicParameter;
import com.beust.jcommander.Parameter;
import io.cohort.client.CohortClient;
import io.cohort.client.CohortClientConfig;
import io.cohort.client.tls.TlsFiles;
import io.cohort.tools.ClusterOptions;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Options every {@code cohort bench} workload takes. */
public final class BenchOptions {
  @Parameter(names = "--peers", description = "measure a running cluster instead of starting three server processes")
  public String peers;

  @Parameter(names = "--dir", description = "work directory for the servers it starts (default: a new temporary one, deleted after)")
  public Path dir;

  @Parameter(names = "--server-java-opts", description = "JVM options of the server processes it starts ({id} in one becomes the node id, {kind} cohort or noop: per-node, per-kind files such as recordings)")
  public String serverJavaOpts = ServerProcesses.DEFAULT_JAVA_OPTS;

  @Parameter(names = "--server-args", description = "more arguments for the servers it starts, both kinds, e.g. "
      + "--server-args \"--warmup-ms 2000\" (the no-op takes the same flags as cohort server and ignores most)")
  public String serverArgs = "";

  @DynamicParameter(names = "--ratis", description = "a Ratis property for the servers it starts, e.g. --ratis raft.server.log.appender.wait-time.min=5ms (repeatable)")
  public Map<String, String> ratis = new LinkedHashMap<>();

  @Parameter(names = "--max-outstanding", description = "the bench client's Ratis outstanding-requests.max")
  public int maxOutstanding = 1024;

  @Parameter(names = "--keep-dir", description = "keep the work directory (server logs) after the run")
  public boolean keepDir;

  @Parameter(names = "--insecure", description = "plaintext: the servers it starts run --insecure (default: mutual TLS "
      + "with certificates made for the run); with --peers, a cluster started --insecure (also COHORT_INSECURE=1)")
  public boolean insecure;

  @Parameter(names = "--tls-cert", description = "with --peers: your certificate (default: $COHORT_TLS_CERT)")
  public String tlsCert;

  @Parameter(names = "--tls-key", description = "with --peers: its key (default: $COHORT_TLS_KEY)")
  public String tlsKey;

  @Parameter(names = "--tls-ca", description = "with --peers: the cluster's CA (default: $COHORT_TLS_CA)")
  public String tlsCa;

  /** A comma-separated list of positive whole numbers, or a clear refusal. */
  public static int[] positives(String option, String list) {
    try {
      int[] v = Arrays.stream(list.split(",")).map(String::trim).mapToInt(Integer::parseInt).toArray();
      if (v.length > 0 && Arrays.stream(v).allMatch(x -> x > 0)) {
        return v;
      }
    } catch (NumberFormatException e) {
      // refused below
    }
    throw new IllegalArgumentException(option + " takes comma-separated positive whole numbers, got '" + list + "'");
  }

  public List<String> serverJavaOptsList() {
    return words(serverJavaOpts);
  }

  /** {@link #serverArgs} split on white space, for every server a bench starts. */
  public List<String> serverArgsList() {
    return words(serverArgs);
  }

  /** A command-line string split on white space, no empty words. */
  public static List<String> words(String line) {
    return Arrays.stream(line.trim().split("\\s+")).filter(s -> !s.isEmpty()).toList();
  }

  public Path workDir(String prefix) throws IOException {
    if (dir != null) {
      // a kept dir holds Raft storage with the old run's ports: servers recovering it never elect
      if (Files.isDirectory(dir)) {
        try (var entries = Files.list(dir)) {
          if (entries.findAny().isPresent()) {
            throw new IllegalArgumentException("--dir " + dir + " is not empty: a bench starts new servers; "
                + "give a new or empty directory");
          }
        }
      }
      keepDir = true;
      return Files.createDirectories(dir);
    }
    return Files.createTempDirectory(prefix);
  }

  /** Creates the work dir and says where it is (the summary line stays the last line). */
  public Path workDir(String prefix, PrintStream out) throws IOException {
    Path d = workDir(prefix);
    out.println("work dir " + d + (keepDir ? " (kept after the run)" : " (deleted after the run)"));
    return d;
  }

  /** A bench client of the servers it started (their transport), or of --peers when null. */
  public CohortClient client(ServerProcesses servers) throws IOException {
    return CohortClient.connect(clientConfig(servers).maxOutstanding(maxOutstanding).build());
  }

  /** The configuration {@link #client} uses: the servers' admin certificate, or --tls-* / COHORT_TLS_* for --peers. */
  public CohortClientConfig.Builder clientConfig(ServerProcesses servers) throws IOException {
    if (servers != null) {
      return servers.clientConfig();
    }
    ClusterOptions c = new ClusterOptions();
    c.tlsCert = tlsCert;
    c.tlsKey = tlsKey;
    c.tlsCa = tlsCa;
    c.insecure = insecure;
    TlsFiles tls = c.tls(System.getenv());
    CohortClientConfig.Builder b = CohortClientConfig.builder(peers);
    return tls == null ? b.insecure() : b.tls(tls);
  }

  /** Starts three server processes of a kind under {@code dir/<kind>}, printing what it does. */
  public ServerProcesses startServers(ServerProcesses.Kind kind, Path dir, PrintStream out) throws IOException {
    return startServers(kind, dir, out, !insecure);
  }

  /** {@link #startServers(ServerProcesses.Kind, Path, PrintStream)} with mutual TLS on or off. */
  public ServerProcesses startServers(ServerProcesses.Kind kind, Path dir, PrintStream out, boolean secure)
      throws IOException {
    return startServers(kind, dir, out, secure, kind.name().toLowerCase());
  }

  /** ... under {@code dir/sub} (a fresh one per run: the servers' storage is there). */
  public ServerProcesses startServers(ServerProcesses.Kind kind, Path dir, PrintStream out, boolean secure, String sub)
      throws IOException {
    return startServers(kind, dir.resolve(sub), List.of(), out, secure);
  }

  /**
   * Starts three server processes of a kind under {@code dir}, with {@code extraJavaOpts} after
   * {@link #serverJavaOpts}, mutual TLS on or off (the no-op baseline too, with the same certificates),
   * printing what it does.
   */
  public ServerProcesses startServers(ServerProcesses.Kind kind, Path dir, List<String> extraJavaOpts, PrintStream out,
      boolean secure) throws IOException {
    return startServers(kind, dir, extraJavaOpts, List.of(), out, secure);
  }

  /** ... with {@code serverArgs} after the servers' own (e.g. {@code --http-port 0}). */
  public ServerProcesses startServers(ServerProcesses.Kind kind, Path dir, List<String> extraJavaOpts,
      List<String> serverArgs, PrintStream out, boolean secure) throws IOException {
    List<String> opts = new ArrayList<>(serverJavaOptsList());
    opts.addAll(extraJavaOpts);
    List<String> args = new ArrayList<>(serverArgs);
    args.addAll(serverArgsList());
    out.printf("starting 3 %s server processes (%s, JVM %s%s%s) ...%n",
        kind == ServerProcesses.Kind.COHORT ? "Cohort" : "no-op", secure ? "mutual TLS" : "plaintext",
        String.join(" ", opts), ratis.isEmpty() ? "" : ", ratis " + ratis,
        args.isEmpty() ? "" : ", args " + String.join(" ", args));
    out.flush();
    long t0 = System.nanoTime();
    ServerProcesses s = ServerProcesses.start(kind, dir, opts, ratis, args, secure);
    out.printf("  up on %s in %.1f s, leader %s%n", s.peers(), (System.nanoTime() - t0) / 1e9, s.leaderOrNull());
    out.flush();
    return s;
  }

  /** Deletes the work dir unless asked to keep it. */
  public void cleanUp(Path workDir, PrintStream out) {
    if (keepDir) {
      return;
    }
    deleteTree(workDir);
  }

  public static void deleteTree(Path root) {
    if (root == null || !Files.exists(root)) {
      return;
    }
    try (var walk = Files.walk(root)) {
      walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> {
        try {
          Files.deleteIfExists(p);
        } catch (IOException e) {
          // best effort
        }
      });
    } catch (IOException e) {
      // best effort
    }
  }
}
