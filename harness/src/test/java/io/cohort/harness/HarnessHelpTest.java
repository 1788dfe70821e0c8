package io.cohort.harness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cohort.tools.Tripwire;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** bench, chaos and demo answer --help and -h with their own usage, start nothing and contact nothing. */
class HarnessHelpTest {
  @Test
  void everyHarnessCommandAnswersHelpAndRunsNothing() throws Exception {
    try (Tripwire wire = new Tripwire()) {
      List<List<String>> paths = Harness.commands().paths();
      assertEquals(9, paths.size(), paths.toString());
      for (List<String> path : paths) {
        for (String flag : List.of("--help", "-h")) {
          List<String> args = new ArrayList<>(path);
          args.addAll(List.of("--peers", wire.peers(), flag));
          if (path.get(0).equals("chaos") || path.get(0).equals("demo")) {
            args.remove(args.size() - 2);
            args.remove(args.size() - 2);
          }
          ByteArrayOutputStream out = new ByteArrayOutputStream();
          ByteArrayOutputStream err = new ByteArrayOutputStream();
          long t0 = System.nanoTime();
          int code = new Harness(new PrintStream(out, true, StandardCharsets.UTF_8),
              new PrintStream(err, true, StandardCharsets.UTF_8), Map.of()).run(args.toArray(String[]::new));
          String text = out.toString(StandardCharsets.UTF_8);
          assertEquals(0, code, args + ": " + err.toString(StandardCharsets.UTF_8));
          assertTrue(text.contains("Usage: cohort " + String.join(" ", path)), args + ":\n" + text);
          assertTrue((System.nanoTime() - t0) / 1_000_000 < 3000, args + " was slow: it did something");
        }
      }
      assertEquals(0, wire.connections(), "help contacted a cluster");
    }
  }
}
