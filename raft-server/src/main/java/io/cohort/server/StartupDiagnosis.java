package io.cohort.server;

import io.cohort.server.snapshot.CorruptSnapshotException;
import io.cohort.server.snapshot.SnapshotDirectory;
import io.cohort.server.snapshot.SnapshotFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.ratis.io.MD5Hash;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.raftlog.segmented.LogSegment;
import org.apache.ratis.server.raftlog.segmented.LogSegmentPath;
import org.apache.ratis.util.MD5FileUtil;
import org.apache.ratis.util.SizeInBytes;

/**
 * Why a node cannot start, in one line that says what to do (step 10). Read from the storage
 * after Ratis refused it, so the normal start pays nothing: a corrupt newest snapshot, a closed
 * log segment shorter than its name says, a missing storage. For the first two it works out
 * whether an older snapshot and the log still cover everything; if they do, the line says which
 * file to move aside, if not, to wipe the directory and replace the node under a new id.
 */
final class StartupDiagnosis {
  private static final Pattern CLOSED = Pattern.compile("log_(\\d+)-(\\d+)");
  private static final Pattern OPEN = Pattern.compile("log_inprogress_(\\d+)");

  private StartupDiagnosis() {}

  /** RECOVER found no storage. */
  static String missingStorage(ServerConfig c) {
    NodeStorage s = new NodeStorage(c.storageDir(), c.groupId());
    String id = c.id().toString();
    return "no Raft storage for " + id + " under " + c.storageDir() + " (" + c.storageDir().relativize(
        s.currentDir().resolve("raft-meta")) + " is missing): start the initial members' first time with --bootstrap, "
        + "or a new node with --join and then `cohort cluster add " + id + "=" + c.self().getAddress() + "`; a member "
        + "whose storage was lost must not come back empty under its id: `cohort cluster replace " + id + " " + id
        + "b=HOST:PORT` (" + id + "b started with --join)";
  }

