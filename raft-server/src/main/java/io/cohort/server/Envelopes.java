package io.cohort.server;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import io.cohort.statemachine.Principals;
import io.cohort.statemachine.proto.Envelope;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;

/**
 * The {@code Envelope} every client message becomes on the server (R11): the gRPC interceptor
 * wraps each request with the caller's principal, in-process commands wrap themselves with the
 * internal one, and the state machine opens exactly one layer. A client cannot name a principal:
 * whatever it sends is the payload of the interceptor's envelope.
 */
public final class Envelopes {
  /** A message opened: who sent it and what it sent (our protobuf's ByteString). */
  public record Opened(String principal, com.google.protobuf.ByteString payload) {}

  /** Room an envelope takes beside its payload: a principal of 255 UTF-8 characters and two tags. */
  public static final int OVERHEAD_BYTES = 4 * Principals.MAX_LENGTH + 16;

  private Envelopes() {}

  /**
   * The bytes of {@code Envelope{principal, payload}}; the payload is not copied (the result is a
   * rope over it).
   */
  public static ByteString wrap(String principal, ByteString payload) {
    return header(principal, payload.size()).concat(payload);
  }

  /** The envelope's bytes before the payload, for a payload of {@code size} bytes. */
  public static ByteString header(String principal, int size) {
    byte[] p = principal.getBytes(StandardCharsets.UTF_8);
    byte[] out = new byte[1 + CodedOutputStream.computeUInt32SizeNoTag(p.length) + p.length + 1
        + CodedOutputStream.computeUInt32SizeNoTag(size)];
    CodedOutputStream o = CodedOutputStream.newInstance(out);
    try {
      o.writeByteArray(Envelope.PRINCIPAL_FIELD_NUMBER, p);
      o.writeTag(Envelope.PAYLOAD_FIELD_NUMBER, com.google.protobuf.WireFormat.WIRETYPE_LENGTH_DELIMITED);
      o.writeUInt32NoTag(size);
      o.checkNoSpaceLeft();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return UnsafeByteOperations.unsafeWrap(out);
  }

  /** Wraps a message of ours as the internal principal (ticks, bootstrap). */
  public static ByteString internal(byte[] payload) {
    return wrap(Principals.INTERNAL, UnsafeByteOperations.unsafeWrap(payload));
  }

  /** @throws InvalidProtocolBufferException when the bytes are not an envelope with a principal */
  public static Opened open(ByteString content) throws InvalidProtocolBufferException {
    Envelope e = Envelope.parseFrom(content.asReadOnlyByteBuffer());
    if (e.getPrincipal().isEmpty()) {
      throw new InvalidProtocolBufferException("a message without its caller's envelope (R11)");
    }
    return new Opened(e.getPrincipal(), e.getPayload());
  }
}
