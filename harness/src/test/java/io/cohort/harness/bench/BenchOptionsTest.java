package io.cohort.harness.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A bench's --dir (new or empty only: old Raft storage would be recovered with old ports) and --server-args. */
class BenchOptionsTest {
  @TempDir Path tmp;

  @Test
  void aNewOrEmptyDirIsUsedAndKept() throws IOException {
    BenchOptions fresh = new BenchOptions();
    fresh.dir = tmp.resolve("new");
    assertEquals(fresh.dir, fresh.workDir("bench"));
    assertTrue(fresh.keepDir);

    BenchOptions empty = new BenchOptions();
    empty.dir = fresh.dir; // exists now, still empty
    assertEquals(empty.dir, empty.workDir("bench"));
  }

  @Test
  void aDirWithAnEarlierRunIsRefusedUntouched() throws IOException {
    Path old = Files.createDirectories(tmp.resolve("old/load-warmup-cohort"));
    BenchOptions o = new BenchOptions();
    o.dir = tmp.resolve("old");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> o.workDir("bench"));
    assertTrue(e.getMessage().contains("is not empty"), e.getMessage());
    assertTrue(Files.isDirectory(old));
  }

  @Test
  void serverArgsAreSplitOnWhiteSpaceAndNoneByDefault() {
    assertEquals(List.of(), new BenchOptions().serverArgsList());
    BenchOptions o = new BenchOptions();
    o.serverArgs = "  --warmup-ms 2000\t--snapshot-every  5000 ";
    assertEquals(List.of("--warmup-ms", "2000", "--snapshot-every", "5000"), o.serverArgsList());
  }
}
