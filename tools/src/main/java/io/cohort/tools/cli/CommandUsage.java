package io.cohort.tools.cli;

import com.beust.jcommander.DefaultUsageFormatter;
import com.beust.jcommander.JCommander;

/** JCommander's usage text, with the whole command path on its first line ("cohort topic create"). */
final class CommandUsage extends DefaultUsageFormatter {
  private final JCommander commander;
  private final String path;
  private final String description;

  CommandUsage(JCommander commander, String path, String description) {
    super(commander);
    this.commander = commander;
    this.path = path;
    this.description = description;
  }

  @Override
  public void appendMainLine(StringBuilder out, boolean hasOptions, boolean hasCommands, int indentCount,
      String indent) {
    if (description != null && !description.isEmpty()) {
      out.append(indent).append(description).append("\n\n");
    }
    StringBuilder line = new StringBuilder(indent).append("Usage: ").append(path);
    if (hasOptions) {
      line.append(" [options]");
    }
    if (commander.getMainParameter() != null && commander.getMainParameter().getDescription() != null) {
      line.append(" ").append(commander.getMainParameter().getDescription().getDescription());
    }
    wrapDescription(out, indentCount, line.toString());
    out.append("\n");
  }

  String text() {
    StringBuilder sb = new StringBuilder();
    usage(sb);
    return sb.toString();
  }
}
