package io.cohort.tools.commands;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.Parameters;
import com.beust.jcommander.ParametersDelegate;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.cohort.client.CohortUnavailableException;
import io.cohort.client.admin.ClusterAdmin;
import io.cohort.client.admin.PeerStatus;
import io.cohort.tools.CliCommand;
import io.cohort.tools.CliContext;
import io.cohort.tools.ClusterOptions;
import io.cohort.tools.cli.CommandFailedException;
import io.cohort.tools.json.Json;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

@Parameters(commandDescription = "Take a snapshot on the leader now and wait until its file is durable (progress on stderr)")
public final class SnapshotTake implements CliCommand {
  private static final long PROGRESS_EVERY_NS = TimeUnit.SECONDS.toNanos(2);

  @Parameter(names = "--wait", description = "seconds to wait for the snapshot file once the node took the snapshot")
  int waitSeconds = 120;

  @Parameter(names = "--json", description = "print JSON")
  boolean json;

  @ParametersDelegate
  ClusterOptions cluster = new ClusterOptions();

  @Override
  public int run(CliContext ctx) {
    ClusterAdmin admin = ctx.admin(cluster);
    List<PeerStatus> before = admin.status();
    PeerStatus node = ClusterAdmin.leader(before)
        .or(() -> before.stream().filter(PeerStatus::reachable).findFirst())
        .orElseThrow(() -> new CohortUnavailableException("no peer answered", null));
    // the snapshot covers at least what the node had applied when asked (the reply may not say)
    long want = Math.max(admin.createSnapshot(node.id()), node.appliedIndex());
    ctx.err.println("snapshot requested on " + node.id() + " (covering index " + want + "); waiting for its file");
    long start = System.nanoTime();
    long deadline = start + TimeUnit.SECONDS.toNanos(waitSeconds);
    long nextProgress = start + PROGRESS_EVERY_NS;
    long seen = -1;
    while (true) {
      PeerStatus now = admin.status().stream().filter(s -> s.id().equals(node.id())).findFirst().orElseThrow();
      seen = now.reachable() ? now.snapshotIndex() : seen;
      if (seen >= want) {
        String message = "snapshot taken on " + node.id() + " at index " + seen;
        if (json) {
          ObjectNode doc = Json.ok(message);
          doc.put("peer", node.id());
          doc.put("index", seen);
          ctx.out.println(Json.write(doc));
        } else {
          ctx.out.println(message);
        }
        return 0;
      }
      long t = System.nanoTime();
      if (t > deadline) {
        throw new CommandFailedException("no snapshot file at index >= " + want + " on " + node.id()
            + " within " + waitSeconds + " s (newest: " + seen + ")");
      }
      if (t > nextProgress) {
        ctx.err.println("  still writing on " + node.id() + " after " + TimeUnit.NANOSECONDS.toSeconds(t - start)
            + " s (newest snapshot file: index " + seen + ")");
        nextProgress = t + PROGRESS_EVERY_NS;
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
    }
  }
}
