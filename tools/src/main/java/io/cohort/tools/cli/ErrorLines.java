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
      return new Failure(CommandLine.FAILED, where == null ? "cluster unreachable after " + timeoutSeconds + " s"
          : "cluster unreachable at " + where + " after " + timeoutSeconds + " s");
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

  static Throwable unwrap(Throwable t) {
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
