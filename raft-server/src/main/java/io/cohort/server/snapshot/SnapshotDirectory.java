package io.cohort.server.snapshot;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Finds a node's snapshot files on disk, without opening them. */
public final class SnapshotDirectory {
  /** Ratis' snapshot file name: {@code snapshot.<term>_<index>}. */
  public static final Pattern NAME = Pattern.compile("snapshot\\.(\\d+)_(\\d+)");

  /** A snapshot file found on disk. */
  public record Listing(Path file, long term, long index, long bytes, boolean hasMd5) {}

  private SnapshotDirectory() {}

  /**
   * Snapshot files under {@code dir} — a storage dir ({@code <dir>/<group>/sm/}), a group dir
   * ({@code <dir>/sm/}) or an {@code sm/} dir — newest first. Safe while the server runs: a file
   * deleted meanwhile (retention) is left out.
   */
  public static List<Listing> list(Path dir) throws IOException {
    List<Path> smDirs = new ArrayList<>(List.of(dir, dir.resolve("sm")));
    if (Files.isDirectory(dir)) {
      try (var children = Files.newDirectoryStream(dir, Files::isDirectory)) {
        for (Path child : children) {
          smDirs.add(child.resolve("sm"));
        }
      }
    }
    List<Listing> out = new ArrayList<>();
    for (Path sm : smDirs) {
      if (!Files.isDirectory(sm)) {
        continue;
      }
      try (var files = Files.newDirectoryStream(sm)) {
        for (Path p : files) {
          Matcher m = NAME.matcher(p.getFileName().toString());
          if (!m.matches()) {
            continue;
          }
          try {
            out.add(new Listing(p, Long.parseLong(m.group(1)), Long.parseLong(m.group(2)), Files.size(p),
                Files.exists(p.resolveSibling(p.getFileName() + ".md5"))));
          } catch (NoSuchFileException e) {
            // deleted by retention while we looked
          }
        }
      } catch (NoSuchFileException e) {
        // the sm/ dir was replaced by a snapshot install while we looked
      }
    }
    out.sort(Comparator.comparingLong(Listing::index).reversed().thenComparing(Listing::file));
    return out;
  }
}
