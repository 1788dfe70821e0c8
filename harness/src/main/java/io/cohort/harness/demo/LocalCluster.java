package io.cohort.harness.demo;

import io.cohort.client.CohortClientConfig;
import io.cohort.client.Peers;
import io.cohort.client.tls.TlsFiles;
import io.cohort.client.admin.ClusterAdmin;
import io.cohort.client.admin.PeerStatus;
import io.cohort.harness.bench.Ports;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The demo's three-node cluster, run by scripts/cluster.sh under the work dir; its leader and pids.
 * cluster.sh makes its certificates on first start (R11): the demo is the admin, its consumer
 * processes the principal {@code consumer}, which cluster.sh grants every group.
 */
final class LocalCluster implements AutoCloseable {
  private final Path root;
  private final Path dir;
  private final int basePort;
  private final String peers;
  private ClusterAdmin admin; // made after start: cluster.sh writes the certificates

  LocalCluster(Path root, Path dir, int basePort) {
    this.root = root;
    this.dir = dir;
    this.basePort = basePort;
    this.peers = Ports.peers(basePort);
    this.admin = null;
  }

  private ClusterAdmin admin() {
    if (admin == null) {
      admin = ClusterAdmin.connect(Peers.parse(peers), Duration.ofSeconds(1), tls("admin"));
    }
    return admin;
  }

  /** A principal's files as cluster.sh made them (DIR/tls/NAME.{crt,key}, DIR/tls/ca.crt). */
  TlsFiles tls(String principal) {
    Path tls = dir.resolve("cluster").resolve("tls");
    return new TlsFiles(tls.resolve(principal + ".crt"), tls.resolve(principal + ".key"), tls.resolve("ca.crt"));
  }

  /** The demo's own client: the admin. */
  CohortClientConfig adminConfig() {
    return CohortClientConfig.builder(peers).tls(tls("admin")).build();
  }

  String peers() {
    return peers;
  }

  /** Starts the nodes that are not running and waits for a leader (scripts/cluster.sh start). */
  void start() throws IOException, InterruptedException {
    script("start");
  }

  /** SIGTERM to exactly the pids it started, and waits (scripts/cluster.sh stop). */
  void stop() throws IOException, InterruptedException {
    script("stop");
  }

  long pid(String id) throws IOException {
    return Long.parseLong(Files.readString(dir.resolve("cluster").resolve(id + ".pid")).strip());
  }

  String leaderOrNull() {
    return ClusterAdmin.leader(admin().status()).map(PeerStatus::id).orElse(null);
  }

  String leader() {
    GroupProbe.await("a leader", () -> leaderOrNull() != null);
    return leaderOrNull();
  }

  private void script(String command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder("bash", root.resolve("scripts/cluster.sh").toString(), command,
        "--dir", dir.resolve("cluster").toString(), "--base-port", Integer.toString(basePort))
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("cluster.out").toFile()))
        .start();
    if (!p.waitFor(300, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IOException("scripts/cluster.sh " + command + " did not finish in 300 s");
    }
    if (p.exitValue() != 0) {
      throw new IOException("scripts/cluster.sh " + command + " failed; see " + dir.resolve("cluster.out"));
    }
  }

  @Override
  public void close() {
    if (admin != null) {
      admin.close();
    }
  }
}
