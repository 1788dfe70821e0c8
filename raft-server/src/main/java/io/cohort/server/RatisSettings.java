package io.cohort.server;

import io.cohort.client.Peers;
import java.util.List;
import java.util.Map;
import org.apache.ratis.RaftConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.rpc.SupportedRpcType;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.util.TimeDuration;
import java.util.concurrent.TimeUnit;

/**
 * Ratis settings for a loaded 2-core machine (RATIS.md section 7), every one overridable by
 * {@link ServerConfig#ratis()}: gRPC; election timeouts 600-1200 ms (clears a G1 pause, fails over
 * in about a second); the batch profile (appender wait 5 ms, sync every 512 entries);
 * linearizable reads (ReadIndex, R10); fast appender retries while a log tail is reconciled;
 * automatic snapshots, retention, and log purge up to the snapshot index.
 */
public final class RatisSettings {
  /** See {@link #forServer}: fast retries while a follower's log is reconciled. */
  public static final String APPENDER_RETRY_POLICY = "1ms,500, 100ms,1000000";

  private RatisSettings() {}

  public static RaftProperties forServer(ServerConfig config) {
    RaftProperties p = new RaftProperties();
    RaftConfigKeys.Rpc.setType(p, SupportedRpcType.GRPC);
    RaftServerConfigKeys.setStorageDir(p, List.of(config.storageDir().toFile()));
    Peers.Peer self = Peers.of(List.of(config.self())).list().get(0);
    GrpcConfigKeys.Server.setHost(p, self.host());
    GrpcConfigKeys.Server.setPort(p, self.port());

    RaftServerConfigKeys.Rpc.setTimeoutMin(p, TimeDuration.valueOf(600, TimeUnit.MILLISECONDS));
    RaftServerConfigKeys.Rpc.setTimeoutMax(p, TimeDuration.valueOf(1200, TimeUnit.MILLISECONDS));
    RaftServerConfigKeys.Log.Appender.setWaitTimeMin(p, TimeDuration.valueOf(5, TimeUnit.MILLISECONDS));
    RaftServerConfigKeys.Log.setForceSyncNum(p, 512);
    RaftServerConfigKeys.Read.setOption(p, RaftServerConfigKeys.Read.Option.LINEARIZABLE);
    // The leader walks a follower's divergent log tail back one entry per INCONSISTENCY reply, and
    // Ratis counts each reply as an error: with the default policy (1 s after 10 errors, 5 s after
    // 30) a restarted ex-leader holding a hundred uncommitted entries takes minutes to rejoin. Keep
    // retries fast for 500 errors, then 100 ms (a dead follower: ~10 attempts a second).
    RaftServerConfigKeys.Log.Appender.setRetryPolicy(p, APPENDER_RETRY_POLICY);

    long every = config.stateMachine().autoSnapshotEveryEntries();
    RaftServerConfigKeys.Snapshot.setAutoTriggerEnabled(p, every > 0);
    if (every > 0) {
      RaftServerConfigKeys.Snapshot.setAutoTriggerThreshold(p, every);
    }
    RaftServerConfigKeys.Snapshot.setRetentionFileNum(p, config.snapshotsRetained());
    RaftServerConfigKeys.Log.setPurgeUptoSnapshotIndex(p, true);

    for (Map.Entry<String, String> e : config.ratis().entrySet()) {
      p.set(e.getKey(), e.getValue());
    }
    return p;
  }
}
