package io.cohort.tools.commands;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.Parameters;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.cohort.server.snapshot.SnapshotFile;
import io.cohort.server.snapshot.SnapshotMeta;
import io.cohort.statemachine.proto.CheckpointRecord;
import io.cohort.statemachine.proto.MemberRecord;
import io.cohort.statemachine.proto.SlotRecord;
import io.cohort.tools.CliCommand;
import io.cohort.tools.CliContext;
import io.cohort.tools.cli.CommandFailedException;
import io.cohort.tools.json.Json;
import java.nio.file.Path;
import java.util.List;

@Parameters(commandDescription = "Read a snapshot file offline: its meta data, or one group's members and checkpoints")
public final class SnapshotInspect implements CliCommand {
  @Parameter(description = "FILE", required = true, arity = 1)
  List<Path> file;

  @Parameter(names = "--group", description = "show this group only (read by key, not the whole file)")
  String group;

  @Parameter(names = "--no-verify", description = "skip the checksum pass over every record")
  boolean noVerify;

  @Parameter(names = "--json", description = "print JSON")
  boolean json;

  @Override
  public int run(CliContext ctx) throws Exception {
    try (SnapshotFile snap = SnapshotFile.open(file.get(0))) {
      if (!noVerify) {
        snap.verify();
      }
      return group == null ? summary(ctx, snap) : group(ctx, snap);
    }
  }

  private int summary(CliContext ctx, SnapshotFile snap) {
    SnapshotMeta m = snap.meta();
    ObjectNode doc = Json.doc();
    doc.put("file", snap.path().toString());
    doc.put("formatVersion", m.formatVersion());
    doc.put("stateFormatVersion", m.stateFormatVersion());
    doc.put("term", m.term());
    doc.put("index", m.index());
    doc.put("sha256", m.sha256());
    doc.put("verified", !noVerify);
    doc.put("records", m.records());
    doc.put("topics", m.topics());
    ArrayNode groups = doc.putArray("groups");
    snap.groupNames().forEach(groups::add);
    doc.put("members", m.members());
    doc.put("slots", m.slots());
    doc.put("writtenAtMs", m.writtenAtMs());
    if (json) {
      ctx.out.println(Json.write(doc));
    } else {
      doc.fields().forEachRemaining(e -> {
        if (!e.getKey().equals("version")) {
          ctx.out.println(e.getKey() + ": " + (e.getValue().isTextual() ? e.getValue().textValue() : e.getValue()));
        }
      });
    }
    return 0;
  }

  private int group(CliContext ctx, SnapshotFile snap) {
    SnapshotFile.GroupSnapshot g = snap.group(group).orElseThrow(() ->
        new CommandFailedException("snapshot " + snap.path() + " has no group '" + group + "'"));
    if (!json) {
      ctx.out.println("group " + g.group().getGroup() + " in snapshot at index " + snap.meta().index());
      Table t = new Table("PARTITION", "HOLDER", "EPOCH", "CURSOR", "FINISHED");
      for (SlotRecord s : g.slots()) {
        t.row(s.getTopic() + "/" + s.getPartition(), s.getHolder().isEmpty() ? null : s.getHolder(),
            s.getEpoch(), s.hasCheckpoint() ? s.getCheckpoint().getCursor() : null,
            s.hasCheckpoint() && s.getCheckpoint().getFinished());
      }
      t.print(ctx.out);
      return 0;
    }
    ObjectNode doc = Json.doc();
    doc.put("group", g.group().getGroup());
    ArrayNode topics = doc.putArray("topics");
    g.group().getTopicsList().forEach(topics::add);
    doc.put("order", g.group().getOrder());
    doc.put("index", snap.meta().index());
    ArrayNode members = doc.putArray("members");
    for (MemberRecord m : g.members()) {
      members.addObject().put("consumer", m.getConsumerId()).put("owner", m.getOwner())
          .put("session", io.cohort.statemachine.SessionIds.of(m.getSessionToken()))
          .put("lastHeartbeatMs", m.getLastHeartbeatMs());
    }
    ArrayNode slots = doc.putArray("partitions");
    for (SlotRecord s : g.slots()) {
      ObjectNode sv = slots.addObject().put("topic", s.getTopic()).put("partition", s.getPartition())
          .put("holder", s.getHolder().isEmpty() ? null : s.getHolder()).put("epoch", s.getEpoch())
          .put("target", s.getTarget().isEmpty() ? null : s.getTarget());
      if (s.hasCheckpoint()) {
        CheckpointRecord c = s.getCheckpoint();
        sv.putObject("checkpoint").put("cursor", c.getCursor()).put("finished", c.getFinished())
            .put("epoch", c.getEpoch()).put("committedBy", c.getCommittedBy());
      } else {
        sv.putNull("checkpoint");
      }
    }
    ctx.out.println(Json.write(doc));
    return 0;
  }
}
