package io.cohort.server;

import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.apache.ratis.proto.RaftProtos.AppendEntriesRequestProto;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.thirdparty.io.grpc.ForwardingServerCallListener;
import org.apache.ratis.thirdparty.io.grpc.Metadata;
import org.apache.ratis.thirdparty.io.grpc.ServerCall;
import org.apache.ratis.thirdparty.io.grpc.ServerCallHandler;
import org.apache.ratis.thirdparty.io.grpc.ServerInterceptor;
import org.apache.ratis.thirdparty.io.grpc.Status;

/**
 * Keeps a node started with {@code --join} on empty storage from ever acting as a member it no
 * longer is (RATIS-NOTES D.6). A peer the leader is adding is staged: its first appends come
 * marked {@code initializing}, and only once it caught up does an append without the mark make it
 * a running follower. An append without the mark reaching a node that holds nothing at all means
 * the leader counts this id as a voter already: the machine lost the storage of a member, and
 * Ratis would let it vote right away with its votes forgotten. That append is refused here,
 * before Ratis sees it, and the node stops with the next step to take.
 *
 * <p>Installed on the node's gRPC server ({@code GrpcConfigKeys.Server.setServicesCustomizer});
 * it disarms for good once the node holds an entry or a snapshot.
 */
final class JoinGuard implements ServerInterceptor {
  private static final String APPEND_ENTRIES = "ratis.grpc.RaftServerProtocolService/appendEntries";

  private final RaftPeerId self;
  private final BooleanSupplier holdsNothing;
  private final Consumer<String> stop;
  private volatile boolean armed = true;
  private volatile boolean tripped;

  /**
   * @param holdsNothing true while the node has no log entry and no snapshot
   * @param stop told once, with the line for the operator
   */
  JoinGuard(RaftPeerId self, BooleanSupplier holdsNothing, Consumer<String> stop) {
    this.self = self;
    this.holdsNothing = holdsNothing;
    this.stop = stop;
  }

  @Override
  public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers,
      ServerCallHandler<Q, A> next) {
    ServerCall.Listener<Q> delegate = next.startCall(call, headers);
    if ((!armed && !tripped) || !APPEND_ENTRIES.equals(call.getMethodDescriptor().getFullMethodName())) {
      return delegate;
    }
    return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(delegate) {
      private boolean refused;

      @Override
      public void onMessage(Q message) {
        if (refused) {
          return;
        }
        if (message instanceof AppendEntriesRequestProto r && refuses(r)) {
          refused = true;
          call.close(Status.FAILED_PRECONDITION.withDescription(self + " has no storage and must not rejoin"
              + " as the member it was"), new Metadata());
          return;
        }
        super.onMessage(message);
      }
    };
  }

  /** Once tripped, every append is refused until the node is gone. */
  private boolean refuses(AppendEntriesRequestProto request) {
    if (tripped) {
      return true;
    }
    if (!armed) {
      return false;
    }
    if (!holdsNothing.getAsBoolean()) {
      armed = false;
      return false;
    }
    if (request.getInitializing()) {
      return false; // staged: the leader is adding this node
    }
    synchronized (this) {
      if (!tripped) {
        tripped = true;
        String leader = request.getServerRequest().getRequestorId().toStringUtf8();
        stop.accept("[" + self + "] leader " + leader + " counts " + self + " as a member already, but this node has no"
            + " storage: an empty node must not rejoin under the id of a member (it forgot its votes); stop it and"
            + " replace the member with a new id: `cohort cluster replace " + self + " " + self + "b=HOST:PORT` (start "
            + self + "b with --join)");
      }
    }
    return true;
  }
}
