package io.cohort.client;

import io.cohort.statemachine.proto.Code;

/**
 * The state machine answered and refused the request (R8): the code says why; nothing changed. No
 * stack trace: the answer is the whole story.
 */
public class CohortRejectedException extends CohortException {
  private final Code code;

  public CohortRejectedException(Code code, String message) {
    super(code + ": " + message, null, false);
    this.code = code;
  }

  public Code code() {
    return code;
  }

  /** In the message of the RETRY_LATER a quiet heartbeat gets when no peer it asked leads (CohortClient). */
  static final String NO_LEADER = "no peer asked leads now";

  /**
   * Whether this is the RETRY_LATER of a quiet heartbeat that found no leader among the peers it
   * asked (leadership changing hands), not a leader's shedding.
   */
  public boolean foundNoLeader() {
    return code == Code.RETRY_LATER && getMessage().contains(NO_LEADER);
  }

  private static final java.util.regex.Pattern RETRY_AFTER = java.util.regex.Pattern.compile("retry after (\\d{1,9}) ms");

  /**
   * For RETRY_LATER (an overloaded leader shed the request, step 11): how long it asked the caller
   * to wait, from its message ("retry after N ms: ..."); {@code fallbackMs} when it names none.
   */
  public long retryAfterMs(long fallbackMs) {
    return retryAfterMs(getMessage(), fallbackMs);
  }

  /** The same, from a refusal's message (a query's RETRY_LATER result, which is not thrown). */
  static long retryAfterMs(String message, long fallbackMs) {
    java.util.regex.Matcher m = RETRY_AFTER.matcher(message);
    return m.find() ? Long.parseLong(m.group(1)) : fallbackMs;
  }
}
