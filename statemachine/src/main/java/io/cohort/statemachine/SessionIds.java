package io.cohort.statemachine;

import com.google.protobuf.ByteString;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * How views and messages name a session without revealing its token (R11): 8 hex digits of the
 * token's SHA-256. Enough to tell sessions apart in `group describe`; useless to act as one.
 */
public final class SessionIds {
  private SessionIds() {}

  public static String of(ByteString token) {
    if (token == null || token.isEmpty()) {
      return "";
    }
    try {
      byte[] h = MessageDigest.getInstance("SHA-256").digest(token.toByteArray());
      return HexFormat.of().formatHex(h, 0, 4);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JVM has no SHA-256", e);
    }
  }
}
