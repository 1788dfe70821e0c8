package io.cohort.statemachine;

import com.google.protobuf.ByteString;

/**
 * Stamps for tests that drive the coordinator directly: the internal principal (admin rights) and,
 * standing in for the leader's random draw, a session token made from the entry's index — unique
 * per entry and the same on every replica, as the real one is (R11).
 */
public final class TestStamps {
  private TestStamps() {}

  public static Stamp at(long timeMs, long index) {
    return new Stamp(timeMs, Principals.INTERNAL, token(index));
  }

  public static Stamp as(String principal, long timeMs, long index) {
    return new Stamp(timeMs, principal, token(index));
  }

  /** 16 bytes: a fixed prefix and the index. */
  public static ByteString token(long index) {
    byte[] b = new byte[Stamp.TOKEN_BYTES];
    b[0] = (byte) 0x7e;
    for (int i = 15; i >= 8; i--) {
      b[i] = (byte) index;
      index >>>= 8;
    }
    return ByteString.copyFrom(b);
  }
}
