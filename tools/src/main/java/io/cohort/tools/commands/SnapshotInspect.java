package io.cohort.tools.commands;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.Parameters;
import io.cohort.server.snapshot.SnapshotFile;
import io.cohort.statemachine.proto.CheckpointRecord;
import io.cohort.statemachine.proto.MemberRecord;
import io.cohort.statemachine.proto.SlotRecord;
import io.cohort.tools.CliCommand;
import io.cohort.tools.CliContext;
import io.cohort.tools.Json;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

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
    SnapshotFile.Meta m = snap.meta();
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("file", snap.path().toString());
    doc.put("formatVersion", m.formatVersion());
    doc.put("stateFormatVersion", m.stateFormatVersion());
    doc.put("term", m.term());
    doc.put("index", m.index());
    doc.put("sha256", m.sha256());
    doc.put("verified", !noVerify);
    doc.put("records", m.records());
    doc.put("topics", m.topics());
    doc.put("groups", new ArrayList<>(snap.groupNames()));
    doc.put("members", m.members());
    doc.put("slots", m.slots());
    doc.put("writtenAtMs", m.writtenAtMs());
    if (json) {
      ctx.out.println(Json.write(doc));
    } else {
      doc.forEach((k, v) -> ctx.out.println(k + ": " + v));
    }
    return 0;
  }

  private int group(CliContext ctx, SnapshotFile snap) {
    var found = snap.group(group);
    if (found.isEmpty()) {
      ctx.err.println("cohort: snapshot " + snap.path() + " has no group '" + group + "'");
      return 1;
    }
    SnapshotFile.GroupSnapshot g = found.get();
    List<Object> members = new ArrayList<>();
    for (MemberRecord m : g.members()) {
      Map<String, Object> mv = new LinkedHashMap<>();
      mv.put("consumer", m.getConsumerId());
      mv.put("session", m.getSession());
      mv.put("lastHeartbeatMs", m.getLastHeartbeatMs());
      members.add(mv);
    }
    List<Object> slots = new ArrayList<>();
    for (SlotRecord s : g.slots()) {
      Map<String, Object> sv = new LinkedHashMap<>();
      sv.put("topic", s.getTopic());
      sv.put("partition", s.getPartition());
      sv.put("holder", s.getHolder().isEmpty() ? null : s.getHolder());
      sv.put("epoch", s.getEpoch());
      sv.put("target", s.getTarget().isEmpty() ? null : s.getTarget());
      if (s.hasCheckpoint()) {
        CheckpointRecord c = s.getCheckpoint();
        Map<String, Object> cv = new LinkedHashMap<>();
        cv.put("cursor", c.getCursor());
        cv.put("finished", c.getFinished());
        cv.put("epoch", c.getEpoch());
        cv.put("committedBy", c.getCommittedBy());
        sv.put("checkpoint", cv);
      } else {
        sv.put("checkpoint", null);
      }
      slots.add(sv);
    }
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("group", g.group().getGroup());
    doc.put("topics", new ArrayList<>(g.group().getTopicsList()));
    doc.put("order", g.group().getOrder());
    doc.put("index", snap.meta().index());
    doc.put("members", members);
    doc.put("partitions", slots);
    if (json) {
      ctx.out.println(Json.write(doc));
      return 0;
    }
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
}
