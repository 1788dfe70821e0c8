package io.cohort.statemachine;

import com.google.protobuf.ByteString;
import java.util.Objects;

/**
 * What the leader puts next to a command before it is appended, so that every replica applies it
 * the same way: its time (R6), the caller's principal (R11) and, for a join, the new session's
 * random token (R11: the leader draws it, apply never draws randomness).
 *
 * @param sessionToken empty unless the command is a joining heartbeat
 */
public record Stamp(long timeMs, String principal, ByteString sessionToken) {
  /** A session token's length in bytes: 128 random bits. */
  public static final int TOKEN_BYTES = 16;

  public Stamp {
    Objects.requireNonNull(principal, "principal");
    Objects.requireNonNull(sessionToken, "sessionToken");
  }

  /** The leader's own command at {@code timeMs} (ticks, bootstrap). */
  public static Stamp internal(long timeMs) {
    return new Stamp(timeMs, Principals.INTERNAL, ByteString.EMPTY);
  }

  public Stamp withPrincipal(String p) {
    return new Stamp(timeMs, p, sessionToken);
  }
}
