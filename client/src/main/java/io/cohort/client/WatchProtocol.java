package io.cohort.client;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import io.cohort.statemachine.proto.WatchRequest;
import io.cohort.statemachine.proto.WatchResult;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import org.apache.ratis.thirdparty.io.grpc.Metadata;
import org.apache.ratis.thirdparty.io.grpc.MethodDescriptor;
import org.apache.ratis.thirdparty.io.grpc.Status;

/**
 * The watch (R12) on the wire: one unary gRPC method, {@code cohort.Watch/watch}, served on each
 * node's Raft port next to Ratis' services (behind the same TLS and access interceptor). A
 * follower answers UNAVAILABLE with the leader's id in the {@link #LEADER} trailer when it knows
 * it. Messages are Cohort's protobuf ones, marshalled as bytes (the shaded gRPC is Ratis').
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

  private WatchProtocol() {}

  private static final class Bytes<T extends MessageLite> implements MethodDescriptor.Marshaller<T> {
    private final Parser<T> parser;

    Bytes(Parser<T> parser) {
      this.parser = parser;
    }

    @Override
    public InputStream stream(T value) {
      return new ByteArrayInputStream(value.toByteArray());
    }

    @Override
    public T parse(InputStream stream) {
      try {
        return parser.parseFrom(stream);
      } catch (InvalidProtocolBufferException e) {
        throw Status.INVALID_ARGUMENT.withDescription("not a Cohort watch message: " + e.getMessage())
            .asRuntimeException();
      } catch (IOException e) {
        throw Status.INTERNAL.withDescription("reading a watch message: " + e.getMessage()).asRuntimeException();
      }
    }
  }
}
