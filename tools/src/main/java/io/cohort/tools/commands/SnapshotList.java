package io.cohort.tools.commands;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.Parameters;
import io.cohort.server.snapshot.SnapshotFile;
import io.cohort.tools.CliCommand;
import io.cohort.tools.CliContext;
import io.cohort.tools.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

@Parameters(commandDescription = "List the snapshot files under a node's storage directory (offline)")
public final class SnapshotList implements CliCommand {
  @Parameter(names = "--storage", description = "the node's --storage directory", required = true)
  Path storage;

  @Parameter(names = "--json", description = "print JSON")
  boolean json;

  @Override
  public int run(CliContext ctx) throws Exception {
    if (!Files.isDirectory(storage)) {
      ctx.err.println("cohort: " + storage + " is not a directory");
      return 1;
    }
    List<SnapshotFile.Listing> listings = SnapshotFile.list(storage);
    if (json) {
      List<Object> out = new ArrayList<>();
      for (SnapshotFile.Listing l : listings) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("file", l.file().toString());
        m.put("term", l.term());
        m.put("index", l.index());
        m.put("bytes", l.bytes());
        m.put("md5", l.hasMd5());
        out.add(m);
      }
      ctx.out.println(Json.write(Map.of("snapshots", out)));
      return 0;
    }
    Table t = new Table("TERM", "INDEX", "BYTES", "MD5", "FILE");
    for (SnapshotFile.Listing l : listings) {
      t.row(l.term(), l.index(), l.bytes(), l.hasMd5() ? "yes" : "no", l.file());
    }
    t.print(ctx.out);
    return 0;
  }
}
