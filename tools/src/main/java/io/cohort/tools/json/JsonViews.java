package io.cohort.tools.json;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.Descriptors.FieldDescriptor;
import io.cohort.client.admin.PeerStatus;
import io.cohort.statemachine.proto.CheckpointView;
import io.cohort.statemachine.proto.ClusterInfoView;
import io.cohort.statemachine.proto.Grant;
import io.cohort.statemachine.proto.GroupPartitionView;
import io.cohort.statemachine.proto.GroupSummary;
import io.cohort.statemachine.proto.GroupView;
import io.cohort.statemachine.proto.LimitsRecord;
import io.cohort.statemachine.proto.MemberView;
import io.cohort.statemachine.proto.PartitionHealth;
import io.cohort.statemachine.proto.PartitionView;
import io.cohort.statemachine.proto.ReaderErrorView;
import io.cohort.statemachine.proto.StartFrom;
import io.cohort.statemachine.proto.TopicView;
import java.util.List;

/** The CLI's --json shapes (DESIGN.md section 5; README.md): stable, scripts and tests read them. */
public final class JsonViews {
  private JsonViews() {}

  public static ObjectNode group(GroupView g) {
    ObjectNode out = Json.doc();
    GroupSummary s = g.getSummary();
    out.put("group", s.getGroup());
    out.put("order", s.getOrder());
    strings(out.putArray("topics"), s.getTopicsList());
    out.put("sessionTimeoutMs", s.getSessionTimeoutMs());
    out.put("heartbeatIntervalMs", s.getHeartbeatIntervalMs());
    out.put("startFrom", startFrom(s.getStartFrom()));
    retention(out, s);
    ArrayNode members = out.putArray("members");
    for (MemberView m : g.getMembersList()) {
      ObjectNode mv = members.addObject();
      mv.put("consumer", m.getConsumerId());
      ArrayNode grants = mv.putArray("grants");
      for (Grant gr : m.getGrantsList()) {
        grants.addObject().put("topic", gr.getTopic()).put("partition", gr.getPartition()).put("epoch", gr.getEpoch());
      }
      mv.put("owner", m.getOwner());
      mv.put("session", m.getSessionId());
      mv.put("lastHeartbeatMs", m.getLastHeartbeatMs());
      mv.put("deadlineMs", m.getDeadlineMs());
    }
    ArrayNode partitions = out.putArray("partitions");
    for (GroupPartitionView p : g.getPartitionsList()) {
      ObjectNode pv = partitions.addObject();
      pv.put("topic", p.getTopic());
      pv.put("partition", p.getPartition());
      pv.put("state", p.getState().name());
      pv.put("holder", p.hasHolder() ? p.getHolder() : null);
      pv.put("target", p.hasTarget() ? p.getTarget() : null);
      pv.put("epoch", p.getEpoch());
      pv.put("status", p.getStatus().name());
      ArrayNode waiting = pv.putArray("waitingFor");
      p.getWaitingForList().forEach(waiting::add);
      pv.put("weight", p.getWeight());
      if (p.hasCheckpoint()) {
        pv.set("checkpoint", checkpoint(p.getCheckpoint(), false));
      } else {
        pv.putNull("checkpoint");
      }
      pv.set("health", health(p.getHealth()));
    }
    out.put("nowMs", g.getNowMs());
    return out;
  }

  /** One checkpoint; with its topic and partition when listed on its own. */
  public static ObjectNode checkpoint(CheckpointView c, boolean withPartition) {
    ObjectNode out = Json.object();
    if (withPartition) {
      out.put("topic", c.getTopic());
      out.put("partition", c.getPartition());
    }
    out.put("cursor", c.getCursor());
    out.put("atEnd", c.getAtEnd());
    out.put("finished", c.getFinished());
    out.put("lag", c.hasLag() ? c.getLag() : null);
    out.put("lagMs", c.hasLagMs() ? c.getLagMs() : null);
    out.put("epoch", c.getEpoch());
    out.put("committedBy", c.getCommittedBy());
    out.put("committedAtMs", c.getCommittedAtMs());
    return out;
  }

  /** How a partition is doing (step 9): the same judgement as the server's cohort_partition_* gauges. */
  public static ObjectNode health(PartitionHealth h) {
    ObjectNode out = Json.object();
    out.put("stalled", h.getStalled());
    out.put("failing", h.getFailing());
    out.put("lagStale", h.getLagStale());
    out.put("checkpointAgeMs", h.hasCheckpointAgeMs() ? h.getCheckpointAgeMs() : null);
    out.put("holderHeartbeatAgeMs", h.hasHolderHeartbeatAgeMs() ? h.getHolderHeartbeatAgeMs() : null);
    out.put("stallAfterMs", h.getStallAfterMs());
    if (h.hasLastError()) {
      ReaderErrorView e = h.getLastError();
      ObjectNode ev = out.putObject("lastError");
      ev.put("message", e.getMessage());
      ev.put("attempts", e.getAttempts());
      ev.put("skipped", e.getSkipped());
      ev.put("cursor", e.hasCursor() ? e.getCursor() : null);
      ev.put("firstAtMs", e.getFirstAtMs());
      ev.put("lastAtMs", e.getLastAtMs());
      ev.put("reportedBy", e.getReportedBy());
      ev.put("epoch", e.getEpoch());
    } else {
      out.putNull("lastError");
    }
    return out;
  }

