package io.cohort.tools.cli;

import com.beust.jcommander.JCommander;
import com.beust.jcommander.ParameterDescription;
import com.beust.jcommander.ParameterException;
import com.beust.jcommander.Parameters;
import io.cohort.tools.CliCommand;
import io.cohort.tools.CliContext;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Runs one program's commands: finds the command (a name, or a name and a subcommand), parses its
 * arguments with JCommander, prints its usage for {@code --help}/{@code -h} without running it,
 * runs it, and turns any failure into one line on stderr ({@link ErrorLines}). Exit codes: 0 done,
 * 1 failed, 2 bad usage.
 */
public final class CommandLine {
  public static final int OK = 0;
  public static final int FAILED = 1;
  public static final int USAGE = 2;

  private static final List<String> HELP = List.of("--help", "-h");

  /** A program's commands: name to (subcommand to factory); "" is a command without subcommands. */
  public static final class Table {
    private final Map<String, Map<String, Supplier<CliCommand>>> commands = new LinkedHashMap<>();
    private final Map<String, String> groupDescriptions = new LinkedHashMap<>();

    public Table add(String name, Supplier<CliCommand> make) {
      commands.computeIfAbsent(name, k -> new LinkedHashMap<>()).put("", make);
      return this;
    }

    public Table add(String group, String sub, Supplier<CliCommand> make) {
      commands.computeIfAbsent(group, k -> new LinkedHashMap<>()).put(sub, make);
      return this;
    }

    /** The one-line description of a command group ({@code cohort topic --help}). */
    public Table describe(String group, String description) {
      groupDescriptions.put(group, description);
      return this;
    }

    /** Every command path, e.g. [["server"], ["topic", "create"], ...]: tests walk them all. */
    public List<List<String>> paths() {
      List<List<String>> out = new ArrayList<>();
      commands.forEach((name, subs) -> subs.keySet().forEach(sub ->
          out.add(sub.isEmpty() ? List.of(name) : List.of(name, sub))));
      return out;
    }

    public List<String> groups() {
      return commands.entrySet().stream().filter(e -> !e.getValue().containsKey("")).map(Map.Entry::getKey).toList();
    }
  }

  private final String program;
  private final Table table;
  private final String footer;

  /**
   * @param program the name on usage lines ("cohort")
   * @param footer text after the command list in the program's usage
   */
  public CommandLine(String program, Table table, String footer) {
    this.program = program;
    this.table = table;
    this.footer = footer;
  }

  public int run(String[] args, PrintStream out, PrintStream err, Map<String, String> env) {
    if (args.length == 0) {
      err.print(usage());
      return USAGE;
    }
    String name = args[0];
    if (HELP.contains(name) || name.equals("help")) {
      out.print(usage());
      return OK;
    }
    if (name.equals("--version")) {
      out.println(program + " " + Version.current());
      return OK;
    }
    Map<String, Supplier<CliCommand>> subs = table.commands.get(name);
    if (subs == null) {
      err.println(program + ": unknown command '" + name + "' (see '" + program + " --help')");
      return USAGE;
    }
    String path = program + " " + name;
    int first = 1;
    Supplier<CliCommand> make = subs.get("");
    if (make == null) {
      if (args.length < 2) {
        err.println(path + ": needs a subcommand: " + String.join(", ", subs.keySet()) + " (see '" + path + " --help')");
        return USAGE;
      }
      if (HELP.contains(args[1])) {
        out.print(groupUsage(name, subs));
        return OK;
      }
      make = subs.get(args[1]);
      if (make == null) {
        err.println(path + ": unknown subcommand '" + args[1] + "'; one of: " + String.join(", ", subs.keySet())
            + " (see '" + path + " --help')");
        return USAGE;
      }
      path = path + " " + args[1];
      first = 2;
    }
    CliCommand command = make.get();
    JCommander jc = commander(command, path);
    try {
      jc.parse(Arrays.copyOfRange(ExactArgs.protect(args, first, jc), first, args.length));
    } catch (ParameterException e) {
      if (Arrays.stream(args, first, args.length).anyMatch(HELP::contains)) {
        out.print(usage(jc, path, command));
        return OK;
      }
      err.println(path + ": " + ErrorLines.clean(e.getMessage()) + " (see '" + path + " --help')");
      return USAGE;
    }
    if (jc.getParameters().stream().anyMatch(p -> p.isHelp() && p.isAssigned())) {
      out.print(usage(jc, path, command));
      return OK;
    }
    CliContext ctx = new CliContext(out, err, env);
    try (ctx) {
      return command.run(ctx);
    } catch (Throwable t) {
      ErrorLines.Failure f = ErrorLines.describe(ctx.diagnosed(t), ctx.cluster(), ctx.timeoutSeconds());
      err.println(path + ": " + f.line());
      return f.exitCode();
    }
  }

