package io.cohort.server;

import static io.cohort.server.Commands.createGroup;
import static io.cohort.server.Commands.createTopic;
import static io.cohort.server.Commands.join;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cohort.client.Peers;
import io.cohort.client.WatchProtocol;
import io.cohort.client.tls.ClientTls;
import io.cohort.server.testing.MiniCluster;
import io.cohort.server.testing.TestClient;
import io.cohort.statemachine.AssignmentView;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.HeartbeatResult;
import io.cohort.statemachine.proto.Result;
import io.cohort.statemachine.proto.WatchRequest;
import io.cohort.statemachine.proto.WatchResult;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.ratis.thirdparty.io.grpc.CallOptions;
import org.apache.ratis.thirdparty.io.grpc.ManagedChannel;
import org.apache.ratis.thirdparty.io.grpc.Status;
import org.apache.ratis.thirdparty.io.grpc.StatusRuntimeException;
import org.apache.ratis.thirdparty.io.grpc.netty.NettyChannelBuilder;
import org.apache.ratis.thirdparty.io.grpc.stub.ClientCalls;
import org.apache.ratis.thirdparty.io.grpc.stub.StreamObserver;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * R12: a leader cut off from its followers sends its parked watches away (UNAVAILABLE) rather than
 * holding them to their timeout, so consumers look for the real leader. Two paths do it: Ratis'
 * step-down (notifyNotLeader) and, for a leader Ratis keeps in office while it appends (RATIS-NOTES
 * C.4), the freshness sampler ({@link LeaderFreshness}). In this in-JVM setup Ratis stepped down
 * within about 1.2 s in every run tried (also with 20 ms ticks), so this test covers the first
 * path; {@link LeaderFreshnessTest} covers the second's rule.
 */
class WatchCutOffTest {
  @TempDir
  Path dir;

  @Test
  void R12_aLeaderThatLostItsMajoritySendsItsWatchesAwayLongBeforeTheirTimeout() throws Exception {
    try (MiniCluster cluster = MiniCluster.start(3, dir.resolve("cluster"))) {
      String leader = cluster.leaderId();
      TestClient admin = cluster.client();
      ok(admin.write(createTopic("t", 1)));
      ok(admin.write(createGroup("g", "t", 60_000)));
      HeartbeatResult a = ok(admin.write(join("g", "A"))).getHeartbeat();
      WatchRequest req = WatchRequest.newBuilder().setGroup("g").setConsumerId("A")
          .setSessionToken(a.getSessionToken()).setKnownView(AssignmentView.of(a)).setTimeoutMs(50_000).build();
      ManagedChannel ch = NettyChannelBuilder.forTarget(cluster.address(leader)).useTransportSecurity()
          .sslContext(ClientTls.of(cluster.adminTls(), Peers.parse(cluster.peers())).grpcClientContext()).build();
      try {
        CompletableFuture<WatchResult> w = new CompletableFuture<>();
        ClientCalls.asyncUnaryCall(ch.newCall(WatchProtocol.METHOD,
            CallOptions.DEFAULT.withDeadlineAfter(80, TimeUnit.SECONDS)), req, observer(w));
        assertThrows(TimeoutException.class, () -> w.get(1_000, TimeUnit.MILLISECONDS), "parked while fresh");

        long t0 = System.nanoTime();
        for (String id : cluster.ids()) {
          if (!id.equals(leader)) {
            cluster.kill(id);
          }
        }
        ExecutionException e = assertThrows(ExecutionException.class, () -> w.get(20, TimeUnit.SECONDS));
        long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        StatusRuntimeException s = assertInstanceOf(StatusRuntimeException.class, e.getCause());
        assertEquals(Status.Code.UNAVAILABLE, s.getStatus().getCode(), s.toString());
        assertTrue(tookMs < 20_000, "sent away after " + tookMs + " ms");
      } finally {
        ch.shutdownNow();
      }
    }
  }

  private static Result ok(Result r) {
    assertEquals(Code.OK, r.getCode(), r.getMessage());
    return r;
  }

  private static StreamObserver<WatchResult> observer(CompletableFuture<WatchResult> out) {
    return new StreamObserver<>() {
      @Override
      public void onNext(WatchResult v) {
        out.complete(v);
      }

      @Override
      public void onError(Throwable t) {
        out.completeExceptionally(t);
      }

      @Override
      public void onCompleted() {}
    };
  }
}
