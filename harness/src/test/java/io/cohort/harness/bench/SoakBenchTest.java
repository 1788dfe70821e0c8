package io.cohort.harness.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The soak reads JDK 17's unified GC and safepoint logs: lines as the JVM writes them. */
class SoakBenchTest {
  @Test
  void longestGcPauseAndSafepointAreReadFromJdk17Logs(@TempDir Path dir) throws IOException {
    Path gc = Files.writeString(dir.resolve("gc.log"), """
        [0.028s][info][gc] Using G1
        [0.470s][info][gc] GC(0) Pause Young (Normal) (G1 Evacuation Pause) 6M->3M(64M) 8.832ms
        [0.534s][info][gc] GC(1) Pause Young (Normal) (G1 Evacuation Pause) 7M->4M(64M) 15.263ms
        [0.601s][info][gc] GC(2) Pause Remark 10M->10M(64M) 1.234ms
        """);
    Path safepoint = Files.writeString(dir.resolve("safepoint.log"), """
        [0.470s][info][safepoint] Safepoint "G1CollectForAllocation", Time since last: 370172803 ns, Reaching safepoint: 132406 ns, Cleanup: 101141 ns, At safepoint: 8923328 ns, Total: 9156875 ns
        [0.534s][info][safepoint] Safepoint "Cleanup", Time since last: 58571752 ns, Reaching safepoint: 2584 ns, Cleanup: 30345 ns, At safepoint: 5313490 ns, Total: 25346419 ns
        """);
    assertEquals(15.263, SoakBench.maxOf(gc, SoakBench.GC_PAUSE, 1, 1.0), 1e-9);
    assertEquals(25.346419, SoakBench.maxOf(safepoint, SoakBench.SAFEPOINT, 2, 1e-6), 1e-9);
    assertEquals(0, SoakBench.maxOf(dir.resolve("missing.log"), SoakBench.GC_PAUSE, 1, 1.0));
  }
}
