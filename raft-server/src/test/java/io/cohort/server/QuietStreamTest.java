package io.cohort.server;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cohort.server.tls.AccessInterceptor;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Heartbeat;
import io.cohort.statemachine.proto.QueryResult;
import io.cohort.statemachine.proto.QuietHeartbeatAnswer;
import io.cohort.statemachine.proto.QuietHeartbeatRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.time.Duration;
import org.apache.ratis.thirdparty.io.grpc.Context;
import org.apache.ratis.thirdparty.io.grpc.stub.ServerCallStreamObserver;
import org.apache.ratis.thirdparty.io.grpc.stub.StreamObserver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The server's side of a stream of quiet heartbeats (step 11), on a fake gRPC call: answers by id in
 * any order, the end of the stream only after the last answer, flow control, and a node that does
 * not lead. The real calls, certificates and answers are in {@link WatchServiceTest}.
 */
class QuietStreamTest {
  private static final QueryResult OK = QueryResult.newBuilder().setCode(Code.OK).build();

  /** A gRPC call that records what the service sends and asks for. */
  static final class FakeCall extends ServerCallStreamObserver<QuietHeartbeatAnswer> {
    final List<QuietHeartbeatAnswer> sent = new ArrayList<>();
    int requested;
    boolean ready = true;
    boolean completed;
    Runnable onReady = () -> { };
    Runnable onCancel = () -> { };

    @Override
    public boolean isCancelled() {
      return false;
    }

    @Override
    public void setOnCancelHandler(Runnable r) {
      onCancel = r;
    }

    @Override
    public void setCompression(String compression) {}

    @Override
    public void disableAutoRequest() {}

    @Override
    public boolean isReady() {
      return ready;
    }

    @Override
    public void setOnReadyHandler(Runnable r) {
      onReady = r;
    }

    @Override
    public void disableAutoInboundFlowControl() {}

    @Override
    public void request(int n) {
      requested += n;
    }

    @Override
    public void setMessageCompression(boolean enable) {}

    @Override
    public void onNext(QuietHeartbeatAnswer value) {
      sent.add(value);
    }

    @Override
    public void onError(Throwable t) {
      throw new AssertionError("the stream failed", t);
    }

    @Override
    public void onCompleted() {
      completed = true;
    }
  }

  private final List<WatchService> services = new ArrayList<>();
  private final AtomicInteger asked = new AtomicInteger();

  @AfterEach
  void close() {
    services.forEach(WatchService::close);
  }

  /** A service on a node that leads ({@code notLeader} null) or not, answering quiet heartbeats with {@code answers}. */
  private StreamObserver<QuietHeartbeatRequest> open(FakeCall call, String notLeader,
      List<CompletableFuture<QueryResult>> answers) throws Exception {
    return openJudgedBy(call, () -> notLeader, answers);
  }

  private StreamObserver<QuietHeartbeatRequest> openJudgedBy(FakeCall call, WatchService.Leadership leadership,
      List<CompletableFuture<QueryResult>> answers) throws Exception {
    WatchService service = new WatchService("n1", (g, c, s, p) -> null, (hb, principal) -> {
      assertEquals("alice", principal);
      return answers.get(asked.getAndIncrement());
    }, leadership);
    services.add(service);
    return Context.current().withValue(AccessInterceptor.PRINCIPAL, "alice").call(() -> service.quietHeartbeats(call));
  }

  private static QuietHeartbeatRequest request(long id) {
    return QuietHeartbeatRequest.newBuilder().setId(id)
        .setHeartbeat(Heartbeat.newBuilder().setGroup("g").setConsumerId("c" + id)).build();
  }

  private static List<Long> ids(FakeCall call) {
    return call.sent.stream().map(QuietHeartbeatAnswer::getId).toList();
  }

  @Test
  void answersGoOutByIdInTheOrderTheyAreReady() throws Exception {
    FakeCall call = new FakeCall();
    CompletableFuture<QueryResult> first = new CompletableFuture<>();
    var in = open(call, null, List.of(first, CompletableFuture.completedFuture(OK)));
    in.onNext(request(7));
    in.onNext(request(8));
    assertEquals(List.of(8L), ids(call), "the second was ready first and did not wait for the first");
    first.complete(OK);
    assertEquals(List.of(8L, 7L), ids(call));
  }

