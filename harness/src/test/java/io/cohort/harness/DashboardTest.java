package io.cohort.harness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cohort.client.ConsumerConfig;
import io.cohort.server.metrics.Cmd;
import io.cohort.server.metrics.MetricsSettings;
import io.cohort.server.testing.MiniCluster;
import io.cohort.server.testing.TestClient;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * docs/grafana-cohort.json parses as a dashboard and every metric it (and the README's alert rules)
 * queries is one a Cohort node (or the client, for the consumer row) exports: names taken from a
 * live node's registry, not from a list that could drift.
 */
class DashboardTest {
  private static final Path DASHBOARD = Path.of("..", "docs", "grafana-cohort.json");
  private static final Pattern METRIC = Pattern.compile("\\b((?:cohort|jvm|process|ratis)_[a-zA-Z0-9_]+)\\b");

  @TempDir
  Path dir;

  /** Every query expression of the dashboard, checked for shape on the way. */
  private static List<String> expressions(JsonNode dashboard) {
    List<String> out = new ArrayList<>();
    Set<Integer> ids = new HashSet<>();
    for (JsonNode panel : dashboard.get("panels")) {
      assertTrue(ids.add(panel.get("id").asInt()), "panel ids are unique: " + panel.get("id"));
      JsonNode pos = panel.get("gridPos");
      assertTrue(pos.get("x").asInt() + pos.get("w").asInt() <= 24, "fits the 24-column grid: " + panel.get("title"));
      if (panel.get("type").asText().equals("row")) {
        continue;
      }
      assertTrue(panel.get("title").asText().length() > 0);
      assertEquals("${DS_PROMETHEUS}", panel.get("datasource").get("uid").asText(), panel.get("title").asText());
      assertTrue(panel.get("targets").size() > 0, "a panel queries something: " + panel.get("title"));
      for (JsonNode t : panel.get("targets")) {
        String expr = t.get("expr").asText();
        assertFalse(expr.isBlank(), panel.get("title").asText());
        out.add(expr);
      }
    }
    return out;
  }

  /** The family a queried name belongs to: histogram and counter suffixes off, as the registry names them. */
  private static String family(String name, Set<String> exported) {
    for (String candidate : List.of(name, name.replaceAll("_(bucket|sum|count|created)$", ""),
        name.replaceAll("_total$", ""))) {
      if (exported.contains(candidate)) {
        return candidate;
      }
    }
    return null;
  }

  private static void addNames(PrometheusRegistry registry, Set<String> into) {
    for (MetricSnapshot m : registry.scrape()) {
      into.add(m.getMetadata().getPrometheusName());
    }
  }

  @Test
  void theDashboardParsesAndQueriesOnlyExportedMetrics() throws Exception {
    JsonNode dashboard = new ObjectMapper().readTree(Files.readString(DASHBOARD));
    assertEquals("Cohort", dashboard.get("title").asText());
    List<String> exprs = expressions(dashboard);
    assertTrue(exprs.size() >= 30, "panels for Raft, commands, groups, partitions, snapshots, JVM, consumers");

    Set<String> exported = new TreeSet<>();
    try (MiniCluster cluster = MiniCluster.builder(3, dir).httpEndpoint(MetricsSettings.OFF).start();
        TestClient client = cluster.client()) {
      String leader = cluster.leaderId();
      client.write(Cmd.topic("t", 1));
      client.write(Cmd.group("g", "t", 10_000));
      client.write(Cmd.join("g", "A"));
      addNames(cluster.server(leader).metrics().registry(), exported);
    }
    PrometheusRegistry consumerRegistry = new PrometheusRegistry();
    ConsumerConfig.builder("g", "c").metrics(consumerRegistry).build();
    addNames(consumerRegistry, exported);
    assertTrue(exported.contains("cohort_partition_stalled") && exported.contains("jvm_memory_used_bytes")
        && exported.contains("cohort_consumer_records_processed"), exported.toString());

    Set<String> used = new TreeSet<>();
    List<String> unknown = new ArrayList<>();
    for (String expr : exprs) {
      Matcher m = METRIC.matcher(expr);
      while (m.find()) {
        String family = family(m.group(1), exported);
        if (family == null) {
          unknown.add(m.group(1) + " in " + expr);
        } else {
          used.add(family);
        }
      }
    }
    assertEquals(List.of(), unknown, "every name the dashboard queries is exported");
    List<String> alerts = Files.readAllLines(Path.of("..", "README.md")).stream()
        .filter(l -> l.strip().startsWith("expr: ")).toList();
    assertEquals(2, alerts.size(), "the README's two example alert rules");
    for (String expr : alerts) {
      Matcher m = METRIC.matcher(expr);
      while (m.find()) {
        assertTrue(family(m.group(1), exported) != null, "README alert uses an exported name: " + expr);
      }
    }
    assertEquals(null, family("cohort_partition_stalld", exported), "a misspelt name is caught");
    for (String needed : List.of("cohort_raft_role", "cohort_raft_term", "cohort_raft_commit_index",
        "cohort_raft_applied_index", "cohort_raft_leader_changes", "cohort_raft_peer_commit_lag_entries",
        "cohort_node_ready", "cohort_commands_applied", "cohort_commands_rejected", "cohort_groups", "cohort_members",
        "cohort_partitions", "cohort_partition_lag_records", "cohort_partition_checkpoint_age_seconds",
        "cohort_partition_stalled", "cohort_handoff_duration_seconds", "cohort_snapshot_pause_seconds",
        "jvm_memory_used_bytes", "jvm_gc_collection_seconds")) {
      assertTrue(used.contains(needed), "the dashboard shows " + needed);
    }
  }
}
