package io.cohort.server;

/** A configuration problem, with a one-line message meant for the operator. */
public final class ConfigException extends IllegalArgumentException {
  public ConfigException(String message) {
    super(message);
  }
}
