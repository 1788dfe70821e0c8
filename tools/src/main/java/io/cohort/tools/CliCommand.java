package io.cohort.tools;

/** One `cohort` subcommand: JCommander fills its fields, then {@link #run} does the work. */
public interface CliCommand {
  /** Returns the exit code: 0 done, 1 failed (the reason is on stderr). */
  int run(CliContext ctx) throws Exception;
}
