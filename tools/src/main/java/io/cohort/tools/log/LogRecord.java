package io.cohort.tools.log;

/** One record of the demo log: its offset, when it was produced, and its text. */
public record LogRecord(long offset, long timestampMs, String payload) {}
