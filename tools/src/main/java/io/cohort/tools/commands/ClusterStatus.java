package io.cohort.tools.commands;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.Parameters;
import com.beust.jcommander.ParametersDelegate;
import io.cohort.tools.CliCommand;
import io.cohort.tools.CliContext;
import io.cohort.tools.ClusterOptions;
import io.cohort.tools.Json;
import io.cohort.tools.RatisAdmin;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.ratis.protocol.GroupInfoReply;
import org.apache.ratis.protocol.RaftPeer;

@Parameters(commandDescription = "Each peer: reachable, role, term, commit and applied index")
public final class ClusterStatus implements CliCommand {
  @Parameter(names = "--json", description = "print JSON")
  boolean json;

  @ParametersDelegate
  ClusterOptions cluster = new ClusterOptions();

  @Override
  public int run(CliContext ctx) {
    RatisAdmin admin = ctx.closeLater(new RatisAdmin(ctx.peers(cluster.peers)));
    List<Map<String, Object>> rows = new ArrayList<>();
    boolean leader = false;
    int reachable = 0;
    for (RaftPeer peer : admin.peers()) {
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("peer", peer.getId().toString());
      row.put("address", peer.getAddress());
      try {
        GroupInfoReply info = admin.info(peer);
        var role = info.getRoleInfoProto();
        var log = info.getLogInfoProto();
        row.put("reachable", true);
        row.put("role", role.getRole().name());
        row.put("term", log.getLastEntry().getTerm());
        row.put("commitIndex", log.getCommitted().getIndex());
        row.put("appliedIndex", log.getApplied().getIndex());
        row.put("snapshotIndex", log.getLastSnapshot().getIndex());
        leader |= role.getRole().name().equals("LEADER");
        reachable++;
      } catch (Exception e) {
        row.put("reachable", false);
        row.put("error", e.getClass().getSimpleName() + ": " + e.getMessage());
      }
      rows.add(row);
    }
    if (json) {
      Map<String, Object> doc = new LinkedHashMap<>();
      doc.put("peers", rows);
      doc.put("leader", leader);
      ctx.out.println(Json.write(doc));
    } else {
      Table t = new Table("PEER", "ADDRESS", "REACHABLE", "ROLE", "TERM", "COMMIT", "APPLIED", "SNAPSHOT");
      for (Map<String, Object> r : rows) {
        t.row(r.get("peer"), r.get("address"), r.get("reachable"), r.get("role"), r.get("term"),
            r.get("commitIndex"), r.get("appliedIndex"), r.get("snapshotIndex"));
      }
      t.print(ctx.out);
      ctx.out.println(reachable + " of " + rows.size() + " peers reachable, " + (leader ? "leader elected" : "NO LEADER"));
    }
    if (reachable == 0) {
      ctx.err.println("cohort: no peer of " + ctx.peers(cluster.peers) + " answered");
      return 1;
    }
    return 0;
  }
}
