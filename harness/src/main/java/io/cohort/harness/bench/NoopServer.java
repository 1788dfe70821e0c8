package io.cohort.harness.bench;

import com.beust.jcommander.JCommander;
import io.cohort.server.CallThreads;
import io.cohort.server.RatisSettings;
import io.cohort.server.ServerConfig;
import io.cohort.server.ServerOptions;
import io.cohort.server.tls.PeerDirectory;
import io.cohort.server.tls.ServerTls;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.grpc.GrpcConfigKeys;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.raftlog.RaftLog;
import org.apache.ratis.server.storage.FileInfo;
import org.apache.ratis.statemachine.impl.SingleFileSnapshotInfo;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.statemachine.impl.SimpleStateMachineStorage;

/**
 * The baseline of {@code cohort bench commit}: a Ratis server whose state machine does nothing
 * (every write is appended, replicated, committed and answered with an empty reply). Takes the same
 * flags as {@code cohort server} and builds its Ratis properties with the same {@link
 * RatisSettings#forServer}, so transport, timeouts, batching and fsync settings are Cohort's, and
 * the same mutual TLS when given certificates (no access interceptor: it has no state to guard) and
 * the same {@link CallThreads}.
 * Started by the bench as a process: {@code java -cp cohort.jar io.cohort.harness.bench.NoopServer
 * --id n1 --storage DIR --peers ...}.
 */
public final class NoopServer {
  private NoopServer() {}

  /** Appends and replicates like any state machine; applying is only advancing the applied index. */
  static final class NoopStateMachine extends BaseStateMachine {
    private final SimpleStateMachineStorage storage = new SimpleStateMachineStorage();

    @Override
    public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage raftStorage) throws IOException {
      super.initialize(server, groupId, raftStorage);
      storage.init(raftStorage);
      getLifeCycle().startAndTransition(() -> { });
    }

    @Override
    public SimpleStateMachineStorage getStateMachineStorage() {
      return storage;
    }

    @Override
    public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
      LogEntryProto entry = trx.getLogEntry();
      updateLastAppliedTermIndex(entry.getTerm(), entry.getIndex());
      return CompletableFuture.completedFuture(Message.EMPTY);
    }

    @Override
    public CompletableFuture<Message> query(Message request) {
      return CompletableFuture.completedFuture(Message.EMPTY);
    }

    /**
     * An empty snapshot at the applied index, so Ratis purges the log behind it as it does for
     * Cohort (same auto-snapshot threshold): without it the baseline's log and heap only grow, and
     * its throughput sank late in long phases, which flattered Cohort.
     */
    @Override
    public long takeSnapshot() throws IOException {
      TermIndex last = getLastAppliedTermIndex();
      if (last == null || last.getIndex() < 0) {
        return RaftLog.INVALID_LOG_INDEX;
      }
      java.io.File file = storage.getSnapshotFile(last.getTerm(), last.getIndex());
      java.nio.file.Files.write(file.toPath(), new byte[0]);
      storage.updateLatestSnapshot(new SingleFileSnapshotInfo(new FileInfo(file.toPath(), null), last));
      return last.getIndex();
    }
  }

  public static void main(String[] args) throws Exception {
    System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
    java.util.logging.Logger.getLogger("org.apache.ratis.thirdparty.io.grpc").setLevel(java.util.logging.Level.WARNING);
    ServerOptions o = new ServerOptions();
    JCommander.newBuilder().addObject(o).build().parse(args);
    ServerConfig config = o.toConfig(System.getenv());
    ServerTls tls = config.tls() == null ? null : ServerTls.start(config.tls(), new PeerDirectory(config.peers()),
        config.id().toString(), config.selfAddress());
    Parameters parameters = new Parameters();
    if (tls != null) {
      GrpcConfigKeys.TLS.setConf(parameters, tls.grpc());
    }
    CallThreads calls = new CallThreads(config.id().toString()); // the port's calls on Cohort's threads
    GrpcConfigKeys.Server.setServicesCustomizer(parameters, (builder, types) -> builder.callExecutor(calls.supplier()));
    RaftServer server = RaftServer.newBuilder()
        .setServerId(config.id())
        .setGroup(config.group())
        .setStateMachine(new NoopStateMachine())
        .setProperties(RatisSettings.forServer(config))
        .setParameters(parameters)
        .setOption(RaftStorage.StartupOption.RECOVER)
        .build();
    server.start();
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        server.close();
      } catch (IOException e) {
        System.err.println("noop server: close failed: " + e);
      }
      calls.close();
      stopped.countDown();
    }, "noop-shutdown"));
    System.err.println("noop server " + config.id() + " started on " + config.self().getAddress());
    stopped.await();
  }
}
