package io.cohort.server;

import org.apache.ratis.protocol.Message;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;

/** Moves bytes between our protobuf (4.x) messages and Ratis' shaded protobuf {@link Message}s. */
public final class Messages {
  private Messages() {}

  public static Message of(com.google.protobuf.MessageLite message) {
    return of(message.toByteArray());
  }

  public static Message of(byte[] bytes) {
    return Message.valueOf(wrap(bytes));
  }

  public static ByteString wrap(byte[] bytes) {
    return UnsafeByteOperations.unsafeWrap(bytes);
  }

  public static byte[] bytes(Message message) {
    return message == null ? new byte[0] : message.getContent().toByteArray();
  }
}
