package io.cohort.harness.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * CPU time a JVM's JIT compiler threads, or all its threads by class, used so far, read from Linux
 * {@code /proc} (each thread's {@code comm} and the first field of its {@code schedstat}, ns on a
 * CPU). CPU time, unlike compile wall time, does not grow when other processes hold the cores, so
 * it compares runs on a shared machine. Where {@code /proc} is missing the figures are NaN (empty).
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
    Map<String, Long> ns = threadNanos(pid, c -> c.startsWith("C1 CompilerThre") || c.startsWith("C2 CompilerThre"));
    if (ns == null) {
      return Seconds.UNKNOWN;
    }
    long c1 = 0;
    long c2 = 0;
    for (Map.Entry<String, Long> e : ns.entrySet()) {
      if (e.getKey().startsWith("C1")) {
        c1 += e.getValue();
      } else {
        c2 += e.getValue();
      }
    }
    return new Seconds(c1 / 1e9, c2 / 1e9);
  }

  /**
   * Every thread's CPU so far, in seconds, by thread class: the thread's {@code comm} (its name cut
   * to 15 characters by Linux) with each run of digits written {@code #}, so that {@code n1@group-1}'s
   * and {@code n2@group-1}'s threads, or the pool threads of one pool, add up. Empty when unknown.
   */
  static Map<String, Double> byThread(long pid) {
    Map<String, Double> out = new TreeMap<>();
    Map<String, Long> ns = threadNanos(pid, c -> true);
    if (ns != null) {
      ns.forEach((comm, n) -> out.merge(comm.replaceAll("[0-9]+", "#"), n / 1e9, Double::sum));
    }
    return out;
  }

  /**
   * CPU ns so far of the threads of {@code pid} whose {@code comm} passes {@code which}, summed by
   * {@code comm}; null when unknown (no such process, no /proc). A thread that exits while this
   * reads is left out.
   */
  private static Map<String, Long> threadNanos(long pid, Predicate<String> which) {
    if (pid <= 0 || !available()) {
      return null;
    }
    Map<String, Long> out = new TreeMap<>();
    try (Stream<Path> tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
      for (Path t : (Iterable<Path>) tasks::iterator) {
        try {
          String comm = Files.readString(t.resolve("comm")).strip();
          if (which.test(comm)) {
            out.merge(comm, Long.parseLong(Files.readString(t.resolve("schedstat")).strip().split("\\s+")[0]), Long::sum);
          }
        } catch (IOException | RuntimeException e) {
          // the thread exited while we looked
        }
      }
    } catch (IOException | RuntimeException e) {
      return null;
    }
    return out;
  }

  /** {@link #byThread(long)} summed over the processes of {@code servers} (empty without processes). */
  static Map<String, Double> byThread(ServerProcesses servers) {
    Map<String, Double> sum = new TreeMap<>();
    if (servers != null) {
      for (String id : ServerProcesses.IDS) {
        byThread(servers.pid(id)).forEach((k, v) -> sum.merge(k, v, Double::sum));
      }
    }
    return sum;
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
