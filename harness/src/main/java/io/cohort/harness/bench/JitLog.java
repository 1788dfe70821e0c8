package io.cohort.harness.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * What a server JVM's JIT did by a given age, read from its {@code -Xlog:jit+compilation=debug}
 * file (the {@code PrintCompilation} format, decorated with the JVM's uptime) and the {@code
 * -XX:+CITime} totals it prints on exit.
 */
final class JitLog {
  /** The JVM options that make a server write what this reads; {@code %p} becomes the pid. */
  static List<String> javaOpts(Path dir) {
    return List.of("-XX:+CITime", "-Xlog:jit+compilation=debug:file=" + dir.resolve("jit-%p.log") + ":uptime");
  }

  /** The log file of the process {@code pid} that {@link #javaOpts} asked for. */
  static Path file(Path dir, long pid) {
    return dir.resolve("jit-" + pid + ".log");
  }

  // [12.345s]   4321   %  !   4       some.Class::method @ 12 (345 bytes)   made not entrant
  private static final Pattern LINE = Pattern.compile("^\\[(\\d+\\.\\d+)s\\]\\s+\\d+\\s+([%sbn! ]*?)\\s*(\\d)\\s+\\S+.*$");
  private static final Pattern CI_TIME = Pattern.compile("^\\s*(C1|C2) \\{speed: [^;]*; standard:\\s+([\\d.]+) s");

  /**
   * Counts up to an age: compilations at tiers 1-3 (C1) and at tier 4 (C2), and C2 code made not
   * entrant (a deoptimization that throws compiled code away, or its replacement by a newer one).
   */
  record Counts(double ageS, int c1, int c2, int c2NotEntrant) {}

  static Counts count(List<String> lines, double ageS) {
    int c1 = 0;
    int c2 = 0;
    int notEntrant = 0;
    for (String line : lines) {
      Matcher m = LINE.matcher(line);
      if (!m.matches() || Double.parseDouble(m.group(1)) > ageS || line.endsWith("made zombie")) {
        continue;
      }
      int tier = m.group(3).charAt(0) - '0';
      if (line.contains("made not entrant")) {
        notEntrant += tier == 4 ? 1 : 0;
      } else if (tier == 4) {
        c2++;
      } else if (tier >= 1) {
        c1++;
      }
    }
    return new Counts(ageS, c1, c2, notEntrant);
  }

  /** Seconds the C1 and C2 compilers spent over the JVM's life ({@code -XX:+CITime}), or null if absent. */
  static double[] compileSeconds(List<String> stdout) {
    double[] s = {Double.NaN, Double.NaN};
    for (String line : stdout) {
      Matcher m = CI_TIME.matcher(line);
      if (m.find()) {
        s[m.group(1).equals("C1") ? 0 : 1] = Double.parseDouble(m.group(2));
      }
    }
    return Double.isNaN(s[0]) && Double.isNaN(s[1]) ? null : s;
  }

  private static String seconds(double s) {
    return Double.isNaN(s) ? "-" : String.format("%.1f s", s);
  }

  /** One line per server: counts at each age and, when the JVM printed them, compile seconds to exit. */
  static String summary(String node, Path jitLog, Path stdout, double[] ages) {
    List<String> lines;
    try (Stream<String> s = Files.lines(jitLog)) {
      lines = s.toList();
    } catch (IOException | java.io.UncheckedIOException e) {
      return node + ": no JIT log (" + e.getMessage() + ")";
    }
    StringBuilder b = new StringBuilder(node).append(':');
    for (double age : ages) {
      Counts c = count(lines, age);
      b.append(String.format(" by %.0f s C1 %,d C2 %,d C2-not-entrant %,d;", age, c.c1(), c.c2(), c.c2NotEntrant()));
    }
    try (Stream<String> s = Files.lines(stdout)) {
      double[] secs = compileSeconds(s.toList());
      if (secs != null) {
        b.append(" compile time to exit C1 ").append(seconds(secs[0])).append(" C2 ").append(seconds(secs[1]));
      }
    } catch (IOException | java.io.UncheckedIOException e) {
      // no totals
    }
    return b.toString();
  }
}
