package io.cohort.tools.commands;

import com.beust.jcommander.ParameterException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** Checks positional and option values; a malformed one is bad usage (exit 2) and nothing is sent. */
final class Args {
  private Args() {}

  static int partition(String s) {
    try {
      int p = Integer.parseInt(s);
      if (p < 0) {
        throw new NumberFormatException();
      }
      return p;
    } catch (NumberFormatException e) {
      throw new ParameterException("partition must be a whole number >= 0, got '" + s + "'");
    }
  }

  /** "0,3,7" to [0, 3, 7]; a repeated partition is refused. */
  static List<Integer> partitions(String s) {
    Set<Integer> out = new LinkedHashSet<>();
    for (String part : s.split(",", -1)) {
      if (!out.add(partition(part.strip()))) {
        throw new ParameterException("partition " + part.strip() + " is named twice in --partitions " + s);
      }
    }
    return new ArrayList<>(out);
  }

  static double positiveDouble(String what, String s) {
    try {
      double d = Double.parseDouble(s);
      if (!(d > 0) || Double.isInfinite(d)) {
        throw new NumberFormatException();
      }
      return d;
    } catch (NumberFormatException e) {
      throw new ParameterException(what + " must be a number > 0, got '" + s + "'");
    }
  }

  /** An unsigned 64-bit hash key, hex with 0x or decimal. */
  static long hashKey(String s) {
    try {
      if (s.startsWith("0x") || s.startsWith("0X")) {
        return Long.parseUnsignedLong(s.substring(2), 16);
      }
      return Long.parseUnsignedLong(s);
    } catch (NumberFormatException e) {
      throw new ParameterException("key must be an unsigned 64-bit number (hex 0x... or decimal), got '" + s + "'");
    }
  }

  /**
   * A name for something new. The cluster checks names (R9); the CLI refuses at once what can
   * never be right on a command line or as a file name: "." and "..".
   */
  static String newName(String kind, String name) {
    if (name.equals(".") || name.equals("..")) {
      throw new ParameterException(kind + " name '" + name + "' is not allowed");
    }
    return name;
  }

  private static final java.util.regex.Pattern DURATION = java.util.regex.Pattern.compile("(\\d{1,12})(ms|s|m|h|d)");

  /** "7d", "12h", "30m", "90s", "1500ms", or "0": milliseconds. */
  static long durationMs(String option, String s) {
    if (s.equals("0")) {
      return 0;
    }
    java.util.regex.Matcher m = DURATION.matcher(s);
    if (!m.matches()) {
      throw new ParameterException(option + " must be a duration like 7d, 12h, 30m, 90s, 1500ms, or 0, got '" + s + "'");
    }
    long n = Long.parseLong(m.group(1));
    long unit = switch (m.group(2)) {
      case "ms" -> 1;
      case "s" -> 1_000;
      case "m" -> 60_000;
      case "h" -> 3_600_000;
      default -> 86_400_000;
    };
    if (n > Long.MAX_VALUE / unit) {
      throw new ParameterException(option + " is too long: '" + s + "'");
    }
    return n * unit;
  }

  /** Topics of a group: each once. */
  static List<String> distinctTopics(List<String> topics) {
    Set<String> seen = new LinkedHashSet<>();
    for (String t : topics) {
      if (!seen.add(newName("topic", t))) {
        throw new ParameterException("topic '" + t + "' is named twice");
      }
    }
    return new ArrayList<>(seen);
  }
}
