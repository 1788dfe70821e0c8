package io.cohort.harness.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Without --keep-dir the chaos run keeps its server logs only when there is something to read. */
class ChaosKeepDirTest {
  private static ChaosDriver.Report passed(long slowestElectionMs) {
    return new ChaosDriver.Report(Map.of(ChaosDriver.SLOWEST_ELECTION_MS, slowestElectionMs), List.of());
  }

  @Test
  void aCleanRunWithQuickElectionsIsDeleted() {
    assertNull(Chaos.keepReason(passed(1_300)));
    assertNull(Chaos.keepReason(passed(Chaos.KEEP_IF_ELECTION_OVER_MS)));
    assertNull(Chaos.keepReason(new ChaosDriver.Report(Map.of(), List.of())), "no leader kill at all");
  }

  @Test
  void aSlowElectionAFailedCheckOrAnUnfinishedRunIsKept() {
    assertEquals("an election took 60000 ms", Chaos.keepReason(passed(60_000)));
    assertEquals("a check failed",
        Chaos.keepReason(new ChaosDriver.Report(Map.of(), List.of("two holders of plain/3"))));
    assertEquals("the run did not finish", Chaos.keepReason(null));
  }

  @Test
  void theReasonIsLeftInTheWorkDirForTheScriptThatOwnsIt(@TempDir Path dir) throws IOException {
    Chaos.markKept(dir, "an election took 60000 ms");
    assertEquals("an election took 60000 ms\n", Files.readString(dir.resolve(Chaos.KEPT_MARKER)));
  }
}
