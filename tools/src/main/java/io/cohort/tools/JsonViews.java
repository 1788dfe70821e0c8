package io.cohort.tools;

import io.cohort.statemachine.proto.CheckpointView;
import io.cohort.statemachine.proto.Grant;
import io.cohort.statemachine.proto.GroupPartitionView;
import io.cohort.statemachine.proto.GroupSummary;
import io.cohort.statemachine.proto.GroupView;
import io.cohort.statemachine.proto.MemberView;
import io.cohort.statemachine.proto.PartitionView;
import io.cohort.statemachine.proto.StartFrom;
import io.cohort.statemachine.proto.TopicView;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The CLI's --json shapes (DESIGN.md section 5): stable, scripts and tests depend on them. */
public final class JsonViews {
  private JsonViews() {}

  public static Map<String, Object> group(GroupView g) {
    Map<String, Object> out = new LinkedHashMap<>();
    GroupSummary s = g.getSummary();
    out.put("group", s.getGroup());
    out.put("order", s.getOrder());
    out.put("topics", new ArrayList<>(s.getTopicsList()));
    out.put("sessionTimeoutMs", s.getSessionTimeoutMs());
    out.put("heartbeatIntervalMs", s.getHeartbeatIntervalMs());
    out.put("startFrom", startFrom(s.getStartFrom()));
    List<Object> members = new ArrayList<>();
    for (MemberView m : g.getMembersList()) {
      Map<String, Object> mv = new LinkedHashMap<>();
      mv.put("consumer", m.getConsumerId());
      List<Object> grants = new ArrayList<>();
      for (Grant gr : m.getGrantsList()) {
        Map<String, Object> gv = new LinkedHashMap<>();
        gv.put("topic", gr.getTopic());
        gv.put("partition", gr.getPartition());
        gv.put("epoch", gr.getEpoch());
        grants.add(gv);
      }
      mv.put("grants", grants);
      mv.put("lastHeartbeatMs", m.getLastHeartbeatMs());
      mv.put("deadlineMs", m.getDeadlineMs());
      members.add(mv);
    }
    out.put("members", members);
    List<Object> partitions = new ArrayList<>();
    for (GroupPartitionView p : g.getPartitionsList()) {
      Map<String, Object> pv = new LinkedHashMap<>();
      pv.put("topic", p.getTopic());
      pv.put("partition", p.getPartition());
      pv.put("state", p.getState().name());
      pv.put("holder", p.hasHolder() ? p.getHolder() : null);
      pv.put("target", p.hasTarget() ? p.getTarget() : null);
      pv.put("epoch", p.getEpoch());
      pv.put("status", p.getStatus().name());
      pv.put("waitingFor", new ArrayList<>(p.getWaitingForList()));
      pv.put("weight", p.getWeight());
      pv.put("checkpoint", p.hasCheckpoint() ? checkpoint(p.getCheckpoint(), false) : null);
      partitions.add(pv);
    }
    out.put("partitions", partitions);
    out.put("nowMs", g.getNowMs());
    return out;
  }

  public static Map<String, Object> checkpoint(CheckpointView c, boolean withPartition) {
    Map<String, Object> out = new LinkedHashMap<>();
    if (withPartition) {
      out.put("topic", c.getTopic());
      out.put("partition", c.getPartition());
    }
    out.put("cursor", c.getCursor());
    out.put("finished", c.getFinished());
    out.put("lag", c.hasLag() ? c.getLag() : null);
    out.put("lagMs", c.hasLagMs() ? c.getLagMs() : null);
    out.put("epoch", c.getEpoch());
    out.put("committedBy", c.getCommittedBy());
    out.put("committedAtMs", c.getCommittedAtMs());
    return out;
  }

  public static Map<String, Object> summary(GroupSummary s) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("group", s.getGroup());
    out.put("topics", new ArrayList<>(s.getTopicsList()));
    out.put("order", s.getOrder());
    out.put("members", s.getMembers());
    out.put("sessionTimeoutMs", s.getSessionTimeoutMs());
    out.put("heartbeatIntervalMs", s.getHeartbeatIntervalMs());
    out.put("startFrom", startFrom(s.getStartFrom()));
    return out;
  }

  public static Map<String, Object> topic(TopicView t) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("topic", t.getTopic());
    List<Object> partitions = new ArrayList<>();
    for (PartitionView p : t.getPartitionsList()) {
      Map<String, Object> pv = new LinkedHashMap<>();
      pv.put("partition", p.getPartition());
      pv.put("state", p.getState().name());
      pv.put("rangeBegin", p.getRangeBegin());
      pv.put("rangeEnd", p.getRangeEnd());
      pv.put("parents", new ArrayList<>(p.getParentsList()));
      pv.put("children", new ArrayList<>(p.getChildrenList()));
      pv.put("weight", p.getWeight());
      pv.put("endCursor", p.hasEndCursor() ? p.getEndCursor() : null);
      partitions.add(pv);
    }
    out.put("partitions", partitions);
    return out;
  }

  static String startFrom(StartFrom s) {
    return s == StartFrom.END ? "end" : "begin";
  }
}
