package io.cohort.tools.commands;

import io.cohort.statemachine.proto.CheckpointView;
import io.cohort.statemachine.proto.PartitionView;
import io.cohort.statemachine.proto.TopicView;

/** Human tables and cells shared by several commands. */
final class Tables {
  private Tables() {}

  static Table topic(TopicView t) {
    Table table = new Table("PARTITION", "STATE", "RANGE", "PARENTS", "CHILDREN", "WEIGHT", "END-CURSOR");
    for (PartitionView p : t.getPartitionsList()) {
      table.row(p.getPartition(), p.getState(), "[" + p.getRangeBegin() + ", " + p.getRangeEnd() + ")",
          p.getParentsList().isEmpty() ? null : p.getParentsList(),
          p.getChildrenList().isEmpty() ? null : p.getChildrenList(), p.getWeight(),
          p.hasEndCursor() ? p.getEndCursor() : null);
    }
    return table;
  }

  /** A duration for people: 850ms, 42s, 3m05s, 5h12m, 7d3h. */
  static String duration(long ms) {
    if (ms < 1_000) {
      return ms + "ms";
    }
    long s = ms / 1_000;
    if (s < 60) {
      return s + "s";
    }
    if (s < 3_600) {
      return String.format("%dm%02ds", s / 60, s % 60);
    }
    if (s < 86_400) {
      return String.format("%dh%02dm", s / 3_600, s % 3_600 / 60);
    }
    return String.format("%dd%dh", s / 86_400, s % 86_400 / 3_600);
  }

  /** A retention: "forever" for 0. */
  static String retention(long ms) {
    return ms == 0 ? "forever" : duration(ms);
  }

  /**
   * How a partition is doing, in one word (step 9): STALLED, failing (still retrying, not yet
   * stalled), stale (a frozen lag), skipped (its last error was a skipped batch), or "-".
   */
  static String health(io.cohort.statemachine.proto.PartitionHealth h) {
    if (h.getStalled()) {
      return "STALLED";
    }
    if (h.getFailing()) {
      return "failing";
    }
    if (h.getLagStale()) {
      return "stale";
    }
    if (h.hasLastError() && h.getLastError().getSkipped()) {
      return "skipped";
    }
    return "-";
  }

  /** A checkpoint's position: its cursor, "(end)" when reset to the log end, and whether finished. */
  static String cursor(CheckpointView c) {
    String at = c.getAtEnd() ? "(end)" : c.getCursor();
    return c.getFinished() ? at + " (finished)" : at;
  }
}