  @Test
  void aStreamTheClientClosedEndsOnlyAfterItsLastAnswerWentOut() throws Exception {
    FakeCall call = new FakeCall();
    CompletableFuture<QueryResult> waiting = new CompletableFuture<>(); // waits for the leader's writes
    var in = open(call, null, List.of(waiting));
    in.onNext(request(7));
    in.onCompleted();
    assertFalse(call.completed, "ended with an answer still to send");
    waiting.complete(OK);
    assertEquals(List.of(7L), ids(call));
    assertTrue(call.completed);
  }

  @Test
  void aNodeThatDoesNotLeadAnswersNeedsWriteNamingTheLeaderWithoutAnswering() throws Exception {
    FakeCall call = new FakeCall();
    var in = open(call, "n2", List.of());
    in.onNext(request(3));
    assertEquals(List.of(3L), ids(call));
    QueryResult r = call.sent.get(0).getResult();
    assertEquals(Code.NEEDS_WRITE, r.getCode());
    assertTrue(r.getMessage().contains("the leader is n2"), r.getMessage());
    assertEquals(0, asked.get(), "no off-log answer asked for");
  }

  @Test
  void theRaftLeaderNotReadyOrNotFreshLeavesTheAnswerToTheQuietHeartbeats_whichAskForARetry() throws Exception {
    FakeCall call = new FakeCall();
    QueryResult notYet = QueryResult.newBuilder().setCode(Code.RETRY_LATER).setMessage("retry after 200 ms").build();
    var in = openJudgedBy(call, new WatchService.Leadership() {
      @Override
      public String notLeader() {
        return "n1"; // elected, its first entry not applied yet
      }

      @Override
      public boolean raftLeader() {
        return true;
      }
    }, List.of(CompletableFuture.completedFuture(notYet)));
    in.onNext(request(5));
    assertEquals(1, asked.get(), "not NEEDS_WRITE: the log behind this leader has no more room");
    assertEquals(Code.RETRY_LATER, call.sent.get(0).getResult().getCode());
  }

  /** A node of changing leadership: {@code notLeader} as CohortServer's, {@code raftLeader} as the state machine's. */
  private static WatchService.Leadership judged(AtomicReference<String> notLeader, AtomicBoolean raftLeader) {
    return new WatchService.Leadership() {
      @Override
      public String notLeader() {
        return notLeader.get();
      }

      @Override
      public boolean raftLeader() {
        return raftLeader.get();
      }
    };
  }

  private static List<QuietHeartbeatAnswer> sent(FakeCall call) {
    synchronized (call) {
      return List.copyOf(call.sent);
    }
  }

  @Test
  void aNodeThatKnowsNoLeaderHoldsTheHeartbeatUntilItLearnsOne_thenNamesIt_notTheLog() throws Exception {
    FakeCall call = new FakeCall();
    AtomicReference<String> notLeader = new AtomicReference<>("");
    var in = openJudgedBy(call, judged(notLeader, new AtomicBoolean()), List.of());
    in.onNext(request(6));
    assertEquals(List.of(), sent(call), "an election: no leader to name yet");
    notLeader.set("n3");
    await().atMost(Duration.ofSeconds(30)).until(() -> sent(call).size() == 1);
    QuietHeartbeatAnswer a = sent(call).get(0);
    assertEquals("n3", a.getLeader(), "the client sends it there: one quiet heartbeat, no write");
    assertEquals(Code.NEEDS_WRITE, a.getResult().getCode());
    assertEquals(0, asked.get());
  }

