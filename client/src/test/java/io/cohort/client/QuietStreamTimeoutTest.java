package io.cohort.client;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Heartbeat;
import io.cohort.statemachine.proto.QueryResult;
import io.cohort.statemachine.proto.QuietHeartbeatAnswer;
import io.cohort.statemachine.proto.QuietHeartbeatRequest;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongPredicate;
import org.apache.ratis.thirdparty.io.grpc.Server;
import org.apache.ratis.thirdparty.io.grpc.ServerServiceDefinition;
import org.apache.ratis.thirdparty.io.grpc.netty.NettyServerBuilder;
import org.apache.ratis.thirdparty.io.grpc.stub.ServerCalls;
import org.apache.ratis.thirdparty.io.grpc.stub.StreamObserver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A quiet heartbeat without an answer fails with a timeout, and only a stream that fell silent is
 * reset (one still answering keeps its other heartbeats). Against a real gRPC server on loopback
 * that answers the requests a test picks, by id.
 */
class QuietStreamTimeoutTest {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private final AtomicInteger streamsOpened = new AtomicInteger();
  private final AtomicInteger streamsCancelled = new AtomicInteger();
  private final List<StreamObserver<QuietHeartbeatAnswer>> open = new CopyOnWriteArrayList<>();
  private volatile LongPredicate answers = id -> true;
  private Server server;
  private WatchChannel channel;

  private void start() throws Exception {
    ServerServiceDefinition service = ServerServiceDefinition.builder(WatchProtocol.SERVICE)
        .addMethod(WatchProtocol.QUIET_HEARTBEATS, ServerCalls.asyncBidiStreamingCall(out -> {
          streamsOpened.incrementAndGet();
          open.add(out);
          return new StreamObserver<QuietHeartbeatRequest>() {
            @Override
            public void onNext(QuietHeartbeatRequest req) {
              if (answers.test(req.getId())) {
                synchronized (out) {
                  out.onNext(QuietHeartbeatAnswer.newBuilder().setId(req.getId())
                      .setResult(QueryResult.newBuilder().setCode(Code.OK)).build());
                }
              }
            }

            @Override
            public void onError(Throwable t) {
              streamsCancelled.incrementAndGet();
            }

            @Override
            public void onCompleted() {}
          };
        }))
        .build();
    server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(service).build().start();
    channel = new WatchChannel(Peers.parse("n1=127.0.0.1:" + server.getPort()), null);
  }

  @AfterEach
  void stop() {
    if (channel != null) {
      channel.close();
    }
    if (server != null) {
      server.shutdownNow();
    }
  }

  private static Heartbeat hb() {
    return Heartbeat.newBuilder().setGroup("g").setConsumerId("c").build();
  }

  private static Throwable failure(CompletableFuture<?> f) {
    CompletionException e = org.junit.jupiter.api.Assertions.assertThrows(CompletionException.class, f::join);
    return e.getCause();
  }

  @Test
  void anAnsweredQuietHeartbeatCompletesWithItsAnswer() throws Exception {
    start();
    QuietHeartbeatAnswer a = channel.quietHeartbeat("n1", hb(), 30_000).get();
    assertEquals(Code.OK, a.getResult().getCode());
  }

  @Test
  void aQuietHeartbeatNobodyAnswersTimesOutAndItsSilentStreamIsReset() throws Exception {
    answers = id -> false;
    start();
    long started = System.nanoTime();
    CompletableFuture<QuietHeartbeatAnswer> f = channel.quietHeartbeat("n1", hb(), 300);
    await().atMost(WAIT).until(f::isDone);
    assertTrue(System.nanoTime() - started >= 300_000_000L, "failed before its timeout");
    assertInstanceOf(TimeoutException.class, failure(f));
    await().atMost(WAIT).until(() -> streamsCancelled.get() == 1); // a wedged stream is not reused
    answers = id -> true;
    assertEquals(Code.OK, channel.quietHeartbeat("n1", hb(), 30_000).get().getResult().getCode());
    assertEquals(2, streamsOpened.get(), "the next heartbeat opened a new stream");
  }

  @Test
  void aTimeoutOnAStreamThatStillAnswersKeepsTheStream() throws Exception {
    answers = id -> id != 1; // the first heartbeat is never answered, every later one is
    start();
    CompletableFuture<QuietHeartbeatAnswer> lost = channel.quietHeartbeat("n1", hb(), 1_000);
    assertEquals(Code.OK, channel.quietHeartbeat("n1", hb(), 30_000).get().getResult().getCode());
    await().atMost(WAIT).until(lost::isDone);
    assertInstanceOf(TimeoutException.class, failure(lost));
    CompletableFuture<QuietHeartbeatAnswer> waiting = channel.quietHeartbeat("n1", hb(), 30_000);
    assertEquals(Code.OK, waiting.get().getResult().getCode());
    assertEquals(1, streamsOpened.get(), "the stream was kept");
    assertEquals(0, streamsCancelled.get());
  }

  @Test
  void aClosedChannelFailsWhatWaitsAndStopsItsTimeoutThread() throws Exception {
    answers = id -> false;
    start();
    CompletableFuture<QuietHeartbeatAnswer> f = channel.quietHeartbeat("n1", hb(), 60_000);
    await().atMost(WAIT).until(() -> open.size() == 1);
    assertTrue(channel.sweeping());
    channel.close();
    await().atMost(WAIT).until(f::isDone);
    assertTrue(f.isCompletedExceptionally());
    await().atMost(WAIT).until(() -> !channel.sweeping());
  }
}
