package io.cohort.tools.commands;

import com.fasterxml.jackson.databind.JsonNode;
import io.cohort.tools.json.Json;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** Reads the output of {@code checkpoint list --json} back, as reset targets (--from-file). */
final class CheckpointFile {
  /** One checkpoint of the file: where to put its partition. */
  record Entry(String topic, int partition, ResetPlan.Target target) {}

  private CheckpointFile() {}

  static List<Entry> read(Path file) throws IOException {
    JsonNode doc = Json.read(file);
    if (!doc.isObject() || !doc.path("checkpoints").isArray()) {
      throw bad(file, "has no \"checkpoints\" list (expected the output of 'cohort checkpoint list G --json')");
    }
    if (doc.path("version").asInt(-1) != Json.VERSION) {
      throw bad(file, "has version " + doc.path("version") + "; this cohort reads version " + Json.VERSION);
    }
    List<Entry> out = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    int i = 0;
    for (JsonNode c : doc.get("checkpoints")) {
      String where = "checkpoint #" + (++i);
      JsonNode topic = c.path("topic");
      JsonNode partition = c.path("partition");
      if (!topic.isTextual() || !partition.canConvertToInt() || !partition.isIntegralNumber() || partition.asInt() < 0) {
        throw bad(file, where + " needs a \"topic\" string and a \"partition\" number >= 0");
      }
      ResetPlan.Target target;
      if (c.path("atEnd").asBoolean(false)) {
        target = ResetPlan.Target.END;
      } else if (c.path("cursor").isTextual()) {
        target = ResetPlan.Target.cursor(c.get("cursor").textValue());
      } else {
        throw bad(file, where + " (" + topic.textValue() + "/" + partition.asInt() + ") has no \"cursor\" string");
      }
      if (!seen.add(topic.textValue() + "/" + partition.asInt())) {
        throw bad(file, "names " + topic.textValue() + "/" + partition.asInt() + " twice");
      }
      out.add(new Entry(topic.textValue(), partition.asInt(), target));
    }
    return out;
  }

  private static IllegalArgumentException bad(Path file, String what) {
    return new IllegalArgumentException(file + " " + what);
  }
}
