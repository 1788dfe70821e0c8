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

  /** A checkpoint's position: its cursor, "(end)" when reset to the log end, and whether finished. */
  static String cursor(CheckpointView c) {
    String at = c.getAtEnd() ? "(end)" : c.getCursor();
    return c.getFinished() ? at + " (finished)" : at;
  }
}
