package io.cohort.tools.commands;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.ParameterException;
import com.beust.jcommander.Parameters;
import com.beust.jcommander.ParametersDelegate;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.cohort.client.BlockingCohortClient;
import io.cohort.client.CohortException;
import io.cohort.client.ReadMode;
import io.cohort.client.admin.ClusterAdmin;
import io.cohort.client.admin.ClusterView;
import io.cohort.client.admin.PeerStatus;
import io.cohort.statemachine.proto.ClusterInfoView;
import io.cohort.tools.CliCommand;
import io.cohort.tools.CliContext;
import io.cohort.tools.ClusterOptions;
import io.cohort.tools.cli.ErrorLines;
import io.cohort.tools.json.Json;
import io.cohort.tools.json.JsonViews;
import java.util.ArrayList;
import java.util.List;

@Parameters(commandDescription = "Each peer: reachable, role, term, commit and applied index, lag behind the leader, "
    + "membership; the Raft configuration; the replicated limits and usage (exit 1 unless a leader, every peer "
    + "answers, is a member that serves reads and at most --max-lag behind)")
public final class ClusterStatus implements CliCommand {
  public static final long DEFAULT_MAX_LAG = 1000;

  @Parameter(names = "--max-lag", description = "entries a peer may be behind the leader's commit index and still be healthy")
  long maxLag = DEFAULT_MAX_LAG;

  @Parameter(names = "--json", description = "print JSON")
  boolean json;

  @ParametersDelegate
  ClusterOptions cluster = new ClusterOptions();

  @Override
  public int run(CliContext ctx) {
    if (maxLag < 0) {
      throw new ParameterException("--max-lag must be 0 or more, got " + maxLag);
    }
    ClusterAdmin admin = ctx.admin(cluster);
    ClusterView view = admin.view();
    List<PeerStatus> peers = view.peers();
    List<String> problems = new ArrayList<>(view.problems(maxLag));
    problems.addAll(admin.notVoting(view));
    boolean healthy = problems.isEmpty();
    ClusterInfoView info = null;
    String infoError = null;
    if (peers.stream().anyMatch(PeerStatus::reachable)) {
      try {
        info = BlockingCohortClient.await(ctx.client(cluster).clusterInfo(ReadMode.linearizable()));
      } catch (CohortException e) {
        infoError = ErrorLines.describe(e, ctx.cluster(), ctx.timeoutSeconds()).line();
      }
    } else {
      infoError = "no peer answered";
    }
    if (json) {
      ObjectNode doc = Json.doc();
      ArrayNode list = doc.putArray("peers");
      peers.forEach(p -> list.add(JsonViews.peer(p)));
      doc.put("leader", view.leader());
      doc.put("leaderCommitIndex", view.leaderCommit());
      if (view.conf() != null) {
        doc.set("configuration", JsonViews.conf(view.conf()));
      } else {
        doc.putNull("configuration");
      }
      ArrayNode staging = doc.putArray("staging");
      view.staging().forEach(staging::add);
      doc.put("maxLag", maxLag);
      doc.put("healthy", healthy);
      doc.put("transport", ctx.insecure(cluster) ? "insecure" : "mtls");
      doc.put("principal", info != null ? info.getPrincipal() : null);
      doc.put("role", info != null ? JsonViews.role(info.getRole()) : null);
      ArrayNode problemList = doc.putArray("problems");
      problems.forEach(problemList::add);
      if (info != null) {
        doc.set("limits", JsonViews.limits(info.getLimits()));
        doc.set("usage", JsonViews.usage(info));
      } else {
        doc.putNull("limits");
        doc.putNull("usage");
        doc.put("limitsError", infoError);
      }
      ctx.out.println(Json.write(doc));
      return healthy ? 0 : 1;
    }
    Table t = new Table("PEER", "ADDRESS", "ROLE", "TERM", "COMMIT", "APPLIED", "SNAPSHOT", "LAG", "MEMBER", "REACHABLE");
    for (PeerStatus s : peers) {
      t.row(s.id() + (s.listed() ? "" : "*"), s.address(), s.role(), num(s.term()), num(s.commitIndex()),
          num(s.appliedIndex()), num(s.snapshotIndex()), num(s.lag()), membership(s),
          s.reachable() ? "yes" : "no (" + ErrorLines.clean(s.error()) + ")");
    }
    t.print(ctx.out);
    if (peers.stream().anyMatch(s -> !s.listed())) {
      ctx.out.println("* a member of the configuration that --peers does not list");
    }
    ctx.out.println();
    ctx.out.println("configuration: " + (view.conf() == null ? "unknown (no leader)" : view.conf().describe()
        + (view.conf().joint() ? " (joint: a change is in progress)" : ""))
        + (view.staging().isEmpty() ? "" : "; staging " + String.join(",", view.staging())));
    ctx.out.println(healthy ? "healthy (max lag " + maxLag + ")" : "unhealthy: " + String.join("; ", problems));
    ctx.out.println();
    ctx.out.println(transport(ctx.insecure(cluster), info));
    if (info != null) {
      ClusterLimits.print(ctx.out, info);
    } else {
      ctx.out.println("limits: unknown (" + infoError + ")");
    }
    return healthy ? 0 : 1;
  }

  /** R11: how this command reached the cluster and who the cluster says it is. */
  static String transport(boolean insecure, ClusterInfoView info) {
    String who = info == null ? "" : ", principal '" + info.getPrincipal() + "' (" + JsonViews.role(info.getRole()) + ")";
    return insecure ? "transport: INSECURE plaintext (--insecure): no authentication, every caller is the admin 'anonymous'" + who
        : "transport: mutual TLS" + who;
  }

  private static String membership(PeerStatus s) {
    return switch (s.membership()) {
      case MEMBER -> "yes";
      case LISTENER -> "listener";
      case STAGING -> "staging";
      case NOT_MEMBER -> "NO";
      case UNKNOWN -> null;
    };
  }

  private static String num(long v) {
    return v < 0 ? null : Long.toString(v);
  }
}