  /** The command's parser, with --help/-h added unless the command declares its own. */
  private static JCommander commander(CliCommand command, String path) {
    JCommander probe = JCommander.newBuilder().addObject(command).build();
    probe.createDescriptions();
    boolean ownHelp = probe.getParameters().stream().anyMatch(ParameterDescription::isHelp);
    JCommander.Builder b = JCommander.newBuilder().programName(path).expandAtSign(false).addObject(command);
    if (!ownHelp) {
      b.addObject(new HelpOption());
    }
    JCommander jc = b.build();
    jc.createDescriptions();
    return jc;
  }

  private static String description(Object command) {
    Parameters p = command.getClass().getAnnotation(Parameters.class);
    return p == null ? "" : p.commandDescription();
  }

  static String usage(JCommander jc, String path, CliCommand command) {
    CommandUsage u = new CommandUsage(jc, path, description(command));
    jc.setUsageFormatter(u);
    return u.text();
  }

  /** The usage of one command, e.g. for ["topic", "create"]. */
  public String usage(List<String> commandPath) {
    Supplier<CliCommand> make = table.commands.get(commandPath.get(0)).get(commandPath.size() > 1 ? commandPath.get(1) : "");
    CliCommand c = make.get();
    String path = program + " " + String.join(" ", commandPath);
    return usage(commander(c, path), path, c);
  }

  private String groupUsage(String group, Map<String, Supplier<CliCommand>> subs) {
    StringBuilder s = new StringBuilder();
    String d = table.groupDescriptions.get(group);
    if (d != null) {
      s.append(d).append("\n\n");
    }
    s.append("Usage: ").append(program).append(' ').append(group).append(" <subcommand> [options]\n\nSubcommands:\n");
    int width = subs.keySet().stream().mapToInt(String::length).max().orElse(0);
    subs.forEach((sub, make) -> s.append(String.format("  %-" + width + "s  %s%n", sub, description(make.get()))));
    s.append("\nSee '").append(program).append(' ').append(group).append(" <subcommand> --help' for its options.\n");
    return s.toString();
  }

  /** The program's usage: every command with its description. */
  public String usage() {
    StringBuilder s = new StringBuilder("Usage: ").append(program).append(" <command> [options]\n\nCommands:\n");
    List<String[]> rows = new ArrayList<>();
    table.commands.forEach((name, subs) -> subs.forEach((sub, make) ->
        rows.add(new String[] {sub.isEmpty() ? name : name + " " + sub, description(make.get())})));
    int width = rows.stream().mapToInt(r -> r[0].length()).max().orElse(0);
    rows.forEach(r -> s.append(String.format("  %-" + width + "s  %s%n", r[0], r[1])));
    s.append("\nOptions:\n  --help, -h  show this help; '").append(program)
        .append(" COMMAND --help' shows a command's options\n  --version   print the version\n");
    if (footer != null && !footer.isEmpty()) {
      s.append('\n').append(footer);
      if (!footer.endsWith("\n")) {
        s.append('\n');
      }
    }
    return s.toString();
  }
}
