package io.cohort.statemachine;

/** Client-supplied text as it may appear in a one-line message: escaped and cut short. */
final class Text {
  static final int MAX_SHOWN = 64;

  private Text() {}

  /** In single quotes; control and non-ASCII characters as \\uXXXX; longer text is cut with its length. */
  static String quote(String s) {
    StringBuilder b = new StringBuilder(Math.min(s.length(), MAX_SHOWN) + 8).append('\'');
    int n = Math.min(s.length(), MAX_SHOWN);
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      if (c < 0x20 || c > 0x7e || c == '\'' || c == '\\') {
        b.append(String.format("\\u%04x", (int) c));
      } else {
        b.append(c);
      }
    }
    b.append('\'');
    if (s.length() > MAX_SHOWN) {
      b.append("... (").append(s.length()).append(" characters)");
    }
    return b.toString();
  }
}
