package io.cohort.tools.top;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.cohort.statemachine.proto.CheckpointView;
import io.cohort.statemachine.proto.GroupPartitionView;
import io.cohort.statemachine.proto.GroupView;
import io.cohort.statemachine.proto.PartitionHealth;
import io.cohort.statemachine.proto.PartitionStatus;
import io.cohort.tools.json.Json;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One frame of `cohort top`: per group, members, partitions by status, stalled and failing
 * partitions, total lag and the oldest checkpoint, and rates between two samples: checkpoints
 * committed per second (partitions whose checkpoint changed; a partition committing twice between
 * samples counts once) and, when every cursor of the group is a number, records per second (the
 * cursors' advance).
 */
final class TopFrame {
  /** One group's line. Rates are null without a previous sample (or records/s: non-numeric cursors). */
  record GroupLine(String group, int members, Map<PartitionStatus, Integer> byStatus, int stalled, int failing,
      int lagStale, long totalLag, long maxCheckpointAgeMs, Double commitsPerSecond, Double recordsPerSecond) {}

  private final TopSample now;
  private final Double entriesPerSecond;
  private final List<GroupLine> lines = new ArrayList<>();

  TopFrame(TopSample previous, TopSample now) {
    this.now = now;
    double seconds = previous == null ? 0 : (now.takenAtNanos() - previous.takenAtNanos()) / 1e9;
    boolean rates = previous != null && seconds > 0;
    this.entriesPerSecond = rates
        ? (now.cluster().getAppliedIndex() - previous.cluster().getAppliedIndex()) / seconds : null;
    Map<String, GroupView> before = new HashMap<>();
    if (previous != null) {
      previous.groups().forEach(g -> before.put(g.getSummary().getGroup(), g));
    }
    for (GroupView g : now.groups()) {
      lines.add(line(g, rates ? before.get(g.getSummary().getGroup()) : null, seconds));
    }
  }

  List<GroupLine> lines() {
    return lines;
  }

  private static GroupLine line(GroupView g, GroupView before, double seconds) {
    Map<PartitionStatus, Integer> byStatus = new EnumMap<>(PartitionStatus.class);
    int stalled = 0;
    int failing = 0;
    int stale = 0;
    long lag = 0;
    long maxAge = 0;
    for (GroupPartitionView p : g.getPartitionsList()) {
      byStatus.merge(p.getStatus(), 1, Integer::sum);
      PartitionHealth h = p.getHealth();
      stalled += h.getStalled() ? 1 : 0;
      failing += h.getFailing() ? 1 : 0;
      stale += h.getLagStale() ? 1 : 0;
      if (p.hasCheckpoint() && p.getCheckpoint().hasLag() && p.getStatus() != PartitionStatus.FINISHED) {
        lag += p.getCheckpoint().getLag();
      }
      if (h.hasCheckpointAgeMs() && p.getStatus() != PartitionStatus.FINISHED) {
        maxAge = Math.max(maxAge, h.getCheckpointAgeMs());
      }
    }
    Double commits = null;
    Double records = null;
    if (before != null) {
      Map<String, CheckpointView> old = new HashMap<>();
      before.getPartitionsList().stream().filter(GroupPartitionView::hasCheckpoint)
          .forEach(p -> old.put(p.getTopic() + "/" + p.getPartition(), p.getCheckpoint()));
      int changed = 0;
      long advanced = 0;
      boolean numeric = true;
      for (GroupPartitionView p : g.getPartitionsList()) {
        if (!p.hasCheckpoint()) {
          continue;
        }
        CheckpointView c = p.getCheckpoint();
        CheckpointView o = old.get(p.getTopic() + "/" + p.getPartition());
        if (o == null || o.getCommittedAtMs() != c.getCommittedAtMs() || !o.getCursor().equals(c.getCursor())) {
          changed++;
        }
        Long from = o == null ? Long.valueOf(0) : number(o.getCursor());
        Long to = number(c.getCursor());
        if (from == null || to == null) {
          numeric = false;
        } else if (to > from) {
          advanced += to - from;
        }
      }
      commits = changed / seconds;
      records = numeric ? advanced / seconds : null;
    }
    return new GroupLine(g.getSummary().getGroup(), g.getMembersCount(), byStatus, stalled, failing, stale, lag,
        maxAge, commits, records);
  }

  private static Long number(String cursor) {
    if (cursor.isEmpty() || cursor.length() > 18) {
      return null;
    }
    for (int i = 0; i < cursor.length(); i++) {
      if (!Character.isDigit(cursor.charAt(i))) {
        return null;
      }
    }
    return Long.parseLong(cursor);
  }

  // ------------------------------------------------------------------ rendering

  private static final PartitionStatus[] SHOWN = {PartitionStatus.HELD, PartitionStatus.RELEASING,
      PartitionStatus.WAITING_PARENTS, PartitionStatus.WAITING_CHILDREN, PartitionStatus.UNASSIGNED,
      PartitionStatus.FINISHED};

  void print(PrintStream out, String cluster) {
    out.printf("cohort top  %s  applied index %d%s  groups %d  members %d  slots %d%n", cluster,
        now.cluster().getAppliedIndex(), entriesPerSecond == null ? "" : String.format(" (%.0f/s)", entriesPerSecond),
        now.cluster().getGroups(), now.cluster().getMembers(), now.cluster().getSlots());
    out.println();
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"GROUP", "MEMBERS", "HELD", "RELEASING", "WAITING", "UNASSIGNED", "FINISHED", "STALLED",
        "FAILING", "LAG", "OLDEST-CHECKPOINT", "COMMITS/S", "RECORDS/S"});
    for (GroupLine l : lines) {
      int waiting = l.byStatus().getOrDefault(PartitionStatus.WAITING_PARENTS, 0)
          + l.byStatus().getOrDefault(PartitionStatus.WAITING_CHILDREN, 0);
      rows.add(new String[] {l.group(), Integer.toString(l.members()), count(l, PartitionStatus.HELD),
          count(l, PartitionStatus.RELEASING), Integer.toString(waiting), count(l, PartitionStatus.UNASSIGNED),
          count(l, PartitionStatus.FINISHED), Integer.toString(l.stalled()), Integer.toString(l.failing()),
          l.totalLag() + (l.lagStale() > 0 ? " (" + l.lagStale() + " stale)" : ""),
          l.maxCheckpointAgeMs() == 0 ? "-" : (l.maxCheckpointAgeMs() / 1000) + "s",
          rate(l.commitsPerSecond()), rate(l.recordsPerSecond())});
    }
    int[] width = new int[rows.get(0).length];
    for (String[] r : rows) {
      for (int i = 0; i < r.length; i++) {
        width[i] = Math.max(width[i], r[i].length());
      }
    }
    for (String[] r : rows) {
      StringBuilder b = new StringBuilder();
      for (int i = 0; i < r.length; i++) {
        b.append(String.format("%-" + width[i] + "s  ", r[i]));
      }
      out.println(b.toString().stripTrailing());
    }
    if (lines.isEmpty()) {
      out.println("(no groups)");
    }
  }

  private static String count(GroupLine l, PartitionStatus s) {
    return Integer.toString(l.byStatus().getOrDefault(s, 0));
  }

  private static String rate(Double perSecond) {
    return perSecond == null ? "-" : String.format("%.1f", perSecond);
  }

  ObjectNode json() {
    ObjectNode doc = Json.doc();
    doc.put("nowMs", now.cluster().getNowMs());
    doc.put("appliedIndex", now.cluster().getAppliedIndex());
    doc.put("entriesPerSecond", entriesPerSecond);
    doc.put("members", now.cluster().getMembers());
    ArrayNode groups = doc.putArray("groups");
    for (GroupLine l : lines) {
      ObjectNode g = groups.addObject();
      g.put("group", l.group());
      g.put("members", l.members());
      ObjectNode parts = g.putObject("partitions");
      for (PartitionStatus s : SHOWN) {
        parts.put(s.name(), l.byStatus().getOrDefault(s, 0));
      }
      g.put("stalled", l.stalled());
      g.put("failing", l.failing());
      g.put("lagStale", l.lagStale());
      g.put("totalLag", l.totalLag());
      g.put("maxCheckpointAgeMs", l.maxCheckpointAgeMs());
      g.put("commitsPerSecond", l.commitsPerSecond());
      g.put("recordsPerSecond", l.recordsPerSecond());
    }
    return doc;
  }
}
