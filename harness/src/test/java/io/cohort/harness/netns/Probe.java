package io.cohort.harness.netns;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.cohort.tools.json.Json;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** The test's handle on {@link ProbeMain} running in the observer's namespace: one command at a time. */
final class Probe implements AutoCloseable {
  private static final long ANSWER_TIMEOUT_S = 60;

  /** What {@code cohort ARGS} printed and returned. */
  record Answer(int code, String out, String err) {
    JsonNode json() {
      return Json.read(out);
    }
  }

  private final Process process;
  private final Writer in;
  private final BlockingQueue<String> answers = new LinkedBlockingQueue<>();
  private long lastId;

  Probe(Process process) {
    this.process = process;
    this.in = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
    Thread reader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
          StandardCharsets.UTF_8))) {
        for (String line = r.readLine(); line != null; line = r.readLine()) {
          answers.add(line);
        }
      } catch (IOException e) {
        // the probe ended
      }
    }, "probe-answers");
    reader.setDaemon(true);
    reader.start();
  }

  /** Runs {@code cohort args...} in the observer's namespace (add {@code --timeout} to bound it). */
  synchronized Answer run(String... args) throws IOException {
    long id = ++lastId;
    ObjectNode request = Json.object();
    request.put("id", id);
    ArrayNode argv = request.putArray("args");
    for (String a : args) {
      argv.add(a);
    }
    in.write(Json.write(request) + "\n");
    in.flush();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(ANSWER_TIMEOUT_S);
    while (true) {
      String answer;
      try {
        answer = answers.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt(); // its answer, when it comes, is skipped by the next call
        throw new IOException("interrupted waiting for the probe", e);
      }
      if (answer == null) {
        throw new IOException("the probe did not answer " + String.join(" ", args) + " within " + ANSWER_TIMEOUT_S
            + " s" + (process.isAlive() ? "" : " (it exited with " + process.exitValue() + ")"));
      }
      JsonNode a = Json.read(answer);
      if (a.get("id").asLong() == id) {
        return new Answer(a.get("code").asInt(), a.get("out").asText(), a.get("err").asText());
      }
    }
  }

  /** Like {@link #run} but fails unless the command succeeded. */
  JsonNode json(String... args) throws IOException {
    Answer a = run(args);
    if (a.code() != 0) {
      throw new IOException("cohort " + String.join(" ", args) + " failed: " + a.err().strip());
    }
    return a.json();
  }

  @Override
  public void close() throws IOException {
    in.close(); // the probe exits at end of input
  }
}
