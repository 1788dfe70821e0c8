package io.cohort.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.cohort.server.testing.MiniCluster;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Step 9's CLI: retention on create and update, what describe and list say about it, and bad input to top. */
@ExtendWith(SharedCluster.Resolver.class)
class ObservabilityCliTest {
  static Cli cli;

  @BeforeAll
  static void connect(MiniCluster shared) {
    cli = new Cli(Cli.env(shared));
    cli.ok("topic", "create", "obs-t", "--partitions", "2");
  }

  @Test
  void R7_retentionIsSetOnCreateChangedOnUpdateAndShown() {
    cli.ok("group", "create", "obs-g", "--topic", "obs-t", "--retention", "12h");
    JsonNode g = cli.ok("group", "describe", "obs-g", "--json").json();
    assertEquals(12 * 3_600_000L, g.get("retentionMs").asLong());
    assertEquals(g.get("emptySinceMs").asLong() + 12 * 3_600_000L, g.get("deleteAtMs").asLong());
    assertTrue(g.get("partitions").get(0).get("health").has("stallAfterMs"), g.toString());
    String text = cli.ok("group", "describe", "obs-g").out();
    assertTrue(text.contains("retention=12h00m") && text.contains("deleted with its checkpoints in"), text);
    JsonNode listed = cli.ok("group", "list", "--json").json();
    assertTrue(listed.get("nowMs").asLong() > 0);

    cli.ok("group", "update", "obs-g", "--retention", "0");
    JsonNode kept = cli.ok("group", "describe", "obs-g", "--json").json();
    assertEquals(0, kept.get("retentionMs").asLong());
    assertTrue(kept.get("deleteAtMs").isNull(), kept.toString());
    assertTrue(cli.ok("group", "describe", "obs-g").out().contains("kept forever"));
    assertTrue(cli.ok("group", "list").out().lines().anyMatch(l -> l.startsWith("obs-g") && l.endsWith("forever")));
  }

  @Test
  void badDurationsThresholdsAndUpdatesAreOneLineAndChangeNothing() {
    cli.failsWith(2, "--retention must be a duration like 7d", "group", "create", "obs-bad", "--topic", "obs-t",
        "--retention", "7x");
    cli.failsWith(1, "NOT_FOUND", "group", "describe", "obs-bad");
    cli.failsWith(1, "retention must be 0 (kept forever) or in", "group", "create", "obs-bad", "--topic", "obs-t",
        "--retention", "500ms");
    cli.failsWith(2, "nothing to change", "group", "update", "obs-bad");
    cli.failsWith(1, "NOT_FOUND", "group", "update", "obs-nope", "--retention", "1d");
    cli.failsWith(2, "--stall-after-ms must be positive", "group", "describe", "obs-nope", "--stall-after-ms", "0");
    cli.failsWith(2, "--json needs --once", "top", "--json");
    cli.failsWith(2, "--interval-ms must be in", "top", "--once", "--interval-ms", "5");
    cli.failsWith(1, "NOT_FOUND", "top", "--once", "--group", "obs-nope", "--interval-ms", "100");
  }

  @Test
  void topOnceListsEveryGroup() {
    cli.ok("group", "create", "obs-top", "--topic", "obs-t");
    JsonNode frame = cli.ok("top", "--once", "--json", "--interval-ms", "100").json();
    boolean found = false;
    for (JsonNode g : frame.get("groups")) {
      if (g.get("group").asText().equals("obs-top")) {
        found = true;
        assertEquals(2, g.get("partitions").get("UNASSIGNED").asInt(), g.toString());
        assertEquals(0, g.get("members").asInt());
        assertEquals(0.0, g.get("commitsPerSecond").asDouble());
      }
    }
    assertTrue(found, frame.toString());
    assertTrue(frame.get("appliedIndex").asLong() > 0);
  }
}
