package io.cohort.server.testing;

import io.cohort.server.Messages;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.Query;
import io.cohort.statemachine.proto.QueryResult;
import io.cohort.statemachine.proto.Result;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftPeerId;

/** Blocking Cohort calls over one Ratis client, for tests (the real client is in module client). */
public final class TestClient implements AutoCloseable {
  private final RaftClient raft;

  public TestClient(RaftClient raft) {
    this.raft = raft;
  }

  /** A plaintext client of any group (an insecure node), with gRPC and {@link MiniCluster#boundedRetry()}. */
  public static TestClient insecure(org.apache.ratis.protocol.RaftGroup group) {
    return new TestClient(RaftClient.newBuilder().setProperties(MiniCluster.clientProperties())
        .setRaftGroup(group).setRetryPolicy(MiniCluster.boundedRetry()).build());
  }

  public RaftClient raft() {
    return raft;
  }

  /** A replicated command; throws if Ratis failed or rejected it (e.g. INVALID_ARGUMENT in startTransaction). */
  public Result write(Command command) {
    try {
      RaftClientReply reply = raft.io().send(Messages.of(command));
      if (!reply.isSuccess()) {
        throw new IllegalStateException("write failed: " + reply.getException());
      }
      return Result.parseFrom(Messages.bytes(reply.getMessage()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A linearizable read (ReadIndex) through the leader. */
  public QueryResult read(Query query) {
    try {
      return QueryResult.parseFrom(Messages.bytes(raft.io().sendReadOnly(Messages.of(query)).getMessage()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A stale read served by one peer once its commit index reaches {@code minIndex}. */
  public QueryResult staleRead(Query query, long minIndex, String peer) {
    try {
      return QueryResult.parseFrom(Messages.bytes(raft.io().sendStaleRead(Messages.of(query), minIndex,
          RaftPeerId.valueOf(peer)).getMessage()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    try {
      raft.close();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
