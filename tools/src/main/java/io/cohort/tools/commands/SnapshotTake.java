package io.cohort.tools.commands;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.Parameters;
import com.beust.jcommander.ParametersDelegate;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.cohort.client.admin.SnapshotTransfer;
import io.cohort.tools.CliCommand;
import io.cohort.tools.CliContext;
import io.cohort.tools.ClusterOptions;
import io.cohort.tools.json.Json;
import java.time.Duration;

@Parameters(commandDescription = "Take a snapshot on the leader now and wait until its file is durable (progress on stderr)")
public final class SnapshotTake implements CliCommand {
  @Parameter(names = "--wait", description = "seconds to wait for the snapshot file once the node took the snapshot")
  int waitSeconds = 120;

  @Parameter(names = "--json", description = "print JSON")
  boolean json;

  @ParametersDelegate
  ClusterOptions cluster = new ClusterOptions();

  @Override
  public int run(CliContext ctx) {
    SnapshotTransfer.Taken taken = SnapshotTransfer.take(ctx.admin(cluster), Duration.ofSeconds(waitSeconds),
        ctx.err::println);
    String message = "snapshot taken on " + taken.peer() + " at index " + taken.index();
    if (json) {
      ObjectNode doc = Json.ok(message);
      doc.put("peer", taken.peer());
      doc.put("index", taken.index());
      ctx.out.println(Json.write(doc));
    } else {
      ctx.out.println(message);
    }
    return 0;
  }
}
