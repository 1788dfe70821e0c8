package io.cohort.server.snapshot;

import java.io.IOException;
import java.nio.file.Path;

/** A snapshot file that cannot be trusted: wrong format or version, bad checksum, unreadable. */
public final class CorruptSnapshotException extends IOException {
  private final Path file;

  public CorruptSnapshotException(Path file, String problem) {
    super("snapshot " + file + " " + problem);
    this.file = file;
  }

  public CorruptSnapshotException(Path file, String problem, Throwable cause) {
    super("snapshot " + file + " " + problem, cause);
    this.file = file;
  }

  public Path file() {
    return file;
  }
}
