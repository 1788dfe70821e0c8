package io.cohort.harness.netns;

import com.fasterxml.jackson.databind.JsonNode;
import io.cohort.tools.json.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What {@code cohort consume --json} processes printed, read back with the machine's one clock: a
 * consumer reads partition P from its {@code assigned} line until its {@code released} or {@code
 * fenced} line for P, a {@code fenced} line without a partition, its {@code closed} line, or its
 * exit. Both ends are conservative: {@code assigned} is printed before the reader starts, {@code
 * released} after it stopped.
 */
final class ReaderLines {
  /** A consumer reading a partition from {@code startMs} to {@code endMs} (inclusive, ms). */
  record Hold(String consumer, String partition, long epoch, long startMs, long endMs, String endedBy) {
    @Override
    public String toString() {
      return consumer + " read " + partition + "@" + epoch + " " + startMs + ".." + endMs + " (" + endedBy + ")";
    }
  }

  private final List<Hold> holds = new ArrayList<>();
  private final List<String> violations = new ArrayList<>();
  private final Map<String, Long> committedMax = new TreeMap<>();
  private final Map<String, Long> counts = new TreeMap<>();

  /**
   * @param files each consumer's event file
   * @param exitMs when each consumer's process exited (or now, if it runs): ends what it still read
   */
  static ReaderLines read(Map<String, Path> files, Map<String, Long> exitMs) throws IOException {
    ReaderLines r = new ReaderLines();
    for (Map.Entry<String, Path> e : files.entrySet()) {
      r.readOne(e.getKey(), e.getValue(), exitMs.get(e.getKey()));
    }
    r.checkOverlaps();
    return r;
  }

  private void readOne(String consumer, Path file, long exitMs) throws IOException {
    Map<String, long[]> open = new HashMap<>(); // partition -> {startMs, epoch}
    for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      if (!line.startsWith("{") || !line.endsWith("}")) {
        continue; // a line being written when the process died
      }
      JsonNode e = Json.read(line);
      String event = e.get("event").asText();
      long t = e.get("timeMs").asLong();
      String p = e.get("partition").isNull() ? null : e.get("topic").asText() + "/" + e.get("partition").asInt();
      count(event);
      switch (event) {
        case "assigned" -> {
          if (open.containsKey(p)) {
            violations.add(consumer + " was assigned " + p + " at " + t + " while still reading it");
          }
          open.put(p, new long[] {t, e.get("epoch").asLong()});
        }
        case "released", "fenced" -> {
          if (p == null) {
            closeAll(consumer, open, t, event + " " + e.path("reason").asText());
          } else {
            long[] o = open.remove(p);
            if (o != null) {
              holds.add(new Hold(consumer, p, o[1], o[0], t, event + " " + e.path("reason").asText()));
            }
          }
        }
        case "closed" -> closeAll(consumer, open, t, "closed");
        case "record" -> {
          if (!open.containsKey(p)) {
            violations.add(consumer + " read " + p + " offset " + e.get("offset").asLong() + " at " + t
                + " outside its grant");
          }
        }
        case "committed" -> committedMax.merge(p, Long.parseLong(e.get("cursor").asText()), Math::max);
        default -> { }
      }
    }
    closeAll(consumer, open, exitMs, "exit");
  }

  private void closeAll(String consumer, Map<String, long[]> open, long t, String why) {
    for (Map.Entry<String, long[]> o : open.entrySet()) {
      holds.add(new Hold(consumer, o.getKey(), o.getValue()[1], o.getValue()[0], t, why));
    }
    open.clear();
  }

  private void count(String event) {
    counts.merge(event, 1L, Long::sum);
  }

  /** Never two readers: holds of one partition by different consumers never overlap, not even by 1 ms. */
  private void checkOverlaps() {
    Map<String, List<Hold>> byPartition = new TreeMap<>();
    for (Hold h : holds) {
      byPartition.computeIfAbsent(h.partition(), k -> new ArrayList<>()).add(h);
    }
    long handoffs = 0;
    for (List<Hold> hs : byPartition.values()) {
      hs.sort(Comparator.comparingLong(Hold::startMs).thenComparingLong(Hold::endMs));
      for (int i = 0; i < hs.size(); i++) {
        for (int j = i + 1; j < hs.size() && hs.get(j).startMs() < hs.get(i).endMs(); j++) {
          if (!hs.get(j).consumer().equals(hs.get(i).consumer())) {
            violations.add("two readers: " + hs.get(i) + " and " + hs.get(j));
          }
        }
        if (i > 0 && !hs.get(i).consumer().equals(hs.get(i - 1).consumer())) {
          handoffs++;
        }
      }
    }
    counts.put("holds", (long) holds.size());
    counts.put("handoffs between consumers", handoffs);
  }

  List<Hold> holds() {
    return holds;
  }

  List<String> violations() {
    return violations;
  }

  /** The highest acknowledged cursor per partition ("topic/p"). */
  Map<String, Long> committedMax() {
    return committedMax;
  }

  Map<String, Long> counts() {
    return counts;
  }
}
