package io.cohort.client;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import io.cohort.statemachine.proto.QuietHeartbeatAnswer;
import io.cohort.statemachine.proto.QuietHeartbeatRequest;
import io.cohort.statemachine.proto.WatchRequest;
import io.cohort.statemachine.proto.WatchResult;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import org.apache.ratis.thirdparty.io.grpc.Drainable;
import org.apache.ratis.thirdparty.io.grpc.KnownLength;
import org.apache.ratis.thirdparty.io.grpc.Metadata;
import org.apache.ratis.thirdparty.io.grpc.MethodDescriptor;
import org.apache.ratis.thirdparty.io.grpc.Status;

/**
 * Cohort's own service on each node's Raft port, next to Ratis' services (behind the same TLS and
 * access interceptor):
 * <ul>
 *   <li>the watch (R12), {@code cohort.Watch/watch}, unary: a follower answers UNAVAILABLE with the
 *       leader's id in the {@link #LEADER} trailer when it knows it;
 *   <li>quiet heartbeats (step 11), {@code cohort.Watch/quietHeartbeats}, one long-lived stream per
 *       client and leader carrying requests with ids and answers in any order, which the leader
 *       answers off the log without the Ratis client protocol's per-request work (a node that does
 *       not lead answers NEEDS_WRITE).
 * </ul>
 * Messages are Cohort's protobuf ones, marshalled as bytes (the shaded gRPC is Ratis').
 */
public final class WatchProtocol {
  public static final String SERVICE = "cohort.Watch";
  /** The longest a watch waits; a longer request is cut to this. */
  public static final long MAX_TIMEOUT_MS = 60_000;
  /** A follower's hint: the leader's peer id. */
  public static final Metadata.Key<String> LEADER = Metadata.Key.of("cohort-leader", Metadata.ASCII_STRING_MARSHALLER);

  public static final MethodDescriptor<WatchRequest, WatchResult> METHOD =
      MethodDescriptor.<WatchRequest, WatchResult>newBuilder()
          .setType(MethodDescriptor.MethodType.UNARY)
          .setFullMethodName(MethodDescriptor.generateFullMethodName(SERVICE, "watch"))
          .setRequestMarshaller(new Bytes<>(WatchRequest.parser()))
          .setResponseMarshaller(new Bytes<>(WatchResult.parser()))
          .build();

  public static final MethodDescriptor<QuietHeartbeatRequest, QuietHeartbeatAnswer> QUIET_HEARTBEATS =
      MethodDescriptor.<QuietHeartbeatRequest, QuietHeartbeatAnswer>newBuilder()
          .setType(MethodDescriptor.MethodType.BIDI_STREAMING)
          .setFullMethodName(MethodDescriptor.generateFullMethodName(SERVICE, "quietHeartbeats"))
          .setRequestMarshaller(new Bytes<>(QuietHeartbeatRequest.parser()))
          .setResponseMarshaller(new Bytes<>(QuietHeartbeatAnswer.parser()))
          .build();

  private WatchProtocol() {}

  /**
   * How often a consumer whose replicated heartbeat or commit waits keeps its session alive on the
   * quiet stream: every quarter session, or every interval when that is longer (the client and the
   * heartbeat bench's simulated consumers both follow it).
   */
  public static long keepAlivePeriodMs(long heartbeatIntervalMs, long sessionTimeoutMs) {
    return Math.max(heartbeatIntervalMs, sessionTimeoutMs / 4);
  }

  /**
   * Protobuf messages as bytes, without gRPC's per-message buffers: a quiet heartbeat is ~100 bytes,
   * and the leader takes thousands a second (step 11). A plain stream made gRPC copy each answer
   * through a new 8 KiB buffer, and parsing from a stream made protobuf allocate 4 KiB per request:
   * the largest part of the leader's allocation at 6,800 quiet heartbeats a second (BENCHMARKS).
   */
  private static final class Bytes<T extends MessageLite> implements MethodDescriptor.Marshaller<T> {
    private final Parser<T> parser;

    Bytes(Parser<T> parser) {
      this.parser = parser;
    }

    @Override
    public InputStream stream(T value) {
      return new Serialized(value.toByteArray());
    }

    @Override
    public T parse(InputStream stream) {
      try {
        if (stream instanceof KnownLength) { // gRPC's inbound messages: their exact size, already within its limit
          byte[] bytes = new byte[stream.available()];
          int read = stream.readNBytes(bytes, 0, bytes.length);
          if (read == bytes.length && stream.read() < 0) {
            return parser.parseFrom(bytes);
          }
          throw Status.INTERNAL.withDescription("a message of " + SERVICE + " was not the length it announced")
              .asRuntimeException();
        }
        return parser.parseFrom(stream);
      } catch (InvalidProtocolBufferException e) {
        throw Status.INVALID_ARGUMENT.withDescription("not a Cohort message of " + SERVICE + ": " + e.getMessage())
            .asRuntimeException();
      } catch (IOException e) {
        throw Status.INTERNAL.withDescription("reading a message of " + SERVICE + ": " + e.getMessage()).asRuntimeException();
      }
    }
  }

  /** A serialized message gRPC writes straight to its frame ({@link Drainable}) with a known length. */
  private static final class Serialized extends ByteArrayInputStream implements Drainable, KnownLength {
    Serialized(byte[] bytes) {
      super(bytes);
    }

    @Override
    public synchronized int drainTo(OutputStream target) throws IOException {
      int n = count - pos;
      target.write(buf, pos, n);
      pos = count;
      return n;
    }
  }
}
