package io.cohort.server;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The audit trail (R11), on its own logger {@code cohort.audit} so operators can route it: every
 * admin command the leader appends or refuses, with its principal, outcome code and Raft index;
 * every PERMISSION_DENIED; and every call the gRPC interceptor refuses or lets through to Ratis'
 * admin API. One line each, {@code key=value}.
 */
public final class Audit {
  public static final String LOGGER = "cohort.audit";
  private static final Logger LOG = LoggerFactory.getLogger(LOGGER);

  private Audit() {}

  /** A command the leader applied (index) or refused before the log (index -1). */
  public static void command(String node, String principal, String command, String code, long index, String message) {
    LOG.info("node={} principal={} command={} code={} index={} message={}", node, quote(principal), command, code,
        index < 0 ? "-" : Long.toString(index), quote(message));
  }

  /** A call the interceptor refused or passed (Ratis' admin API). */
  public static void call(String node, String principal, String method, String outcome, String reason) {
    LOG.info("node={} principal={} call={} outcome={} message={}", node, quote(principal), method, outcome,
        quote(reason));
  }

  private static String quote(String s) {
    if (s == null) {
      return "\"\"";
    }
    String one = s.length() > 300 ? s.substring(0, 300) + "..." : s;
    return "\"" + one.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", " ") + "\"";
  }
}
