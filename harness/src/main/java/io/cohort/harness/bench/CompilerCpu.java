package io.cohort.harness.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * CPU time a JVM's JIT compiler threads used so far, read from Linux {@code /proc} (each thread's
 * {@code comm} and the first field of its {@code schedstat}, ns on a CPU). CPU time, unlike
 * compile wall time, does not grow when other processes hold the cores, so it compares runs on a
 * shared machine. Where {@code /proc} is missing the figures are NaN.
 */
final class CompilerCpu {
  /** C1 and C2 compiler threads' CPU so far, in seconds (NaN when unknown). */
  record Seconds(double c1, double c2) {
    static final Seconds UNKNOWN = new Seconds(Double.NaN, Double.NaN);

    Seconds minus(Seconds o) {
      return new Seconds(c1 - o.c1, c2 - o.c2);
    }

    Seconds plus(Seconds o) {
      return new Seconds(c1 + o.c1, c2 + o.c2);
    }
  }

  private CompilerCpu() {}

  static boolean available() {
    return Files.isReadable(Path.of("/proc/self/task"));
  }

  /** The compiler threads' CPU of process {@code pid} (a thread that exited no longer counts). */
  static Seconds of(long pid) {
    if (pid <= 0 || !available()) {
      return Seconds.UNKNOWN;
    }
    long c1 = 0;
    long c2 = 0;
    try (Stream<Path> tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
      for (Path t : (Iterable<Path>) tasks::iterator) {
        String comm;
        long ns;
        try {
          comm = Files.readString(t.resolve("comm")).strip();
          if (!comm.startsWith("C1 CompilerThre") && !comm.startsWith("C2 CompilerThre")) {
            continue;
          }
          ns = Long.parseLong(Files.readString(t.resolve("schedstat")).strip().split("\\s+")[0]);
        } catch (IOException | RuntimeException e) {
          continue; // the thread exited while we looked
        }
        if (comm.startsWith("C1")) {
          c1 += ns;
        } else {
          c2 += ns;
        }
      }
    } catch (IOException | RuntimeException e) {
      return Seconds.UNKNOWN;
    }
    return new Seconds(c1 / 1e9, c2 / 1e9);
  }

  /** The sum over the processes of {@code servers} (UNKNOWN without processes). */
  static Seconds of(ServerProcesses servers) {
    if (servers == null) {
      return Seconds.UNKNOWN;
    }
    Seconds sum = new Seconds(0, 0);
    for (String id : ServerProcesses.IDS) {
      sum = sum.plus(of(servers.pid(id)));
    }
    return sum;
  }
}
