package io.cohort.tools.cli;

import com.beust.jcommander.Parameter;

/** {@code --help}/{@code -h}, added to every command that does not declare its own. */
public final class HelpOption {
  @Parameter(names = {"--help", "-h"}, help = true, description = "show this help and exit (contacts nothing)")
  public boolean help;
}
