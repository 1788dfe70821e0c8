package io.cohort.harness.demo;

import com.fasterxml.jackson.databind.JsonNode;
import io.cohort.client.tls.TlsFiles;
import io.cohort.tools.Cohort;
import io.cohort.tools.json.Json;
import io.cohort.tools.log.FileLog;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A real `cohort consume --json` process whose event lines go to a file the demo reads back. */
final class ConsumerProcess implements AutoCloseable {
  final String group;
  final String consumer;
  final Path events;
  private final Process process;

  private ConsumerProcess(String group, String consumer, Path events, Process process) {
    this.group = group;
    this.consumer = consumer;
    this.events = events;
    this.process = process;
  }

  /** Runs the CLI from this JVM's class path (the tools jar is on it). */
  static ConsumerProcess start(List<String> java, String peers, TlsFiles tls, String group, String consumer,
      FileLog log, Path workDir) throws IOException {
    Path events = workDir.resolve(group + "-" + consumer + ".jsonl");
    List<String> cmd = new ArrayList<>(java);
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Cohort.class.getName(), "consume", group,
        "--consumer", consumer, "--log-dir", log.dir().toString(), "--json", "--commit-every-ms", "200",
        "--peers", peers, "--tls-cert", tls.cert().toString(), "--tls-key", tls.key().toString(),
        "--tls-ca", tls.ca().toString()));
    Process p = new ProcessBuilder(cmd).redirectOutput(events.toFile())
        .redirectError(workDir.resolve(group + "-" + consumer + ".err").toFile()).start();
    return new ConsumerProcess(group, consumer, events, p);
  }

  long pid() {
    return process.pid();
  }

  /** The event lines written so far (a line still being written is left out). */
  List<JsonNode> events() throws IOException {
    List<JsonNode> out = new ArrayList<>();
    if (!Files.exists(events)) {
      return out;
    }
    for (String line : Files.readAllLines(events, StandardCharsets.UTF_8)) {
      if (line.startsWith("{") && line.endsWith("}")) {
        out.add(Json.read(line));
      }
    }
    return out;
  }

  /** SIGTERM, so it commits, leaves the group and exits; SIGKILL if it does not within 30 s. */
  @Override
  public void close() throws InterruptedException {
    if (!process.isAlive()) {
      return;
    }
    process.destroy();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
    }
  }
}
