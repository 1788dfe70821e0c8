package io.cohort.client;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.ByteString;
import io.cohort.statemachine.proto.QuietHeartbeatAnswer;
import io.cohort.statemachine.proto.QuietHeartbeatRequest;
import io.cohort.statemachine.proto.WatchRequest;
import io.cohort.statemachine.proto.WatchResult;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.ratis.thirdparty.io.grpc.Server;
import org.apache.ratis.thirdparty.io.grpc.ServerServiceDefinition;
import org.apache.ratis.thirdparty.io.grpc.netty.NettyServerBuilder;
import org.apache.ratis.thirdparty.io.grpc.stub.ServerCalls;
import org.apache.ratis.thirdparty.io.grpc.stub.StreamObserver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A consumer's watch moves to the peer the client saw lead once a heartbeat is answered: a leader
 * stopped by a long pause keeps its connections open, and a watch left on it hears nothing until
 * its deadline (docs/BENCHMARKS.md, "A leader stalled longer than a session"). Two real gRPC
 * servers on loopback that take watches and never answer them.
 */
class WatcherLeaderMoveTest {
  private static final ByteString SESSION = ByteString.copyFromUtf8("0123456789abcdef");

  private final List<String> watched = new CopyOnWriteArrayList<>();
  private final List<Server> servers = new ArrayList<>();
  private final AtomicReference<String> leader = new AtomicReference<>("n1");
  private final ExecutorService loop = Executors.newSingleThreadExecutor();
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
  private WatchChannel channel;
  private Watcher watcher;

  private void start() throws Exception {
    StringBuilder list = new StringBuilder();
    for (int i = 1; i <= 2; i++) {
      String id = "n" + i;
      Server s = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(silent(id))
          .build().start();
      servers.add(s);
      list.append(i == 1 ? "" : ",").append(id).append("=127.0.0.1:").append(s.getPort());
    }
    Peers peers = Peers.parse(list.toString());
    channel = new WatchChannel(() -> peers, null, leader::get);
    watcher = new Watcher(new Watcher.Host() {
      @Override
      public void heartbeatNow() {}

      @Override
      public void watchLost() {}

      @Override
      public boolean post(Runnable r) {
        loop.execute(r);
        return true;
      }
    }, channel, timer, "g", "c", 30_000, "[test]");
  }

  /** Takes every watch and never answers it, as a node stopped by SIGSTOP would. */
  private ServerServiceDefinition silent(String self) {
    return ServerServiceDefinition.builder(WatchProtocol.SERVICE)
        .addMethod(WatchProtocol.QUIET_HEARTBEATS, ServerCalls.asyncBidiStreamingCall(
            (StreamObserver<QuietHeartbeatAnswer> out) -> new StreamObserver<QuietHeartbeatRequest>() {
              @Override
              public void onNext(QuietHeartbeatRequest value) {}

              @Override
              public void onError(Throwable t) {}

              @Override
              public void onCompleted() {}
            }))
        .addMethod(WatchProtocol.METHOD, ServerCalls.asyncUnaryCall(
            (WatchRequest req, StreamObserver<WatchResult> out) -> watched.add(self)))
        .build();
  }

  private void heard() throws Exception {
    loop.submit(() -> watcher.heard(SESSION, 7, 1000)).get(30, TimeUnit.SECONDS);
  }

  @AfterEach
  void stop() throws Exception {
    if (watcher != null) {
      loop.submit(watcher::stop).get(30, TimeUnit.SECONDS);
    }
    if (channel != null) {
      channel.close();
    }
    loop.shutdownNow();
    timer.shutdownNow();
    for (Server s : servers) {
      s.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void aHeartbeatAnsweredWhileAnotherPeerLeadsMovesTheSilentWatchThere() throws Exception {
    start();
    heard();
    await().atMost(Duration.ofSeconds(30)).until(() -> watched.size() == 1);
    heard(); // the same view, the same leader: the watch placed stays
    await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(30)).until(() -> watched.size() == 1);
    leader.set("n2"); // heartbeats are answered by n2 now (n1 stopped; n2 elected)
    heard();
    await().atMost(Duration.ofSeconds(30)).until(() -> watched.size() == 2);
    assertEquals(List.of("n1", "n2"), watched, "one watch on n1, then one on n2; none again on n1");
    assertEquals(true, loop.submit(watcher::placed).get(30, TimeUnit.SECONDS));
  }

  @Test
  void aLeaderTheClientDoesNotKnowOfLeavesTheWatchWhereItIs() throws Exception {
    start();
    heard();
    await().atMost(Duration.ofSeconds(30)).until(() -> watched.size() == 1);
    leader.set(null); // no leader seen (an election): nowhere better to go
    heard();
    leader.set("n1");
    heard();
    await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(30)).until(() -> watched.size() == 1);
    leader.set("n2");
    heard();
    await().atMost(Duration.ofSeconds(30)).until(() -> watched.size() == 2);
    assertEquals(List.of("n1", "n2"), watched, "moved only when another peer was seen leading");
  }
}
