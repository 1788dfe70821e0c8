package io.cohort.server;

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
 * The leader's own commands (ticks, bootstrap limits), submitted in-process to the local server:
 * no RaftClient, no retry. They pass {@code startTransaction} like any write, so they are checked
 * and stamped. Call from the server's own executor, never from a state machine callback (the reply
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
        .setMessage(command).setType(RaftClientRequest.writeRequestType()).build();
    return server.get().submitClientRequestAsync(request);
  }
}
