package io.cohort.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.protobuf.ByteString;
import io.cohort.statemachine.proto.Heartbeat;
import io.cohort.statemachine.proto.QuietHeartbeatRequest;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import org.apache.ratis.thirdparty.io.grpc.Drainable;
import org.apache.ratis.thirdparty.io.grpc.KnownLength;
import org.apache.ratis.thirdparty.io.grpc.MethodDescriptor.Marshaller;
import org.apache.ratis.thirdparty.io.grpc.Status;
import org.apache.ratis.thirdparty.io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.Test;

class WatchProtocolTest {
  private static final Marshaller<QuietHeartbeatRequest> REQUESTS = WatchProtocol.QUIET_HEARTBEATS.getRequestMarshaller();
  private static final QuietHeartbeatRequest REQUEST = QuietHeartbeatRequest.newBuilder().setId(7)
      .setHeartbeat(Heartbeat.newBuilder().setGroup("g").setConsumerId("c-1").setSessionToken(ByteString.copyFromUtf8("s")))
      .build();

  /** What gRPC's inbound side hands a marshaller: a stream that knows its length. */
  private static final class Inbound extends ByteArrayInputStream implements KnownLength {
    private final int announced;

    Inbound(byte[] bytes, int announced) {
      super(bytes);
      this.announced = announced;
    }

    @Override
    public synchronized int available() {
      return Math.max(0, announced - pos);
    }
  }

  @Test
  void aMessageGoesOutAsItsBytesDrainedStraightIntoTheFrame() throws Exception {
    InputStream out = REQUESTS.stream(REQUEST);
    // gRPC's MessageFramer copies any other stream through a new 8 KiB buffer per message
    Drainable drainable = assertInstanceOf(Drainable.class, out);
    assertEquals(REQUEST.getSerializedSize(), assertInstanceOf(KnownLength.class, out).available());
    ByteArrayOutputStream frame = new ByteArrayOutputStream();
    assertEquals(REQUEST.getSerializedSize(), drainable.drainTo(frame));
    assertArrayEquals(REQUEST.toByteArray(), frame.toByteArray());
    assertEquals(-1, out.read());
  }

  @Test
  void aMessageOfKnownLengthIsParsedFromExactlyItsBytes() {
    assertEquals(REQUEST, REQUESTS.parse(new Inbound(REQUEST.toByteArray(), REQUEST.getSerializedSize())));
    assertEquals(REQUEST, REQUESTS.parse(REQUESTS.stream(REQUEST)));
    assertEquals(REQUEST, REQUESTS.parse(new ByteArrayInputStream(REQUEST.toByteArray()))); // any other stream
  }

  @Test
  void aStreamShorterOrLongerThanItAnnouncedIsRefused() {
    byte[] bytes = REQUEST.toByteArray();
    StatusRuntimeException shorter = assertThrows(StatusRuntimeException.class,
        () -> REQUESTS.parse(new Inbound(java.util.Arrays.copyOf(bytes, bytes.length - 3), bytes.length)));
    assertEquals(Status.Code.INTERNAL, shorter.getStatus().getCode());
    StatusRuntimeException longer = assertThrows(StatusRuntimeException.class,
        () -> REQUESTS.parse(new Inbound(bytes, bytes.length - 3)));
    assertEquals(Status.Code.INTERNAL, longer.getStatus().getCode());
  }

  @Test
  void bytesThatAreNoMessageAreAnInvalidArgument() {
    byte[] garbage = {(byte) 0xff, (byte) 0xff, (byte) 0xff};
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
        () -> REQUESTS.parse(new Inbound(garbage, garbage.length)));
    assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
  }
}
