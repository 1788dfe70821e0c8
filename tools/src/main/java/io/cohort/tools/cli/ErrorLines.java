package io.cohort.tools.cli;

import com.beust.jcommander.ParameterException;
import io.cohort.client.CohortException;
import io.cohort.client.CohortRejectedException;
import io.cohort.client.CohortUnavailableException;
import io.cohort.server.ConfigException;
import io.cohort.server.snapshot.CorruptSnapshotException;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.regex.Pattern;

/**
 * The one place that turns a failure into what the operator sees: one line, the code once, no
 * stack trace, no Ratis class names, no raw bytes; and an exit code (1 failed, 2 bad usage).
 */
public final class ErrorLines {
  /** A qualified exception class name and its colon, as Ratis and gRPC nest them in messages. */
  private static final Pattern QUALIFIED_EXCEPTION =
      Pattern.compile("\\b(?:[a-z_][a-z0-9_]*\\.)+[A-Z][A-Za-z0-9_$]*(?:Exception|Error)\\b:?\\s*");
  private static final int MAX_CHARS = 300;

  /** Attached to an unreachable failure of a plaintext command whose peer answered in TLS. */
  public static final class AnsweredInTls extends Exception {
    public AnsweredInTls(String peer) {
      super(peer + " answered in TLS", null, false, false);
    }
  }

  /** What the operator reads, and the exit code. */
  public record Failure(int exitCode, String line) {}

  private ErrorLines() {}

  /**
   * @param where the cluster the command talked to ("n1=...,n2=...") or null
   * @param timeoutSeconds the command's --timeout, for the unreachable line
   */
  public static Failure describe(Throwable t, String where, long timeoutSeconds) {
    Throwable e = unwrap(t);
    if (e instanceof ParameterException || e instanceof IllegalArgumentException || e instanceof ConfigException) {
      return new Failure(CommandLine.USAGE, clean(e.getMessage()));
    }
    if (e instanceof CohortRejectedException r) {
      String m = r.getMessage() == null ? "" : r.getMessage();
      String prefix = r.code().name() + ": ";
      while (m.startsWith(prefix)) { // the exception's message already starts with its code
        m = m.substring(prefix.length());
      }
      return new Failure(CommandLine.FAILED, r.code().name() + ": " + clean(m));
    }
    if (e instanceof CohortUnavailableException) {
      String tls = tlsProblem(e);
      String at = where == null ? "" : " at " + where;
      if (tls != null) {
        return new Failure(CommandLine.FAILED, "TLS handshake with the cluster" + at + " failed: " + tls);
      }
      return new Failure(CommandLine.FAILED, "cluster unreachable" + at + " after " + timeoutSeconds + " s"
          + (plaintextToTls(e) ? " (plaintext to a TLS port? --insecure reaches only a cluster started --insecure)" : ""));
    }
    if (e instanceof CohortException || e instanceof CorruptSnapshotException || e instanceof CommandFailedException) {
      return new Failure(CommandLine.FAILED, clean(e.getMessage()));
    }
    if (e instanceof NoSuchFileException f) {
      return new Failure(CommandLine.FAILED, "no such file: " + f.getFile());
    }
    if (e instanceof IOException) {
      return new Failure(CommandLine.FAILED, clean(e.getMessage()));
    }
    return new Failure(CommandLine.FAILED, "internal error (" + e.getClass().getSimpleName() + "): " + clean(e.getMessage()));
  }

  /**
   * R11: why a TLS handshake failed, in an operator's words, or null when the failure was not one.
   * Our side refusing the cluster's certificate carries the JDK's reason; the cluster refusing ours
   * shows only as an alert (gRPC's OpenSSL says "ALERT", the JDK of a {@code TlsProbe} "Received fatal alert").
   */
  public static String tlsProblem(Throwable e) {
    String reason = tlsProblemIn(e);
    for (Throwable t = e; t != null && reason == null; t = t.getCause() == t ? null : t.getCause()) {
      for (Throwable earlier : t.getSuppressed()) { // an earlier attempt's TLS failure (the client keeps it)
        reason = tlsProblemIn(earlier);
        if (reason != null) {
          break;
        }
      }
    }
    return reason;
  }

  private static String tlsProblemIn(Throwable e) {
    String reason = null;
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      String m = t.getMessage() == null ? "" : t.getMessage();
      if (t instanceof java.security.cert.CertificateException || t instanceof java.security.cert.CertPathValidatorException) {
        reason = "the cluster's certificate is not trusted (" + clean(m) + "): is --tls-ca this cluster's CA?";
      } else if (reason == null && (m.contains("ALERT") || m.contains("Received fatal alert") || m.contains("ssl exception"))) {
        reason = "the cluster refused this certificate: is --tls-cert from this cluster's CA, and not expired?";
      }
    }
    return reason;
  }

  /** gRPC's close of a plaintext call by a TLS port (not on every attempt: a reset says "io exception"), or a probe's finding. */
  private static boolean plaintextToTls(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t.getMessage() != null && t.getMessage().contains("Network closed for unknown reason")) {
        return true;
      }
      for (Throwable s : t.getSuppressed()) {
        if (s instanceof AnsweredInTls) {
          return true;
        }
      }
    }
    return false;
  }

  public static Throwable unwrap(Throwable t) {
    Throwable e = t;
    while ((e instanceof CompletionException || e instanceof ExecutionException) && e.getCause() != null) {
      e = e.getCause();
    }
    return e;
  }

  /** The first line, without qualified exception names or control characters, at most 300 chars. */
  public static String clean(String message) {
    if (message == null || message.isBlank()) {
      return "no reason given";
    }
    String line = message.strip().lines().findFirst().orElse("").strip();
    line = QUALIFIED_EXCEPTION.matcher(line).replaceAll("");
    StringBuilder b = new StringBuilder(line.length());
    line.codePoints().forEach(c -> b.appendCodePoint(Character.isISOControl(c) ? '?' : c));
    String out = b.toString().strip();
    if (out.isEmpty()) {
      return "no reason given";
    }
    return out.length() <= MAX_CHARS ? out : out.substring(0, MAX_CHARS) + "...";
  }
}
