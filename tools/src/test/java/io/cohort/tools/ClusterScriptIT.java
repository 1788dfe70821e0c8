package io.cohort.tools;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import io.cohort.tools.json.Json;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** scripts/cluster.sh start, status, stop with the packaged CLI jar: three live nodes, a leader, nothing left. */
class ClusterScriptIT {
  @TempDir Path dir;

  record Run(int code, String out, String err) {}

  private Run script(String... args) throws Exception {
    Path root = Path.of("").toAbsolutePath().getParent();
    List<String> cmd = new ArrayList<>(List.of("bash", root.resolve("scripts/cluster.sh").toString()));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(root.toFile());
    pb.environment().put("COHORT_JAR", root.resolve("tools/target/cohort.jar").toString());
    pb.environment().put("COHORT_SERVER_JAVA_OPTS", "-XX:+UseG1GC -Xmx256m");
    Path out = dir.resolve("out.txt");
    Path err = dir.resolve("err.txt");
    Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    if (!p.waitFor(180, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      fail("cluster.sh " + String.join(" ", args) + " did not finish");
    }
    return new Run(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
  }

  @Test
  void startStatusStopLeavesNoProcessBehind() throws Exception {
    Path data = dir.resolve("cluster");
    String base = Integer.toString(freeBasePort());
    try {
      Run start = script("start", "--dir", data.toString(), "--base-port", base);
      assertEquals(0, start.code(), start.out() + start.err());
      assertTrue(start.out().contains("LEADER"), start.out());

      Run status = script("status", "--dir", data.toString(), "--json");
      assertEquals(0, status.code(), status.out() + status.err());
      JsonNode json = Json.read(status.out());
      assertEquals(1, json.get("version").asInt());
      assertEquals(3, json.get("peers").size(), status.out());
      json.get("peers").forEach(p -> assertTrue(p.get("reachable").asBoolean(), status.out()));
      assertTrue(json.get("leader").isTextual(), status.out());
      assertEquals("127.0.0.1:" + base, json.get("peers").get(0).get("address").asText(), "base port remembered");
    } finally {
      List<Long> pids = new ArrayList<>();
      for (String n : List.of("n1", "n2", "n3")) {
        Path pidFile = data.resolve(n + ".pid");
        if (Files.exists(pidFile)) {
          pids.add(Long.parseLong(Files.readString(pidFile).trim()));
        }
      }
      Run stop = script("stop", "--dir", data.toString());
      assertEquals(0, stop.code(), stop.out() + stop.err());
      for (long pid : pids) {
        assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "pid " + pid + " still alive");
      }
      assertEquals(3, pids.size());
      for (String n : List.of("n1", "n2", "n3")) {
        String log = Files.readString(data.resolve(n + ".log"));
        assertTrue(log.contains("[" + n + "] stopped"), n + " stopped gracefully on SIGTERM:\n" + log);
      }
    }
  }

  /** Three consecutive free loopback ports, and their HTTP ports (+1000) free too. */
  private static int freeBasePort() throws IOException {
    for (int attempt = 0; attempt < 50; attempt++) {
      int base = ThreadLocalRandom.current().nextInt(20_000, 60_000);
      if (free(base) && free(base + 1) && free(base + 2) && free(base + 1000) && free(base + 1001)
          && free(base + 1002)) {
        return base;
      }
    }
    throw new IOException("no three consecutive free ports");
  }

  private static boolean free(int port) {
    try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