  /** One line for a start that failed with {@code e}. */
  static String explain(ServerConfig c, Throwable e) {
    String id = c.id().toString();
    NodeStorage storage = new NodeStorage(c.storageDir(), c.groupId());
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof CorruptSnapshotException cs) {
        return "node " + id + " cannot start: " + corruptSnapshot(c, storage, cs);
      }
      if (t instanceof java.net.BindException) {
        return "node " + id + " cannot start: address in use: " + c.self().getAddress() + " (" + t.getMessage() + ")";
      }
    }
    try {
      Optional<String> log = brokenSegment(c, storage);
      if (log.isPresent()) {
        return "node " + id + " cannot start: " + log.get();
      }
    } catch (IOException | RuntimeException diagnosisFailed) {
      // fall through to Ratis' own reason
    }
    return "node " + id + " cannot start: " + ServerMain.rootMessage(e);
  }

  // ------------------------------------------------------------------ snapshots

  private static String corruptSnapshot(ServerConfig c, NodeStorage storage, CorruptSnapshotException cs) {
    Path bad = cs.file();
    long badIndex = indexOf(bad);
    long logStart = logStart(storage);
    Long older = newestValidSnapshotBelow(storage, badIndex);
    long covered = older == null ? -1 : older; // the state at index -1 is the empty one
    String aside = "move it aside (mv " + bad + " " + bad + ".corrupt) and start the node again";
    if (logStart <= covered + 1) {
      return cs.getMessage() + "; " + aside + ": " + (older == null ? "the log from index " + logStart + " covers it"
          : "snapshot " + older + " and the log from index " + logStart + " cover it");
    }
    return cs.getMessage() + "; no older snapshot (" + (older == null ? "none valid" : "newest valid: " + older)
        + ") and the log (from index " + (logStart == Long.MAX_VALUE ? "none" : logStart) + ") cover index "
        + badIndex + ": " + wipeAndReplace(c);
  }

  /** The newest snapshot below {@code index} whose MD5 (if any) and checksum hold, or null. */
  private static Long newestValidSnapshotBelow(NodeStorage storage, long index) {
    try {
      for (SnapshotDirectory.Listing l : SnapshotDirectory.list(storage.stateMachineDir())) {
        if (l.index() < index && valid(l)) {
          return l.index();
        }
      }
    } catch (IOException e) {
      // no listing: nothing older to rely on
    }
    return null;
  }

  private static boolean valid(SnapshotDirectory.Listing l) {
    try {
      if (l.hasMd5()) {
        MD5Hash stored = MD5FileUtil.readStoredMd5ForFile(l.file().toFile());
        if (!stored.equals(MD5FileUtil.computeMd5ForFile(l.file().toFile()))) {
          return false;
        }
      }
      try (SnapshotFile f = SnapshotFile.open(l.file())) {
        f.verify();
      }
      return true;
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  private static long indexOf(Path snapshot) {
    Matcher m = SnapshotDirectory.NAME.matcher(snapshot.getFileName().toString());
    return m.matches() ? Long.parseLong(m.group(2)) : -1;
  }

  // ------------------------------------------------------------------ log segments

  record Segment(Path file, long start, long end, boolean open) {
    long expected() {
      return end - start + 1;
    }
  }

  /** The log segments in {@code current/}, oldest first. */
  static List<Segment> segments(NodeStorage storage) throws IOException {
    List<Segment> out = new ArrayList<>();
    if (!Files.isDirectory(storage.currentDir())) {
      return out;
    }
    try (var files = Files.newDirectoryStream(storage.currentDir())) {
      for (Path p : files) {
        String name = p.getFileName().toString();
        Matcher closed = CLOSED.matcher(name);
        Matcher open = OPEN.matcher(name);
        if (closed.matches()) {
          out.add(new Segment(p, Long.parseLong(closed.group(1)), Long.parseLong(closed.group(2)), false));
        } else if (open.matches()) {
          out.add(new Segment(p, Long.parseLong(open.group(1)), -1, true));
        }
      }
    }
    out.sort((a, b) -> Long.compare(a.start(), b.start()));
    return out;
  }

  /** The first index the log on disk holds, or {@link Long#MAX_VALUE} without a log. */
  private static long logStart(NodeStorage storage) {
    try {
      return segments(storage).stream().mapToLong(Segment::start).min().orElse(Long.MAX_VALUE);
    } catch (IOException e) {
      return Long.MAX_VALUE;
    }
  }

  /** A closed segment holding fewer entries than its name says, and what to do about it. */
  static Optional<String> brokenSegment(ServerConfig c, NodeStorage storage) throws IOException {
    List<Segment> segments = segments(storage);
    SizeInBytes maxOp = RaftServerConfigKeys.Log.Appender.bufferByteLimit(RatisSettings.forServer(c));
    for (int i = 0; i < segments.size(); i++) {
      Segment s = segments.get(i);
      if (s.open()) {
        continue; // Ratis itself drops a torn tail of the open segment
      }
      LogSegmentPath path = LogSegmentPath.matchLogSegment(s.file());
      int read = LogSegment.readSegmentFile(s.file().toFile(), path.getStartEnd(), maxOp,
          RaftServerConfigKeys.Log.CorruptionPolicy.WARN_AND_RETURN, null, null);
      if (read == s.expected()) {
        continue;
      }
      String what = "log segment " + s.file() + " is damaged (" + read + " of its " + s.expected() + " entries, "
          + s.start() + ".." + s.end() + ", can be read)";
      Long snapshot = newestValidSnapshotBelow(storage, Long.MAX_VALUE);
      if (snapshot != null && snapshot >= s.end()) {
        List<String> older = segments.subList(0, i).stream().map(o -> o.file().getFileName().toString()).toList();
        String also = older.isEmpty() ? "" : " and the " + older.size() + " older segment" + (older.size() > 1 ? "s" : "")
            + " (" + String.join(", ", older.size() > 3 ? older.subList(0, 3) : older) + (older.size() > 3 ? ", ..." : "")
            + ")";
        return Optional.of(what + "; move it" + also + " aside (mv " + s.file() + " " + s.file() + ".corrupt) and start "
            + "the node again: snapshot " + snapshot + " covers " + s.start() + ".." + s.end());
      }
      return Optional.of(what + " and no snapshot covers index " + s.end() + " (newest valid: "
          + (snapshot == null ? "none" : snapshot) + "): " + wipeAndReplace(c));
    }
    return Optional.empty();
  }

  private static String wipeAndReplace(ServerConfig c) {
    String id = c.id().toString();
    return "wipe " + c.storageDir() + " and rejoin under a new id: start `cohort server --join --id " + id + "b --storage "
        + c.storageDir() + " --peers " + id + "b=HOST:PORT` and run `cohort cluster replace " + id + " " + id
        + "b=HOST:PORT` (a port other than " + id + "'s)";
  }
}
