package io.cohort.tools.commands;

import com.beust.jcommander.ParameterException;

/** Parses positional arguments; a malformed one is bad usage (exit 2). */
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
}
