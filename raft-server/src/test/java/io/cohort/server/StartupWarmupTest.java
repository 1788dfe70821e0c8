package io.cohort.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The warm-up before a node starts runs the real write and snapshot paths and leaves nothing behind. */
class StartupWarmupTest {
  @TempDir
  Path scratch;

  @Test
  void appliesCommandsWritesAndLoadsASnapshot_thenDeletesItsScratchDirectory() throws Exception {
    StartupWarmup.Report r = StartupWarmup.run(scratch, 60_000);
    assertEquals(StartupWarmup.MAX_COMMANDS, r.commands(), "a generous budget stops at the command cap: " + r);
    assertEquals(0, r.notOk(), "every command is one a healthy group sends, and is applied OK: " + r);
    assertTrue(r.snapshotRecords() >= 1 + 1 + 4 + 16, "the snapshot holds the warm-up's topic, group, members"
        + " and partitions: " + r);
    try (Stream<Path> left = Files.list(scratch)) {
      assertEquals(0, left.count(), "the scratch directory is gone");
    }
  }

  @Test
  void aSmallBudgetStopsApplyingEarlyButStillSnapshots() throws Exception {
    StartupWarmup.Report r = StartupWarmup.run(scratch, 0);
    assertTrue(r.commands() < 100, "no time: the set-up commands and one round at most: " + r);
    assertTrue(r.snapshotRecords() > 0, r.toString());
  }
}
