package io.cohort.server.snapshot;

import io.cohort.statemachine.Coordinator;
import io.cohort.statemachine.FrozenState;
import io.cohort.statemachine.Limits;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.apache.ratis.io.MD5Hash;
import org.apache.ratis.util.MD5FileUtil;

/**
 * Snapshot figures for docs/BENCHMARKS.md: for each checkpoint count, builds a coordinator through
 * {@code apply()} (topics of 10,000 partitions, one group per topic, every partition committed),
 * then times what the state machine does: {@code freeze()} on the apply thread (the apply pause),
 * the MapDB write plus MD5 sidecar (background), and the load (MD5 check, open, rebuild with the
 * checksum verified). One cold round, then {@value #ROUNDS} measured rounds: median and max. Run:
 * {@code scripts/bench-snapshot.sh}; figures in docs/BENCHMARKS.md, "Snapshots (raft-server)".
 *
 * <p>Arguments: checkpoint counts (multiples of 10,000), default 100000 1000000.
 */
public final class SnapshotBench {
  private static final int PARTITIONS = 10_000;
  private static final int ROUNDS = 5;

  public static void main(String[] args) throws Exception {
    long[] counts = args.length == 0 ? new long[] {100_000, 1_000_000}
        : Arrays.stream(args).mapToLong(Long::parseLong).toArray();
    Path dir = Files.createTempDirectory("cohort-snapshot-bench");
    System.out.printf("java %s, %d cores, max heap %d MB%n", System.getProperty("java.version"),
        Runtime.getRuntime().availableProcessors(), Runtime.getRuntime().maxMemory() >> 20);
    System.out.println("| checkpoints | build via apply (s) | apply pause = freeze() median / max (ms) | write + MD5 (ms) | file size (MB) | load (ms) | records |");
    System.out.println("|---:|---:|---:|---:|---:|---:|---:|");
    try {
      for (long n : counts) {
        run(n, dir);
      }
    } finally {
      try (var files = Files.list(dir)) {
        for (Path p : (Iterable<Path>) files::iterator) {
          Files.deleteIfExists(p);
        }
      }
      Files.deleteIfExists(dir);
    }
  }

  private static void run(long checkpoints, Path dir) throws Exception {
    int topics = (int) (checkpoints / PARTITIONS);
    long t0 = System.nanoTime();
    Coordinator c = StateFixture.build(topics, PARTITIONS, 1);
    double buildS = (System.nanoTime() - t0) / 1e9;

    double[] freezeMs = new double[ROUNDS];
    double[] writeMs = new double[ROUNDS];
    double[] loadMs = new double[ROUNDS];
    long bytes = 0;
    long records = 0;
    String expected = c.digest().getSha256();
    for (int r = -1; r < ROUNDS; r++) { // round -1 warms the JIT up and is not counted
      long f0 = System.nanoTime();
      FrozenState frozen = c.freeze();
      double freeze = (System.nanoTime() - f0) / 1e6;

      Path file = dir.resolve("snapshot.1_" + (c.appliedIndex() + r + 1));
      long w0 = System.nanoTime();
      SnapshotWriter.Written w = SnapshotWriter.write(frozen, 1, c.appliedIndex(), file, 0);
      MD5Hash md5 = MD5FileUtil.computeAndSaveMd5ForFile(file.toFile());
      double write = (System.nanoTime() - w0) / 1e6;
      bytes = w.bytes();
      records = w.records();

      long l0 = System.nanoTime();
      if (!md5.equals(MD5FileUtil.computeMd5ForFile(file.toFile()))) {
        throw new IllegalStateException("MD5 mismatch");
      }
      Coordinator loaded;
      try (SnapshotFile sf = SnapshotFile.open(file)) {
        loaded = sf.load(Limits.DEFAULTS);
      }
      double load = (System.nanoTime() - l0) / 1e6;
      if (!loaded.digest().getSha256().equals(expected) || !w.sha256().equals(expected)) {
        throw new IllegalStateException("loaded state differs");
      }
      Files.delete(file);
      Files.deleteIfExists(file.resolveSibling(file.getFileName() + ".md5"));
      if (r >= 0) {
        freezeMs[r] = freeze;
        writeMs[r] = write;
        loadMs[r] = load;
      } else {
        System.out.printf("(%,d checkpoints, cold first round: freeze %.1f ms, write %.0f ms, load %.0f ms)%n",
            checkpoints, freeze, write, load);
      }
    }
    Arrays.sort(freezeMs);
    Arrays.sort(writeMs);
    Arrays.sort(loadMs);
    System.out.printf("| %,d | %.1f | %.1f / %.1f | %.0f | %.1f | %.0f | %,d |%n", checkpoints, buildS,
        freezeMs[ROUNDS / 2], freezeMs[ROUNDS - 1], writeMs[ROUNDS / 2], bytes / 1048576.0,
        loadMs[ROUNDS / 2], records);
  }
}
