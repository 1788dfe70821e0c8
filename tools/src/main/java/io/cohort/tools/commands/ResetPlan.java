package io.cohort.tools.commands;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.cohort.client.CohortClient;
import io.cohort.statemachine.proto.CheckpointReset;
import io.cohort.statemachine.proto.CheckpointView;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.GroupPartitionView;
import io.cohort.statemachine.proto.GroupView;
import io.cohort.statemachine.proto.ResetCheckpoints;
import io.cohort.statemachine.proto.Result;
import io.cohort.tools.CliContext;
import io.cohort.tools.cli.CommandFailedException;
import io.cohort.tools.cli.CommandLine;
import io.cohort.tools.json.Json;
import io.cohort.tools.json.JsonViews;
import java.util.List;

/**
 * Offset management's plan: for each partition in scope, where it stands (before) and where it
 * will stand (after). A dry run prints it and changes nothing; executed, the whole plan is one
 * replicated ResetCheckpoints command, all or none, and every holder is fenced (R3).
 */
final class ResetPlan {
  /** Where a partition goes: a cursor, the group's start position (no checkpoint), or the log end. */
  record Target(Kind kind, String cursor) {
    enum Kind { CURSOR, START, END }

    static Target cursor(String c) {
      return new Target(Kind.CURSOR, c);
    }

    static final Target START = new Target(Kind.START, null);
    static final Target END = new Target(Kind.END, null);

    void into(CheckpointReset.Builder b) {
      switch (kind) {
        case CURSOR -> b.setCursor(cursor);
        case START -> b.setDelete(true);
        case END -> b.setToEnd(true);
      }
    }

    String text() {
      return switch (kind) {
        case CURSOR -> cursor;
        case START -> "(start)";
        case END -> "(end)";
      };
    }

    ObjectNode json() {
      ObjectNode n = Json.object().put("target", kind.name().toLowerCase());
      if (kind == Kind.CURSOR) {
        n.put("cursor", cursor);
      }
      return n;
    }
  }

  /** One partition as the group has it now; {@code known} is false for one the group does not read. */
  record Slot(String topic, int partition, boolean known, String holder, CheckpointView checkpoint) {
    static Slot of(GroupView group, String topic, int partition) {
      for (GroupPartitionView p : group.getPartitionsList()) {
        if (p.getTopic().equals(topic) && p.getPartition() == partition) {
          return new Slot(topic, partition, true, p.hasHolder() ? p.getHolder() : null,
              p.hasCheckpoint() ? p.getCheckpoint() : null);
        }
      }
      return new Slot(topic, partition, false, null, null);
    }

    String before() {
      if (!known) {
        return "(not in group)";
      }
      return checkpoint == null ? "(none)" : Tables.cursor(checkpoint);
    }
  }

  record Row(Slot slot, Target after) {}

  private final String group;
  private final List<Row> rows;

  ResetPlan(String group, List<Row> rows) {
    this.group = group;
    this.rows = List.copyOf(rows);
  }

  /**
   * Prints the plan; with {@code execute}, applies it first. Returns the exit code: a dry run that
   * names a partition the group does not read fails (its execution would be refused).
   */
  int run(CliContext ctx, CohortClient client, boolean execute, boolean json) {
    if (rows.isEmpty()) {
      throw new CommandFailedException("no partition in scope: nothing to do");
    }
    if (!execute) {
      print(ctx, json, null, "dry run: nothing changed; to apply it, run the same command with --execute");
      long unknown = rows.stream().filter(r -> !r.slot().known()).count();
      if (unknown > 0) {
        throw new CommandFailedException(unknown + " partition(s) in scope are not read by group '" + group
            + "': the cluster would refuse the whole set");
      }
      return CommandLine.OK;
    }
    ResetCheckpoints.Builder reset = ResetCheckpoints.newBuilder().setGroup(group);
    for (Row r : rows) {
      CheckpointReset.Builder e = CheckpointReset.newBuilder().setTopic(r.slot().topic()).setPartition(r.slot().partition());
      r.after().into(e);
      reset.addEntries(e);
    }
    Result result = Writes.send(client, Command.newBuilder().setResetCheckpoints(reset).build());
    print(ctx, json, result.getReset().getEpochsList(), result.getMessage());
    return CommandLine.OK;
  }

  private void print(CliContext ctx, boolean json, List<Long> epochs, String message) {
    if (json) {
      ObjectNode doc = Json.doc();
      doc.put("ok", true);
      doc.put("group", group);
      doc.put("dryRun", epochs == null);
      doc.put("message", message);
      ArrayNode parts = doc.putArray("partitions");
      for (int i = 0; i < rows.size(); i++) {
        Row r = rows.get(i);
        ObjectNode p = parts.addObject().put("topic", r.slot().topic()).put("partition", r.slot().partition())
            .put("inGroup", r.slot().known()).put("holder", r.slot().holder());
        if (r.slot().checkpoint() == null) {
          p.putNull("before");
        } else {
          p.set("before", JsonViews.checkpoint(r.slot().checkpoint(), false));
        }
        p.set("after", r.after().json());
        if (epochs != null) {
          p.put("epoch", epochs.get(i));
        }
      }
      ctx.out.println(Json.write(doc));
      return;
    }
    Table t = epochs == null ? new Table("PARTITION", "HOLDER", "BEFORE", "AFTER")
        : new Table("PARTITION", "HOLDER", "BEFORE", "AFTER", "NEW-EPOCH");
    for (int i = 0; i < rows.size(); i++) {
      Row r = rows.get(i);
      String name = r.slot().topic() + "/" + r.slot().partition();
      if (epochs == null) {
        t.row(name, r.slot().holder(), r.slot().before(), r.after().text());
      } else {
        t.row(name, r.slot().holder(), r.slot().before(), r.after().text(), epochs.get(i));
      }
    }
    ctx.out.println("group " + group + ": " + rows.size() + " partition(s)" + (epochs == null ? " (dry run)" : ""));
    t.print(ctx.out);
    ctx.out.println(epochs == null ? message : message + "; holders were fenced and restart from the new positions");
  }
}
