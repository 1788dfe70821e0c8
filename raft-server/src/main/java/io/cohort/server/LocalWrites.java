package io.cohort.server;

import io.cohort.statemachine.Principals;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;

/**
 * The leader's own commands (ticks, bootstrap limits and admins), submitted in-process to the local
 * server: no RaftClient, no retry, no gRPC interceptor, so each is wrapped here in an envelope with
 * the internal principal, which no certificate can name (R11). They pass {@code startTransaction}
 * like any write, so they are checked and stamped. Call from the server's own executor, never from a state machine callback (the reply
 * needs the apply thread).
 */
final class LocalWrites {
  private final Supplier<RaftServer> server;
  private final RaftGroupId groupId;
  private final RaftPeerId self;
  private final ClientId clientId = ClientId.randomId();
  private final AtomicLong callId = new AtomicLong();

  LocalWrites(Supplier<RaftServer> server, RaftGroupId groupId, RaftPeerId self) {
    this.server = server;
    this.groupId = groupId;
    this.self = self;
  }

  RaftPeerId self() {
    return self;
  }

  /** The reply completes once applied; a {@code NotLeaderException} in it means this node does not lead. */
  CompletableFuture<RaftClientReply> submit(Message command) throws IOException {
    RaftClientRequest request = RaftClientRequest.newBuilder().setClientId(clientId)
        .setServerId(self).setGroupId(groupId).setCallId(callId.incrementAndGet())
        .setMessage(Message.valueOf(Envelopes.wrap(Principals.INTERNAL, command.getContent())))
        .setType(RaftClientRequest.writeRequestType()).build();
    return server.get().submitClientRequestAsync(request);
  }
}
