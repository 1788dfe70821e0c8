package io.cohort.harness.netns;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.cohort.client.CohortClient;
import io.cohort.client.CohortClientConfig;
import io.cohort.client.Peers;
import io.cohort.client.ReadMode;
import io.cohort.client.admin.ClusterAdmin;
import io.cohort.statemachine.proto.DigestView;
import io.cohort.tools.Cohort;
import io.cohort.tools.json.Json;
import io.cohort.tools.json.JsonViews;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The test's eyes inside the observer's namespace (the servers' addresses are reachable only from
 * the namespaces): reads one request {@code {"id","args":[...]}} per stdin line, runs {@code cohort
 * ARGS} in this JVM, and answers one JSON line {@code {"id","code","out","err"}}. {@code ["@digest", ID]}
 * answers that node's state digest (a stale read from it) as {@code out}; {@code ["@status"]} what
 * each peer says of its Raft state, as a JSON array (no read through the leader, so it is quick
 * while there is none).
 */
public final class ProbeMain {
  private ProbeMain() {}

  public static void main(String[] args) throws Exception {
    Cohort.quietLogging(false);
    String peers = args[0];
    PrintStream answers = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    System.setOut(System.err); // only answers on stdout
    Map<String, String> env = Map.of("COHORT_PEERS", peers);
    try (CohortClient client = CohortClient.connect(CohortClientConfig.builder(Peers.parse(peers))
        .callTimeout(Duration.ofSeconds(3)).attemptTimeout(Duration.ofSeconds(2)).build());
        ClusterAdmin admin = ClusterAdmin.connect(Peers.parse(peers), Duration.ofSeconds(1))) {
      BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        JsonNode request = Json.read(line);
        List<String> argv = new ArrayList<>();
        for (JsonNode a : request.get("args")) {
          argv.add(a.asText());
        }
        ObjectNode answer = Json.object();
        answer.put("id", request.get("id").asLong());
        if (!argv.isEmpty() && argv.get(0).equals("@status")) {
          ArrayNode list = Json.array();
          admin.status().forEach(p -> list.add(JsonViews.peer(p)));
          answer.put("code", 0).put("out", Json.write(list)).put("err", "");
        } else if (!argv.isEmpty() && argv.get(0).equals("@digest")) {
          try {
            DigestView d = client.blocking().stateDigest(ReadMode.stale(argv.get(1)));
            answer.put("code", 0).put("out", d.getAppliedIndex() + " " + d.getSha256()).put("err", "");
          } catch (RuntimeException e) {
            answer.put("code", 1).put("out", "").put("err", String.valueOf(e.getMessage()));
          }
        } else {
          ByteArrayOutputStream out = new ByteArrayOutputStream();
          ByteArrayOutputStream err = new ByteArrayOutputStream();
          int code = new Cohort(new PrintStream(out, true, StandardCharsets.UTF_8),
              new PrintStream(err, true, StandardCharsets.UTF_8), env).run(argv.toArray(String[]::new));
          answer.put("code", code).put("out", out.toString(StandardCharsets.UTF_8))
              .put("err", err.toString(StandardCharsets.UTF_8));
        }
        answers.println(Json.write(answer));
      }
    }
  }
}
