package io.cohort.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.protobuf.ByteString;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Heartbeat;
import io.cohort.statemachine.proto.HeartbeatResult;
import io.cohort.statemachine.proto.QueryResult;
import io.cohort.statemachine.proto.QuietHeartbeatAnswer;
import io.cohort.statemachine.proto.QuietHeartbeatRequest;
import io.cohort.statemachine.proto.WatchRequest;
import io.cohort.statemachine.proto.WatchResult;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.proto.RaftProtos.CommitInfoProto;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.thirdparty.io.grpc.Metadata;
import org.apache.ratis.thirdparty.io.grpc.Server;
import org.apache.ratis.thirdparty.io.grpc.ServerServiceDefinition;
import org.apache.ratis.thirdparty.io.grpc.Status;
import org.apache.ratis.thirdparty.io.grpc.netty.NettyServerBuilder;
import org.apache.ratis.thirdparty.io.grpc.stub.ServerCalls;
import org.apache.ratis.thirdparty.io.grpc.stub.StreamObserver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Off-log calls follow the leader a node names, and on again when that node names another, a
 * bounded number of times: after a leader stall, leadership changed hands twice in a row and a
 * client that followed once sent thousands of heartbeats to the log (docs/BENCHMARKS.md, "A leader
 * stall under load"). Three real gRPC servers on loopback, each answering as the test scripts it:
 * "not the leader; the leader is X", or as the leader.
 */
class QuietLeaderFollowTest {
  private static final ByteString SESSION = ByteString.copyFromUtf8("0123456789abcdef");

  /** A peer that leads and answers NEEDS_WRITE: the heartbeat must go through the log. */
  private static final String LEADS_BUT_NEEDS_WRITE = "leads, needs write";

  /** A peer that takes quiet heartbeats and never answers: a leader paused (SIGSTOP, swapping, a long GC). */
  private static final String SILENT = "silent";

  /** Per peer: the leader it names ("" = none known), or null when it answers as the leader. */
  private final Map<String, String> names = new ConcurrentHashMap<>();
  private final List<String> asked = new CopyOnWriteArrayList<>();
  private final List<Server> servers = new ArrayList<>();
  private CohortClient client;

  private void start(int peers) throws Exception {
    start(peers, peers);
  }

  /** {@code peers} servers, of which the client is configured with the first {@code configured}. */
  private void start(int peers, int configured) throws Exception {
    StringBuilder list = new StringBuilder();
    for (int i = 1; i <= peers; i++) {
      String id = "n" + i;
      Server s = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(service(id))
          .build().start();
      servers.add(s);
      if (i <= configured) {
        list.append(i == 1 ? "" : ",").append(id).append("=127.0.0.1:").append(s.getPort());
      }
    }
    client = CohortClient.connect(CohortClientConfig.builder(list.toString()).insecure().build());
  }

  /** What a reply of the cluster's tells of its members: their ids and addresses. */
  private RaftClientReply replyNaming(int... members) {
    List<CommitInfoProto> infos = new ArrayList<>();
    for (int i : members) {
      infos.add(CommitInfoProto.newBuilder().setCommitIndex(1).setServer(RaftPeer.newBuilder().setId("n" + i)
          .setAddress("127.0.0.1:" + servers.get(i - 1).getPort()).build().getRaftPeerProto()).build());
    }
    return RaftClientReply.newBuilder().setClientId(ClientId.randomId()).setServerId(RaftPeerId.valueOf("n2"))
        .setGroupId(RaftGroupId.randomId()).setCallId(1).setSuccess(true).setCommitInfos(infos).build();
  }

  private ServerServiceDefinition service(String self) {
    return ServerServiceDefinition.builder(WatchProtocol.SERVICE)
        .addMethod(WatchProtocol.QUIET_HEARTBEATS, ServerCalls.asyncBidiStreamingCall((StreamObserver<QuietHeartbeatAnswer> out) -> new StreamObserver<QuietHeartbeatRequest>() {
          @Override
          public void onNext(QuietHeartbeatRequest req) {
            asked.add(self);
            String leader = names.get(self);
            if (SILENT.equals(leader)) {
              return; // its connection stays open
            }
            QuietHeartbeatAnswer.Builder a = QuietHeartbeatAnswer.newBuilder().setId(req.getId());
            if (leader == null) {
              a.setResult(QueryResult.newBuilder().setCode(Code.OK).setHeartbeat(
                  HeartbeatResult.newBuilder().setSessionToken(SESSION)));
            } else if (leader.equals(LEADS_BUT_NEEDS_WRITE)) { // the heartbeat changes something
              a.setResult(QueryResult.newBuilder().setCode(Code.NEEDS_WRITE).setMessage("send it as a replicated heartbeat"));
            } else { // as WatchService answers when it does not lead ("" = it knows no leader)
              a.setLeader(leader).setNotLeader(true).setResult(QueryResult.newBuilder().setCode(Code.NEEDS_WRITE)
                  .setMessage(self + " is not the leader" + (leader.isEmpty() ? "" : "; the leader is " + leader)));
            }
            synchronized (out) {
              out.onNext(a.build());
            }
          }

          @Override
          public void onError(Throwable t) {}

          @Override
          public void onCompleted() {
            out.onCompleted();
          }
        }))
        .addMethod(WatchProtocol.METHOD, ServerCalls.asyncUnaryCall((WatchRequest req, StreamObserver<WatchResult> out) -> {
          asked.add(self);
          String leader = names.get(self);
          if (leader == null) {
            out.onNext(WatchResult.newBuilder().setCode(Code.OK).build());
            out.onCompleted();
          } else { // as WatchService refuses a watch when it does not lead
            Metadata trailers = new Metadata();
            trailers.put(WatchProtocol.LEADER, leader);
            out.onError(Status.UNAVAILABLE.withDescription(self + " is not the leader").asRuntimeException(trailers));
          }
        }))
        .build();
  }

  @AfterEach
  void stop() throws Exception {
    if (client != null) {
      client.close();
    }
    for (Server s : servers) {
      s.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    }
  }

  private static Heartbeat hb() {
    return Heartbeat.newBuilder().setGroup("g").setConsumerId("c").setSessionToken(SESSION).build();
  }

  @Test
  void aQuietHeartbeatFollowsTwoNamedLeadersInARowToTheOneThatLeads() throws Exception {
    start(3);
    names.put("n1", "n2"); // n1 still thinks n2 leads; n2 lost the next election to n3
    names.put("n2", "n3");
    client.takeForLeader("n1");
    HeartbeatResult r = client.quietHeartbeat(hb()).get(30, TimeUnit.SECONDS);
    assertEquals(SESSION, r.getSessionToken(), "answered by n3, not NEEDS_WRITE from n2");
    assertEquals(List.of("n1", "n2", "n3"), asked);
    assertEquals("n3", client.offLogPeer(), "later off-log calls go to n3");
  }

  @Test
  void namesThatGoRoundInACircleEndInRetryLaterAfterOneSendPerPeer() throws Exception {
    start(3);
    names.put("n1", "n2"); // stale views that point at each other: no leader among the named
    names.put("n2", "n1");
    names.put("n3", "n1");
    client.takeForLeader("n1");
    ExecutionException e = assertThrows(ExecutionException.class,
        () -> client.quietHeartbeat(hb()).get(30, TimeUnit.SECONDS), "ends, with a refusal");
    CohortRejectedException refused = assertInstanceOf(CohortRejectedException.class, e.getCause());
    assertEquals(Code.RETRY_LATER, refused.code(), "asked again after an election, not sent to the log");
    assertEquals(CohortClient.NO_LEADER_RETRY_MS, refused.retryAfterMs(-1), refused.getMessage());
    assertTrue(refused.foundNoLeader(), refused.getMessage());
    assertEquals(List.of("n1", "n2", "n1"), asked, "three sends: the first and one per other peer");
  }

  @Test
  void aQuietHeartbeatAskedOfANodeThatKnowsNoLeaderGoesToTheNextPeer() throws Exception {
    start(3);
    names.put("n1", ""); // n1 stepped down, or is cut off from the others: it knows no leader
    client.takeForLeader("n1");
    HeartbeatResult r = client.quietHeartbeat(hb()).get(30, TimeUnit.SECONDS);
    assertEquals(SESSION, r.getSessionToken(), "answered by n2, not NEEDS_WRITE from n1");
    assertEquals(List.of("n1", "n2"), asked);
    assertEquals("n2", client.offLogPeer(), "later off-log calls go to n2");
  }

  @Test
  void whenNoPeerKnowsALeaderItEndsInRetryLaterAfterOneSendPerPeer() throws Exception {
    start(3);
    names.put("n1", "");
    names.put("n2", "");
    names.put("n3", "");
    client.takeForLeader("n2");
    ExecutionException e = assertThrows(ExecutionException.class,
        () -> client.quietHeartbeat(hb()).get(30, TimeUnit.SECONDS), "ends, with a refusal");
    CohortRejectedException refused = assertInstanceOf(CohortRejectedException.class, e.getCause());
    assertEquals(Code.RETRY_LATER, refused.code(), "a replicated heartbeat would wait for the same next leader");
    assertEquals(CohortClient.NO_LEADER_RETRY_MS, refused.retryAfterMs(-1), refused.getMessage());
    assertTrue(refused.foundNoLeader(), refused.getMessage());
    assertEquals(List.of("n2", "n3", "n1"), asked, "each peer once, in the list's order from the first asked");
  }

  @Test
  void theLeadersNeedsWriteGoesToTheLogNotToAnotherPeer() throws Exception {
    start(3);
    names.put("n1", LEADS_BUT_NEEDS_WRITE);
    client.takeForLeader("n1");
    ExecutionException e = assertThrows(ExecutionException.class,
        () -> client.quietHeartbeat(hb()).get(30, TimeUnit.SECONDS));
    assertEquals(Code.NEEDS_WRITE, assertInstanceOf(CohortRejectedException.class, e.getCause()).code());
    assertEquals(List.of("n1"), asked, "a heartbeat that changes something is not the followers' to answer");
  }

  @Test
  void whileTheLeaderIsSilentTheNextPeerIsAskedAndNamesTheNewLeaderWhoAnswers() throws Exception {
    start(3);
    names.put("n1", SILENT); // paused; n2 and n3 elected n3 meanwhile
    names.put("n2", "n3");
    client.takeForLeader("n1");
    HeartbeatResult r = client.quietHeartbeat(hb(), 3_000).get(30, TimeUnit.SECONDS);
    assertEquals(SESSION, r.getSessionToken(), "answered by n3 before the call's 3 s wait on n1 ended");
    assertEquals(List.of("n1", "n2", "n3"), asked);
    assertEquals("n3", client.offLogPeer(), "later off-log calls go to n3, not to the silent n1");
  }

  @Test
  void peersThatStillNameTheSilentLeaderLeaveTheCallWaitingOnItUntilItsWaitEnds() throws Exception {
    start(3);
    names.put("n1", SILENT); // paused, not yet noticed: the others still name it
    names.put("n2", "n1");
    names.put("n3", "n1");
    client.takeForLeader("n1");
    ExecutionException e = assertThrows(ExecutionException.class,
        () -> client.quietHeartbeat(hb(), 1_500).get(30, TimeUnit.SECONDS), "ends at its wait");
    assertTrue(e.getCause().getMessage().contains("no answer in 1500 ms"), e.getCause().toString());
    assertEquals(List.of("n1", "n2", "n3"), asked,
        "asked elsewhere at a third and two thirds of the wait, each in turn; the silent n1 not asked twice");
    assertEquals("n1", client.offLogPeer());
  }

  @Test
  void aRefusalFromTheNewLeaderEndsTheCallWithoutWaitingOnTheSilentOne() throws Exception {
    start(3);
    names.put("n1", SILENT);
    names.put("n2", LEADS_BUT_NEEDS_WRITE); // the new leader: this heartbeat must go through the log
    client.takeForLeader("n1");
    ExecutionException e = assertThrows(ExecutionException.class,
        () -> client.quietHeartbeat(hb(), 60_000).get(30, TimeUnit.SECONDS), "the new leader's refusal, not the end of the wait on n1");
    assertEquals(Code.NEEDS_WRITE, assertInstanceOf(CohortRejectedException.class, e.getCause()).code());
    assertEquals(List.of("n1", "n2"), asked);
  }

  @Test
  void whileTheLeaderIsSilentANodeThatJoinedSinceTheClientStartedIsAskedAndAnswers() throws Exception {
    start(4, 3); // configured n1..n3; n4 replaced n1 since (cluster replace), and leads after n3 stopped
    servers.get(0).shutdownNow().awaitTermination(10, TimeUnit.SECONDS); // n1 is gone
    names.put("n3", SILENT);
    names.put("n2", "n4");
    client.learnMembers(replyNaming(2, 3, 4)); // a write's reply named the members
    client.takeForLeader("n3");
    HeartbeatResult r = client.quietHeartbeat(hb(), 3_000).get(30, TimeUnit.SECONDS);
    assertEquals(SESSION, r.getSessionToken(), "answered by n4, which the configured peers do not list");
    assertEquals("n4", client.offLogPeer());
    assertTrue(asked.contains("n4"), asked.toString());
  }

  @Test
  void aPeerThatCannotBeReachedIsPassedAtOnceNotAThirdOfTheWaitLater() throws Exception {
    start(3);
    servers.get(0).shutdownNow().awaitTermination(10, TimeUnit.SECONDS); // n1 is gone
    names.put("n3", SILENT);
    client.takeForLeader("n3"); // n2 leads; the peer after n3 is the gone n1
    long t0 = System.nanoTime();
    HeartbeatResult r = client.quietHeartbeat(hb(), 6_000).get(30, TimeUnit.SECONDS);
    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    assertEquals(SESSION, r.getSessionToken());
    assertEquals("n2", client.offLogPeer());
    assertTrue(ms < 3_500, "asked n1 at 2 s, found it gone, asked n2 at once (not at 4 s): answered after " + ms + " ms");
  }

  @Test
  void withOnePeerThereIsNobodyElseToAsk() throws Exception {
    start(1);
    names.put("n1", SILENT);
    client.takeForLeader("n1");
    assertThrows(ExecutionException.class, () -> client.quietHeartbeat(hb(), 1_000).get(30, TimeUnit.SECONDS));
    assertEquals(List.of("n1"), asked);
  }

  @Test
  void aWatchFollowsTwoNamedLeadersInARowToTheOneThatLeads() throws Exception {
    start(3);
    names.put("n1", "n2");
    names.put("n2", "n3");
    client.takeForLeader("n1");
    WatchResult r = client.watch(WatchRequest.newBuilder().setGroup("g").setConsumerId("c").setTimeoutMs(1_000)
        .build()).get(30, TimeUnit.SECONDS);
    assertEquals(Code.OK, r.getCode());
    assertEquals(List.of("n1", "n2", "n3"), asked);
  }

  @Test
  void aWatchAskedOfANodeThatKnowsNoLeaderGoesToTheNextPeer() throws Exception {
    start(3);
    names.put("n1", ""); // n1 stepped down: it knows no leader
    client.takeForLeader("n1");
    WatchResult r = client.watch(WatchRequest.newBuilder().setGroup("g").setConsumerId("c").setTimeoutMs(1_000)
        .build()).get(30, TimeUnit.SECONDS);
    assertEquals(Code.OK, r.getCode(), "placed on n2, not failed by n1");
    assertEquals(List.of("n1", "n2"), asked);
    assertEquals("n2", client.offLogPeer(), "only the leader answers a watch");
  }

  @Test
  void aWatchThatFindsNoLeaderFailsUnavailableAfterOneSendPerPeer() throws Exception {
    start(3);
    names.put("n1", "");
    names.put("n2", "");
    names.put("n3", "");
    client.takeForLeader("n2");
    ExecutionException e = assertThrows(ExecutionException.class, () -> client.watch(WatchRequest.newBuilder()
        .setGroup("g").setConsumerId("c").setTimeoutMs(1_000).build()).get(30, TimeUnit.SECONDS));
    assertInstanceOf(CohortUnavailableException.class, e.getCause(), "placed again after the next heartbeat");
    assertEquals(List.of("n2", "n3", "n1"), asked, "each peer once, in the list's order from the first asked");
  }
}
