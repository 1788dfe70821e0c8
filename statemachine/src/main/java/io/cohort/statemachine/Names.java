package io.cohort.statemachine;

/** R9: names are 1..255 characters of [A-Za-z0-9._-], and never "." or ".." (issue 10: they are paths). */
final class Names {
  static final int MAX_LENGTH = 255;

  private Names() {}

  /** Returns null when the name is valid, else the reason (one line; an invalid name is not echoed raw). */
  static String problem(String kind, String name) {
    if (name.isEmpty()) {
      return kind + " name is empty";
    }
    if (name.length() > MAX_LENGTH) {
      return kind + " name is longer than " + MAX_LENGTH + " characters (" + name.length() + ")";
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
          || c == '.' || c == '_' || c == '-';
      if (!ok) {
        return kind + " name " + Text.quote(name) + " has a character outside [A-Za-z0-9._-] at position " + i;
      }
    }
    if (name.equals(".") || name.equals("..")) {
      return kind + " name '" + name + "' is reserved";
    }
    return null;
  }
}
