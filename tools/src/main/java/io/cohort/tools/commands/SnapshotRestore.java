package io.cohort.tools.commands;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.Parameters;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.cohort.client.Peers;
import io.cohort.server.RestoredStorage;
import io.cohort.server.ServerConfig;
import io.cohort.tools.CliCommand;
import io.cohort.tools.CliContext;
import io.cohort.tools.json.Json;
import java.nio.file.Path;
import java.util.List;

@Parameters(commandDescription = "Seed a new node's storage dir from a saved snapshot (offline): verifies FILE, then lays"
    + " out DIR so that `cohort server --id ID --storage DIR --peers ...` starts from it; never overwrites a storage dir")
public final class SnapshotRestore implements CliCommand {
  @Parameter(description = "FILE", required = true, arity = 1)
  List<Path> file;

  @Parameter(names = "--id", description = "the node's id, one of --peers", required = true)
  String id;

  @Parameter(names = "--storage", description = "the node's new storage dir (absent or empty)", required = true)
  Path storage;

  @Parameter(names = "--peers", description = "the new cluster as id=host:port,... (default: $COHORT_PEERS, else the local cluster)")
  String peers;

  @Parameter(names = "--json", description = "print JSON")
  boolean json;

  @Override
  public int run(CliContext ctx) throws Exception {
    String spec = Peers.specOrDefault(peers, ctx.env());
    ServerConfig config = ServerConfig.of(id, storage, spec); // checks the peers and that --id is one of them
    RestoredStorage.Seeded seeded = RestoredStorage.seed(file.get(0), config);
    String message = "node " + id + " seeded in " + storage + " from snapshot at index " + seeded.index() + " (term "
        + seeded.term() + ", " + seeded.records() + " records, sha256 " + seeded.sha256() + ")";
    String next = "cohort server --id " + id + " --storage " + storage + " --peers " + Peers.parse(spec);
    if (json) {
      ObjectNode doc = Json.ok(message);
      doc.put("id", id);
      doc.put("storage", storage.toString());
      doc.put("snapshot", seeded.snapshot().toString());
      doc.put("index", seeded.index());
      doc.put("term", seeded.term());
      doc.put("records", seeded.records());
      doc.put("sha256", seeded.sha256());
      doc.put("start", next);
      ctx.out.println(Json.write(doc));
    } else {
      ctx.out.println(message);
      ctx.out.println("start it with: " + next);
    }
    return 0;
  }
}
