package io.cohort.tools.commands;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.Parameters;
import com.beust.jcommander.ParametersDelegate;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.cohort.client.admin.SnapshotTransfer;
import io.cohort.server.snapshot.CorruptSnapshotException;
import io.cohort.server.snapshot.SnapshotFile;
import io.cohort.server.snapshot.SnapshotMeta;
import io.cohort.tools.CliCommand;
import io.cohort.tools.CliContext;
import io.cohort.tools.ClusterOptions;
import io.cohort.tools.json.Json;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

@Parameters(commandDescription = "Back up a live cluster: take a snapshot on the leader now and copy it to FILE over the"
    + " cluster connection, verified end to end (the node's MD5, then the SHA-256 over its records); progress on stderr")
public final class SnapshotSave implements CliCommand {
  @Parameter(description = "FILE", required = true, arity = 1)
  List<Path> file;

  @Parameter(names = "--wait", description = "seconds to wait for the snapshot file once the node took the snapshot")
  int waitSeconds = 120;

  @Parameter(names = "--json", description = "print JSON")
  boolean json;

  @ParametersDelegate
  ClusterOptions cluster = new ClusterOptions();

  @Override
  public int run(CliContext ctx) throws Exception {
    if (waitSeconds < 1) {
      throw new com.beust.jcommander.ParameterException("--wait must be at least 1 (seconds), got " + waitSeconds);
    }
    SnapshotTransfer.Copied saved = SnapshotTransfer.save(ctx.admin(cluster), ctx.client(cluster), file.get(0),
        Duration.ofSeconds(waitSeconds), SnapshotSave::checkRecords, ctx.err::println);
    String message = "snapshot at index " + saved.index() + " (term " + saved.term() + ") from " + saved.peer()
        + " saved to " + saved.file() + ": " + saved.bytes() + " bytes, " + saved.records() + " records, sha256 "
        + saved.sha256();
    if (json) {
      ObjectNode doc = Json.ok(message);
      doc.put("file", saved.file().toString());
      doc.put("peer", saved.peer());
      doc.put("index", saved.index());
      doc.put("term", saved.term());
      doc.put("bytes", saved.bytes());
      doc.put("records", saved.records());
      doc.put("md5", saved.md5());
      doc.put("sha256", saved.sha256());
      ctx.out.println(Json.write(doc));
    } else {
      ctx.out.println(message);
    }
    return 0;
  }

  /** The copy's records hash to what the node said, and the file says it is that snapshot. */
  static void checkRecords(Path copy, SnapshotTransfer.Copied what) throws CorruptSnapshotException {
    try (SnapshotFile f = SnapshotFile.open(copy)) {
      f.verify();
      SnapshotMeta m = f.meta();
      if (m.term() != what.term() || m.index() != what.index() || !m.sha256().equals(what.sha256())
          || m.records() != what.records()) {
        throw new CorruptSnapshotException(copy, "is snapshot " + m.term() + "_" + m.index() + " with sha256 "
            + m.sha256() + " but " + what.peer() + " sent " + what.term() + "_" + what.index() + " with sha256 "
            + what.sha256());
      }
    }
  }
}
