package io.cohort.server.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code cohort server ...} in a JVM of its own (the test class path), as an operator runs it: its
 * exit code, stdout (the node's log) and stderr (what the operator must act on) are what tests
 * check. Stopped (SIGKILL) on close if still running.
 */
public final class ServerProcess implements AutoCloseable {
  private final Process process;
  private final Path out;
  private final Path err;

  private ServerProcess(Process process, Path out, Path err) {
    this.process = process;
    this.out = out;
    this.err = err;
  }

  /** Starts {@code io.cohort.server.ServerMain server ARGS}; its output goes to files under {@code dir}. */
  public static ServerProcess start(Path dir, String name, String... args) throws IOException {
    Files.createDirectories(dir);
    List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
        "-XX:+UseSerialGC", "-Xmx256m", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
        "io.cohort.server.ServerMain", "server"));
    cmd.addAll(List.of(args));
    Path out = dir.resolve(name + ".out");
    Path err = dir.resolve(name + ".err");
    Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile())
        .redirectInput(ProcessBuilder.Redirect.PIPE).start();
    p.getOutputStream().close();
    return new ServerProcess(p, out, err);
  }

  /** Waits for the process to exit; its exit code. */
  public int awaitExit(Duration timeout) throws InterruptedException {
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new AssertionError("server process still running after " + timeout.toSeconds() + " s; stderr: " + stderr());
    }
    return process.exitValue();
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  public long pid() {
    return process.pid();
  }

  /** SIGTERM (graceful stop). */
  public void terminate() {
    process.destroy();
  }

  public String stdout() {
    return read(out);
  }

  public String stderr() {
    return read(err);
  }

  private static String read(Path p) {
    try {
      return Files.exists(p) ? Files.readString(p, StandardCharsets.UTF_8) : "";
    } catch (IOException e) {
      return "(cannot read " + p + ": " + e + ")";
    }
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      process.destroyForcibly();
      process.waitFor(30, TimeUnit.SECONDS);
    }
  }
}