  /** R7: the retention, and while the group is empty since when and when it goes (null otherwise). */
  private static void retention(ObjectNode out, GroupSummary s) {
    out.put("retentionMs", s.getRetentionMs());
    out.put("emptySinceMs", s.hasEmptySinceMs() ? s.getEmptySinceMs() : null);
    out.put("deleteAtMs", s.hasDeleteAtMs() ? s.getDeleteAtMs() : null);
    out.put("initialRebalanceDelayMs", s.getInitialRebalanceDelayMs());
    out.put("formingUntilMs", s.hasFormingUntilMs() ? s.getFormingUntilMs() : null);
  }

  public static ObjectNode summary(GroupSummary s) {
    ObjectNode out = Json.object();
    out.put("group", s.getGroup());
    strings(out.putArray("topics"), s.getTopicsList());
    out.put("order", s.getOrder());
    out.put("members", s.getMembers());
    out.put("sessionTimeoutMs", s.getSessionTimeoutMs());
    out.put("heartbeatIntervalMs", s.getHeartbeatIntervalMs());
    out.put("startFrom", startFrom(s.getStartFrom()));
    retention(out, s);
    return out;
  }

  public static ObjectNode topic(TopicView t) {
    ObjectNode out = Json.object();
    out.put("topic", t.getTopic());
    ArrayNode partitions = out.putArray("partitions");
    for (PartitionView p : t.getPartitionsList()) {
      ObjectNode pv = partitions.addObject();
      pv.put("partition", p.getPartition());
      pv.put("state", p.getState().name());
      pv.put("rangeBegin", p.getRangeBegin());
      pv.put("rangeEnd", p.getRangeEnd());
      ArrayNode parents = pv.putArray("parents");
      p.getParentsList().forEach(parents::add);
      ArrayNode children = pv.putArray("children");
      p.getChildrenList().forEach(children::add);
      pv.put("weight", p.getWeight());
      pv.put("endCursor", p.hasEndCursor() ? p.getEndCursor() : null);
    }
    return out;
  }

  public static ObjectNode peer(PeerStatus s) {
    ObjectNode out = Json.object();
    out.put("id", s.id());
    out.put("address", s.address());
    out.put("reachable", s.reachable());
    out.put("role", s.role());
    number(out, "term", s.term());
    number(out, "commitIndex", s.commitIndex());
    number(out, "appliedIndex", s.appliedIndex());
    number(out, "snapshotIndex", s.snapshotIndex());
    out.put("leader", s.leader());
    out.put("error", s.error());
    number(out, "lag", s.lag());
    out.put("membership", s.membership().name());
    out.put("conf", s.conf());
    out.put("listed", s.listed());
    return out;
  }

  /** A Raft configuration: {@code {"voters":[{"id","address"}],"listeners":[...],"oldVoters":[...],"joint":bool}}. */
  public static ObjectNode conf(io.cohort.client.admin.RaftConf c) {
    ObjectNode out = Json.object();
    peers(out.putArray("voters"), c.voters());
    peers(out.putArray("listeners"), c.listeners());
    peers(out.putArray("oldVoters"), c.oldVoters());
    peers(out.putArray("oldListeners"), c.oldListeners());
    out.put("joint", c.joint());
    return out;
  }

  private static void peers(ArrayNode to, List<io.cohort.client.Peers.Peer> peers) {
    peers.forEach(p -> to.addObject().put("id", p.id()).put("address", p.address()));
  }

  /** What a membership command did (--json of cluster add/remove/replace, leader transfer). */
  public static ObjectNode membership(io.cohort.client.admin.MembershipResult r) {
    ObjectNode out = Json.ok(r.summary());
    out.set("before", conf(r.before()));
    out.set("after", conf(r.after()));
    out.put("leader", r.leader());
    out.put("millis", r.millis());
    return out;
  }

  /** The replicated limits, by their JSON names (maxSlots, ...). */
  public static ObjectNode limits(LimitsRecord limits) {
    ObjectNode out = Json.object();
    for (FieldDescriptor f : LimitsRecord.getDescriptor().getFields()) {
      if (limits.hasField(f)) {
        out.put(f.getJsonName(), ((Number) limits.getField(f)).longValue());
      } else {
        out.putNull(f.getJsonName());
      }
    }
    return out;
  }

  /** What counts against the limits. */
  public static ObjectNode usage(ClusterInfoView info) {
    ObjectNode out = Json.object();
    out.put("topics", info.getTopics());
    out.put("groups", info.getGroups());
    out.put("members", info.getMembers());
    out.put("slots", info.getSlots());
    out.put("appliedIndex", info.getAppliedIndex());
    return out;
  }

  private static void number(ObjectNode out, String name, long v) {
    if (v < 0) {
      out.putNull(name);
    } else {
      out.put(name, v);
    }
  }

  private static void strings(ArrayNode into, List<String> values) {
    values.forEach(into::add);
  }

  /** "admin", "consumer", "reader", or null for no role. */
  public static String role(io.cohort.statemachine.proto.Role role) {
    return role == io.cohort.statemachine.proto.Role.ROLE_UNSPECIFIED ? null
        : role.name().toLowerCase(java.util.Locale.ROOT);
  }

  static String startFrom(StartFrom s) {
    return s == StartFrom.END ? "end" : "begin";
  }
}
