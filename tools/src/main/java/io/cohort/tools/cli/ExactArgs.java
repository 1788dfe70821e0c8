package io.cohort.tools.cli;

import com.beust.jcommander.JCommander;
import com.beust.jcommander.ParameterDescription;
import com.beust.jcommander.WrappedParameter;
import java.util.HashMap;
import java.util.Map;

/**
 * Keeps positional values exactly as given. JCommander trims every positional (main parameter)
 * value and strips one pair of surrounding double quotes from it, so the cursor {@code "5"}
 * (quotes included) would reach the cluster as {@code 5}, and {@code " a b "} as {@code a b}.
 * Option values are not touched (JCommander reads them raw). So each positional that JCommander
 * would change is wrapped in one more pair of quotes, which its own trim then removes again.
 */
final class ExactArgs {
  private ExactArgs() {}

  /**
   * @param args the whole command line
   * @param first index of the command's first own argument (after its name path)
   * @param command the JCommander of the command those arguments are for
   */
  static String[] protect(String[] args, int first, JCommander command) {
    Map<String, Integer> arity = new HashMap<>();
    for (ParameterDescription pd : command.getParameters()) {
      WrappedParameter w = pd.getParameter();
      Class<?> type = pd.getParameterized().getType();
      boolean flag = type == boolean.class || type == Boolean.class;
      int n = w.arity() >= 0 ? w.arity() : flag ? 0 : 1;
      for (String name : w.names()) {
        arity.put(name, n);
      }
    }
    String[] out = args.clone();
    boolean positionalOnly = false;
    for (int i = first; i < args.length; i++) {
      String a = args[i];
      if (!positionalOnly && a.equals("--")) {
        positionalOnly = true;
        continue;
      }
      Integer values = positionalOnly ? null : arity.get(a);
      if (values != null) {
        i += values; // the option's values are read raw
        continue;
      }
      if (!jcommanderTrim(a).equals(a)) {
        out[i] = '"' + a + '"';
      }
    }
    return out;
  }

  /** What JCommander 2.0 does to a positional value before storing it. */
  static String jcommanderTrim(String s) {
    String r = s.trim();
    if (r.startsWith("\"") && r.endsWith("\"") && r.length() > 1) {
      r = r.substring(1, r.length() - 1);
    }
    return r;
  }
}
