package io.cohort.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cohort.tools.cli.CommandLine;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Asking for help never runs a command: every command and subcommand answers --help and -h with its
 * own usage and exit 0, quickly, and contacts nothing (the peers point at a port that counts
 * connections), even with other arguments around the flag.
 */
class HelpTest {
  @Test
  void everyCommandAnswersHelpWithItsOwnUsageAndSendsNothing() throws Exception {
    try (Tripwire wire = new Tripwire()) {
      Cli cli = new Cli(Map.of("COHORT_PEERS", wire.peers()));
      CommandLine.Table table = Cohort.commands();
      List<List<String>> paths = table.paths();
      assertTrue(paths.size() >= 22, "every command is in the table: " + paths);
      for (List<String> path : paths) {
        for (String flag : List.of("--help", "-h")) {
          List<String> args = new ArrayList<>(path);
          args.add(flag);
          assertHelp(cli, path, args);
          // with a value where a positional goes, and the flag after it: still only help
          List<String> around = new ArrayList<>(path);
          around.addAll(List.of("some-name", flag, "--json"));
          assertHelp(cli, path, around);
        }
      }
      for (String group : table.groups()) {
        Cli.Run r = cli.run(group, "--help");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("Usage: cohort " + group + " <subcommand>"), r.out());
      }
      assertEquals(0, wire.connections(), "help contacted the cluster");
    }
  }

  @Test
  void helpSkipsRequiredOptionsAndBadValues() throws Exception {
    try (Tripwire wire = new Tripwire()) {
      Cli cli = new Cli(Map.of("COHORT_PEERS", wire.peers()));
      for (String[] args : List.of(new String[] {"group", "delete", "--help"},
          new String[] {"group", "create", "--help", "--topic", "x"},
          new String[] {"topic", "create", "t", "--partitions", "-h"},
          new String[] {"checkpoint", "reset", "g", "--execute", "--to-start", "--all-topics", "--help"},
          new String[] {"server", "--help"},
          new String[] {"server", "--id", "n1", "-h"})) {
        Cli.Run r = cli.run(args);
        assertEquals(0, r.code(), String.join(" ", args) + ": " + r.err());
        assertTrue(r.out().contains("Usage: cohort " + args[0] + " "), String.join(" ", args) + ": " + r.out());
        assertTrue(r.err().isEmpty(), r.err());
      }
      assertEquals(0, wire.connections(), "help contacted the cluster");
    }
  }

  @Test
  void theProgramsHelpListsEveryCommand() {
    Cli.Run r = new Cli(Map.of()).run("-h");
    assertEquals(0, r.code());
    for (List<String> path : Cohort.commands().paths()) {
      assertTrue(r.out().contains("  " + String.join(" ", path) + " "), path + " in:\n" + r.out());
    }
    assertTrue(r.out().contains("--version"), r.out());
  }

  private static void assertHelp(Cli cli, List<String> path, List<String> args) {
    Cli.Run r = cli.run(args.toArray(String[]::new));
    String what = "cohort " + String.join(" ", args);
    assertEquals(0, r.code(), what + ": " + r.err());
    assertTrue(r.out().contains("Usage: cohort " + String.join(" ", path)), what + ":\n" + r.out());
    assertTrue(r.out().contains("--help, -h") || r.out().contains("-h, --help"), what + ":\n" + r.out());
    assertTrue(r.err().isEmpty(), what + " wrote to stderr: " + r.err());
    assertTrue(r.millis() < 3000, what + " took " + r.millis() + " ms");
  }
}
