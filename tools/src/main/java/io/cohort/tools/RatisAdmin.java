package io.cohort.tools;

import io.cohort.server.Peers;
import io.cohort.server.ServerConfig;
import java.io.IOException;
import java.util.List;
import org.apache.ratis.RaftConfigKeys;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.rpc.SupportedRpcType;
import org.apache.ratis.util.TimeDuration;

/** Operator calls that go to Ratis itself rather than the state machine: snapshots. */
public final class RatisAdmin implements AutoCloseable {
  private final RaftGroup group;
  private final RaftClient raft;

  public RatisAdmin(String peersSpec) {
    List<RaftPeer> peers = Peers.parse(peersSpec);
    this.group = RaftGroup.valueOf(ServerConfig.DEFAULT_GROUP_ID, peers);
    RaftProperties p = new RaftProperties();
    RaftConfigKeys.Rpc.setType(p, SupportedRpcType.GRPC);
    RaftClientConfigKeys.Rpc.setRequestTimeout(p, TimeDuration.valueOf(2, java.util.concurrent.TimeUnit.SECONDS));
    // Bounded: an operator command must answer, never hang on a dead cluster.
    this.raft = RaftClient.newBuilder().setProperties(p).setRaftGroup(group)
        .setRetryPolicy(RetryPolicies.retryUpToMaximumCountWithFixedSleep(3,
            TimeDuration.valueOf(300, java.util.concurrent.TimeUnit.MILLISECONDS)))
        .build();
  }

  /** Asks the leader to take a snapshot now; returns the index it covers. */
  public long takeSnapshot(long timeoutMs) throws IOException {
    RaftClientReply reply = raft.getSnapshotManagementApi().create(true, timeoutMs);
    if (!reply.isSuccess()) {
      throw new IOException("snapshot failed: " + reply.getException());
    }
    return reply.getLogIndex();
  }

  @Override
  public void close() throws IOException {
    raft.close();
  }
}
