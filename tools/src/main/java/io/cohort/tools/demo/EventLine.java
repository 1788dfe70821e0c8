package io.cohort.tools.demo;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads back one flat JSON event line as `consume --json` writes it: string, number, boolean and
 * null values only.
 */
final class EventLine {
  private EventLine() {}

  static Map<String, Object> parse(String line) {
    Map<String, Object> out = new LinkedHashMap<>();
    int i = 1;
    while (i < line.length() - 1) {
      int keyStart = line.indexOf('"', i) + 1;
      int keyEnd = line.indexOf('"', keyStart);
      String key = line.substring(keyStart, keyEnd);
      i = keyEnd + 2; // past ":
      Object value;
      if (line.charAt(i) == '"') {
        StringBuilder s = new StringBuilder();
        i++;
        while (line.charAt(i) != '"') {
          char c = line.charAt(i++);
          if (c == '\\') {
            c = line.charAt(i++);
          }
          s.append(c);
        }
        i++;
        value = s.toString();
      } else {
        int end = i;
        while (end < line.length() && line.charAt(end) != ',' && line.charAt(end) != '}') {
          end++;
        }
        String raw = line.substring(i, end);
        value = switch (raw) {
          case "null" -> null;
          case "true" -> Boolean.TRUE;
          case "false" -> Boolean.FALSE;
          default -> Long.parseLong(raw);
        };
        i = end;
      }
      out.put(key, value);
      i++; // past , or }
    }
    return out;
  }
}
