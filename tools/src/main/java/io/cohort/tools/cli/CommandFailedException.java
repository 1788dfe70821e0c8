package io.cohort.tools.cli;

/** A command found, before sending anything, that it cannot do what was asked (exit 1, one line). */
public final class CommandFailedException extends RuntimeException {
  public CommandFailedException(String message) {
    super(message);
  }
}