  @Test
  void aNodeSteppingDownThatStillNamesItselfKnowsNoLeader_andAfterAWhileSaysSoWithoutOne() throws Exception {
    FakeCall call = new FakeCall();
    long t0 = System.nanoTime();
    var in = openJudgedBy(call, judged(new AtomicReference<>("n1"), new AtomicBoolean()), List.of());
    in.onNext(request(7));
    await().atMost(Duration.ofSeconds(30)).until(() -> sent(call).size() == 1);
    assertTrue(System.nanoTime() - t0 >= WatchService.LEADER_WAIT_MS * 1_000_000, "held for the wait first");
    assertEquals("", sent(call).get(0).getLeader(), "never itself");
    assertEquals(Code.NEEDS_WRITE, sent(call).get(0).getResult().getCode());
    assertTrue(sent(call).get(0).getNotLeader(), "said as a node that does not lead: the client asks another peer");
  }

  @Test
  void aHeldHeartbeatIsJudgedHereWhenThisNodeLeadsAgain() throws Exception {
    FakeCall call = new FakeCall();
    AtomicBoolean leads = new AtomicBoolean();
    var in = openJudgedBy(call, judged(new AtomicReference<>(""), leads), List.of(CompletableFuture.completedFuture(OK)));
    in.onNext(request(8));
    leads.set(true);
    await().atMost(Duration.ofSeconds(30)).until(() -> sent(call).size() == 1);
    assertEquals(Code.OK, sent(call).get(0).getResult().getCode());
    assertEquals(1, asked.get());
  }

  @Test
  void aHeartbeatTheLeaderJudgedNeedsWriteAsItSteppedDownGoesToTheLeaderItLearnsOf() throws Exception {
    FakeCall call = new FakeCall();
    AtomicBoolean leads = new AtomicBoolean(true);
    AtomicReference<String> notLeader = new AtomicReference<>();
    CompletableFuture<QueryResult> judging = new CompletableFuture<>();
    var in = openJudgedBy(call, judged(notLeader, leads), List.of(judging));
    in.onNext(request(9));
    leads.set(false);
    notLeader.set("n2");
    judging.complete(QueryResult.newBuilder().setCode(Code.NEEDS_WRITE).setMessage("this node is not the leader").build());
    assertEquals("n2", sent(call).get(0).getLeader());
  }

  @Test
  void anAnswerThatFailedIsNeedsWrite() throws Exception {
    FakeCall call = new FakeCall();
    var in = open(call, null, List.of(CompletableFuture.failedFuture(new IllegalStateException("boom"))));
    in.onNext(request(4));
    assertEquals(Code.NEEDS_WRITE, call.sent.get(0).getResult().getCode());
    assertFalse(call.sent.get(0).getNotLeader(), "the leader's own NEEDS_WRITE: to the log, not to another peer");
  }

  @Test
  void answersThatMeetAStreamNotReadyTakeNoMoreRequestsUntilItIsReadyAgain() throws Exception {
    FakeCall call = new FakeCall();
    var in = open(call, null, List.of(CompletableFuture.completedFuture(OK), CompletableFuture.completedFuture(OK),
        CompletableFuture.completedFuture(OK)));
    assertEquals(WatchService.MAX_QUIET_IN_FLIGHT, call.requested, "a window of requests at the start");
    in.onNext(request(1));
    assertEquals(WatchService.MAX_QUIET_IN_FLIGHT + 1, call.requested, "an answer sent to a ready stream takes one more");
    call.ready = false;
    in.onNext(request(2));
    in.onNext(request(3));
    assertEquals(WatchService.MAX_QUIET_IN_FLIGHT + 1, call.requested, "not ready: nothing more taken in");
    call.ready = true;
    call.onReady.run();
    assertEquals(WatchService.MAX_QUIET_IN_FLIGHT + 3, call.requested, "ready again: what was owed");
    assertEquals(List.of(1L, 2L, 3L), ids(call));
  }

  @Test
  void aCancelledStreamSendsNothingMore() throws Exception {
    FakeCall call = new FakeCall();
    CompletableFuture<QueryResult> waiting = new CompletableFuture<>();
    var in = open(call, null, List.of(waiting));
    in.onNext(request(5));
    call.onCancel.run();
    waiting.complete(OK);
    assertEquals(List.of(), ids(call));
  }
}
