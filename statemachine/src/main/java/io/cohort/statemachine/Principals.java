package io.cohort.statemachine;

/**
 * Who a command or query comes from (R11). A principal is a client certificate's subject CN, as
 * the server's gRPC interceptor read it; two names are reserved: {@link #INTERNAL} for the
 * leader's own commands (no certificate can name it: '#' is not a principal character) and {@link
 * #ANONYMOUS}, every caller of an insecure cluster (a secure server refuses a certificate with that
 * CN).
 */
public final class Principals {
  /** The leader's own commands (ticks, bootstrap): they never pass the interceptor. */
  public static final String INTERNAL = "#internal";
  /** Every caller of a cluster started with {@code --insecure}. */
  public static final String ANONYMOUS = "anonymous";
  public static final int MAX_LENGTH = 255;

  private Principals() {}

  /**
   * Null when {@code name} can be a certificate's principal, else why not: 1..255 characters of
   * {@code [A-Za-z0-9 ._@+=:-]}, not starting or ending with a space.
   */
  public static String problem(String name) {
    if (name.isEmpty()) {
      return "principal is empty";
    }
    if (name.length() > MAX_LENGTH) {
      return "principal is longer than " + MAX_LENGTH + " characters (" + name.length() + ")";
    }
    if (name.charAt(0) == ' ' || name.charAt(name.length() - 1) == ' ') {
      return "principal " + Text.quote(name) + " starts or ends with a space";
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
          || c == ' ' || c == '.' || c == '_' || c == '@' || c == '+' || c == '=' || c == ':' || c == '-';
      if (!ok) {
        return "principal " + Text.quote(name) + " has a character outside [A-Za-z0-9 ._@+=:-] at position " + i;
      }
    }
    return null;
  }

  /** Null when {@code pattern} names groups: a group name, a prefix ending in '*', or "*". */
  static String groupPatternProblem(String pattern) {
    if (pattern.equals("*")) {
      return null;
    }
    String name = pattern.endsWith("*") ? pattern.substring(0, pattern.length() - 1) : pattern;
    return Names.problem("group pattern", name);
  }

  /** Whether the pattern (as {@link #groupPatternProblem} accepts) covers the group. */
  static boolean covers(String pattern, String group) {
    return pattern.endsWith("*") ? group.startsWith(pattern.substring(0, pattern.length() - 1))
        : pattern.equals(group);
  }
}
