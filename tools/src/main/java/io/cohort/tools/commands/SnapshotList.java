package io.cohort.tools.commands;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.Parameters;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.cohort.server.snapshot.SnapshotDirectory;
import io.cohort.tools.CliCommand;
import io.cohort.tools.CliContext;
import io.cohort.tools.cli.CommandFailedException;
import io.cohort.tools.json.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

@Parameters(commandDescription = "List the snapshot files under a node's storage directory (offline)")
public final class SnapshotList implements CliCommand {
  @Parameter(names = "--storage", description = "the node's --storage directory", required = true)
  Path storage;

  @Parameter(names = "--json", description = "print JSON")
  boolean json;

  @Override
  public int run(CliContext ctx) throws Exception {
    if (!Files.isDirectory(storage)) {
      throw new CommandFailedException(storage + " is not a directory");
    }
    List<SnapshotDirectory.Listing> listings = SnapshotDirectory.list(storage);
    if (json) {
      ObjectNode doc = Json.doc();
      ArrayNode out = doc.putArray("snapshots");
      for (SnapshotDirectory.Listing l : listings) {
        out.addObject().put("file", l.file().toString()).put("term", l.term()).put("index", l.index())
            .put("bytes", l.bytes()).put("md5", l.hasMd5());
      }
      ctx.out.println(Json.write(doc));
      return 0;
    }
    Table t = new Table("TERM", "INDEX", "BYTES", "MD5", "FILE");
    for (SnapshotDirectory.Listing l : listings) {
      t.row(l.term(), l.index(), l.bytes(), l.hasMd5() ? "yes" : "no", l.file());
    }
    t.print(ctx.out);
    return 0;
  }
}
