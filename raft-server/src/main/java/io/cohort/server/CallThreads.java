package io.cohort.server;

import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.ratis.proto.grpc.RaftServerProtocolServiceGrpc;
import org.apache.ratis.thirdparty.io.grpc.Metadata;
import org.apache.ratis.thirdparty.io.grpc.ServerCall;
import org.apache.ratis.thirdparty.io.grpc.ServerCallExecutorSupplier;

/**
 * The threads that run the calls clients make on a node's port: Ratis' client and admin services and
 * the watches (quiet heartbeats run on the thread that read them). Left to gRPC they ran on its
 * shared cached pool, which starts a thread for every call that finds the others busy: under a
 * heartbeat flood a leader had 500+ of them, and on two cores each took its share of CPU from the
 * threads that append and replicate the log. Those calls do not block (each hands its work on and
 * returns), so a few threads and a queue serve them as well. The peers' own traffic (appends,
 * votes, snapshots, read indexes: Ratis' server protocol) stays on gRPC's pool, a few streams that
 * must never wait in a queue behind a flood of clients. The bench's no-op baseline uses them too.
 */
public final class CallThreads implements AutoCloseable {
  public static final int THREADS = 4;

  private final ThreadPoolExecutor pool;

  public CallThreads(String self) {
    AtomicInteger n = new AtomicInteger();
    pool = new ThreadPoolExecutor(THREADS, THREADS, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(), r -> {
      Thread t = new Thread(r, "cohort-calls-" + self + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
  }

  /**
   * Where each call on the port runs: quiet heartbeats on the transport's thread that read them
   * ({@link WatchService#QUIET_INLINE}), the peers' Raft traffic on gRPC's pool (null), every other
   * call on these threads.
   */
  public ServerCallExecutorSupplier supplier() {
    return new ServerCallExecutorSupplier() {
      @Override
      public <ReqT, RespT> Executor getExecutor(ServerCall<ReqT, RespT> call, Metadata metadata) {
        String service = call.getMethodDescriptor().getServiceName();
        if (RaftServerProtocolServiceGrpc.SERVICE_NAME.equals(service)) {
          return null;
        }
        return call.getMethodDescriptor().getFullMethodName().equals(WatchService.QUIET_INLINE) ? Runnable::run : pool;
      }
    };
  }

  /** Takes no more calls; those queued still run (the port is closed first). */
  @Override
  public void close() {
    pool.shutdown();
  }
}
