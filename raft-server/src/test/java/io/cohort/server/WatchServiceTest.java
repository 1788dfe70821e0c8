package io.cohort.server;

import static io.cohort.server.Commands.createGroup;
import static io.cohort.server.Commands.createTopic;
import static io.cohort.server.Commands.heartbeat;
import static io.cohort.server.Commands.join;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cohort.client.Peers;
import io.cohort.client.WatchProtocol;
import io.cohort.client.tls.ClientTls;
import io.cohort.client.tls.TlsFiles;
import io.cohort.server.testing.MiniCluster;
import io.cohort.server.testing.TestClient;
import io.cohort.statemachine.AssignmentView;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.DeleteGroup;
import io.cohort.statemachine.proto.GrantAccess;
import io.cohort.statemachine.proto.Heartbeat;
import io.cohort.statemachine.proto.HeartbeatResult;
import io.cohort.statemachine.proto.QueryResult;
import io.cohort.statemachine.proto.QuietHeartbeatAnswer;
import io.cohort.statemachine.proto.QuietHeartbeatRequest;
import io.cohort.statemachine.proto.Result;
import io.cohort.statemachine.proto.Role;
import io.cohort.statemachine.proto.WatchRequest;
import io.cohort.statemachine.proto.WatchResult;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.apache.ratis.thirdparty.io.grpc.CallOptions;
import org.apache.ratis.thirdparty.io.grpc.ManagedChannel;
import org.apache.ratis.thirdparty.io.grpc.MethodDescriptor;
import org.apache.ratis.thirdparty.io.grpc.Status;
import org.apache.ratis.thirdparty.io.grpc.StatusRuntimeException;
import org.apache.ratis.thirdparty.io.grpc.netty.NettyChannelBuilder;
import org.apache.ratis.thirdparty.io.grpc.stub.ClientCalls;
import org.apache.ratis.thirdparty.io.grpc.stub.StreamObserver;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * R12 on a real cluster with mutual TLS: the leader's watch service, called as a consumer would
 * (the shaded gRPC, the Raft port, the client's certificate).
 */
class WatchServiceTest {
  /** A change must wake a watch long before this (its timeout is far longer). */
  private static final long WAKE_MS = 15_000;
  private static final long LONG_TIMEOUT_MS = 50_000;

  @TempDir
  static Path dir;
  static MiniCluster cluster;
  static TestClient admin;
  static final List<ManagedChannel> channels = new ArrayList<>();

  @BeforeAll
  static void start() throws IOException {
    cluster = MiniCluster.start(3, dir.resolve("cluster"));
    cluster.leaderId();
    admin = cluster.client();
    ok(admin.write(createTopic("t", 2)));
    ok(admin.write(Command.newBuilder().setGrantAccess(GrantAccess.newBuilder().setPrincipal("bob")
        .setRole(Role.CONSUMER).addGroups("other")).build()));
  }

  @AfterAll
  static void stop() {
    channels.forEach(ManagedChannel::shutdownNow);
    if (cluster != null) {
      cluster.close();
    }
  }

  private static Result ok(Result r) {
    assertEquals(Code.OK, r.getCode(), r.getMessage());
    return r;
  }

  private static HeartbeatResult hb(Command c) {
    return ok(admin.write(c)).getHeartbeat();
  }

  private static CompletableFuture<WatchResult> watch(String principal, String peer, String group, String consumer,
      HeartbeatResult last, long timeoutMs) {
    return watch(cluster.tls(principal), peer, request(group, consumer, last, timeoutMs));
  }

  private static WatchRequest request(String group, String consumer, HeartbeatResult last, long timeoutMs) {
    return WatchRequest.newBuilder().setGroup(group).setConsumerId(consumer)
        .setSessionToken(last.getSessionToken()).setKnownView(AssignmentView.of(last)).setTimeoutMs(timeoutMs).build();
  }

  private static CompletableFuture<WatchResult> watch(TlsFiles tls, String peer, WatchRequest req) {
    return call(tls, peer, WatchProtocol.METHOD, req, req.getTimeoutMs() + 30_000);
  }

  /** Quiet heartbeats on one stream of Cohort's own service (step 11), as the client sends them: the answers by id. */
  private static CompletableFuture<Map<Long, QueryResult>> quiet(TlsFiles tls, String peer, Heartbeat... hbs) {
    ManagedChannel ch = channel(tls, peer);
    Map<Long, QueryResult> answers = new ConcurrentHashMap<>();
    CompletableFuture<Map<Long, QueryResult>> out = new CompletableFuture<>();
    StreamObserver<QuietHeartbeatRequest> requests = ClientCalls.asyncBidiStreamingCall(
        ch.newCall(WatchProtocol.QUIET_HEARTBEATS, CallOptions.DEFAULT.withDeadlineAfter(30_000, TimeUnit.MILLISECONDS)),
        new StreamObserver<QuietHeartbeatAnswer>() {
          @Override
          public void onNext(QuietHeartbeatAnswer a) {
            answers.put(a.getId(), a.getResult());
          }

          @Override
          public void onError(Throwable t) {
            out.completeExceptionally(t);
          }

          @Override
          public void onCompleted() {
            out.complete(answers);
          }
        });
    for (int i = 0; i < hbs.length; i++) {
      requests.onNext(QuietHeartbeatRequest.newBuilder().setId(100 + i).setHeartbeat(hbs[i]).build());
    }
    requests.onCompleted(); // the server ends the stream once it answered everything taken in
    return out;
  }

  private static QueryResult quietOne(TlsFiles tls, String peer, Heartbeat hb) throws Exception {
    Map<Long, QueryResult> answers = quiet(tls, peer, hb).get(WAKE_MS, TimeUnit.MILLISECONDS);
    assertEquals(List.of(100L), List.copyOf(answers.keySet()), "one answer, with the request's id");
    return answers.get(100L);
  }

  /** A channel to {@code peer} with {@code tls}'s certificate, closed after all tests. */
  private static ManagedChannel channel(TlsFiles tls, String peer) {
    ManagedChannel ch = NettyChannelBuilder.forTarget(cluster.address(peer)).useTransportSecurity()
        .sslContext(ClientTls.of(tls, Peers.parse(cluster.peers())).grpcClientContext()).build();
    synchronized (channels) {
      channels.add(ch);
    }
    return ch;
  }

  private static <Q, R> CompletableFuture<R> call(TlsFiles tls, String peer, MethodDescriptor<Q, R> method, Q req,
      long deadlineMs) {
    ManagedChannel ch = channel(tls, peer);
    CompletableFuture<R> out = new CompletableFuture<>();
    ClientCalls.asyncUnaryCall(ch.newCall(method, CallOptions.DEFAULT
        .withDeadlineAfter(deadlineMs, TimeUnit.MILLISECONDS)), req, new StreamObserver<>() {
          @Override
          public void onNext(R v) {
            out.complete(v);
          }

          @Override
          public void onError(Throwable t) {
            out.completeExceptionally(t);
          }

          @Override
          public void onCompleted() {}
        });
    return out;
  }

  private static CompletableFuture<WatchResult> watch(String group, String consumer, HeartbeatResult last) {
    return watch(MiniCluster.ADMIN, cluster.leaderId(), group, consumer, last, LONG_TIMEOUT_MS);
  }

  private static WatchResult woken(CompletableFuture<WatchResult> w) throws Exception {
    WatchResult r = w.get(WAKE_MS, TimeUnit.MILLISECONDS);
    assertTrue(r.getChanged(), r.toString());
    return r;
  }

  /** The watch stays parked: nothing changed for its member. */
  private static void stillParked(CompletableFuture<WatchResult> w) throws Exception {
    assertThrows(TimeoutException.class, () -> w.get(500, TimeUnit.MILLISECONDS));
  }

  private static String group(String name, long sessionMs) {
    ok(admin.write(createGroup(name, "t", sessionMs)));
    return name;
  }

  @Test
  void R12_aWatchWithNothingToTellReturnsUnchangedAtItsTimeout() throws Exception {
    String g = group("timeout", 30_000);
    HeartbeatResult a = hb(join(g, "A"));
    long t0 = System.nanoTime();
    WatchResult r = watch(MiniCluster.ADMIN, cluster.leaderId(), g, "A", a, 700).get(WAKE_MS, TimeUnit.MILLISECONDS);
    long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    assertEquals(Code.OK, r.getCode());
    assertFalse(r.getChanged());
    assertTrue(tookMs >= 300, "returned after " + tookMs + " ms, before half its timeout");
  }

  @Test
  void R12_watchesPlacedTogetherAreAnsweredUnchangedSpreadOverTheLatterHalfOfTheirTimeout() {
    assertEquals(15_000, WatchService.spreadMs(15_000, 0));
    assertEquals(7_501, WatchService.spreadMs(15_000, Math.nextDown(1.0)));
    java.util.Random random = new java.util.Random(7);
    long min = Long.MAX_VALUE;
    long max = 0;
    for (int i = 0; i < 8_500; i++) { // every consumer of a bench run, placed again after a new leader
      long t = WatchService.spreadMs(15_000, random.nextDouble());
      min = Math.min(min, t);
      max = Math.max(max, t);
    }
    assertTrue(min < 8_000 && max > 14_500, "spread over " + min + "–" + max + " ms, not all at once");
  }

  @Test
  void R12_aReleaseAskedWakesTheHolderAndTheGrantReadyWakesTheNewMember() throws Exception {
    String g = group("handoff", 30_000);
    HeartbeatResult a = hb(join(g, "A"));
    assertEquals(2, a.getGrantsCount());
    CompletableFuture<WatchResult> aWatch = watch(g, "A", a);
    stillParked(aWatch);
    hb(heartbeat(g, "A", a.getSessionToken(), a.getGrantsList())); // a renewal changes nothing A sees
    stillParked(aWatch);

    HeartbeatResult b = hb(join(g, "B"));
    assertEquals(0, b.getGrantsCount());
    assertEquals(Code.OK, woken(aWatch).getCode());
    CompletableFuture<WatchResult> bWatch = watch(g, "B", b);
    stillParked(bWatch);

    HeartbeatResult told = hb(heartbeat(g, "A", a.getSessionToken(), a.getGrantsList()));
    assertEquals(1, told.getReleaseCount());
    var kept = a.getGrantsList().stream()
        .filter(x -> x.getPartition() != told.getRelease(0).getPartition()).toList();
    hb(heartbeat(g, "A", a.getSessionToken(), kept)); // released
    assertEquals(Code.OK, woken(bWatch).getCode());
    assertEquals(1, hb(heartbeat(g, "B", b.getSessionToken(), List.of())).getGrantsCount());
  }

  @Test
  void R12_aFencedSessionAndAnExpiredMemberAreToldAtOnceOrAsTheyHappen() throws Exception {
    String g = group("fence", 2_000);
    HeartbeatResult old = hb(join(g, "A"));
    CompletableFuture<WatchResult> oldWatch = watch(g, "A", old);
    stillParked(oldWatch);
    hb(join(g, "A")); // a second process with the same consumer id
    assertEquals(Code.FENCED, woken(oldWatch).getCode());

    String e = group("expiry", 2_000);
    HeartbeatResult only = hb(join(e, "E"));
    CompletableFuture<WatchResult> w = watch(e, "E", only);
    // nobody heartbeats: the tick expires the member after its 2 s session
    assertEquals(Code.UNKNOWN_MEMBER, woken(w).getCode());
  }

  @Test
  void R12_aDeletedGroupWakesItsWatches() throws Exception {
    String g = group("deleted", 30_000);
    HeartbeatResult a = hb(join(g, "A"));
    CompletableFuture<WatchResult> w = watch(g, "A", a);
    stillParked(w);
    ok(admin.write(Command.newBuilder().setDeleteGroup(DeleteGroup.newBuilder().setGroup(g).setForce(true)).build()));
    assertEquals(Code.NOT_FOUND, woken(w).getCode());
  }

  @Test
  void R12_onlyTheLeaderAnswersAFollowerNamesIt() throws Exception {
    String g = group("follower", 30_000);
    HeartbeatResult a = hb(join(g, "A"));
    String leader = cluster.leaderId();
    String follower = cluster.ids().stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();
    ExecutionException e = assertThrows(ExecutionException.class,
        () -> watch(MiniCluster.ADMIN, follower, g, "A", a, 1_000).get(WAKE_MS, TimeUnit.MILLISECONDS));
    StatusRuntimeException s = assertInstanceOf(StatusRuntimeException.class, e.getCause());
    assertEquals(Status.Code.UNAVAILABLE, s.getStatus().getCode());
    assertEquals(leader, s.getTrailers().get(WatchProtocol.LEADER));
  }

  @Test
  void R11_aWatchByAPrincipalNotAllowedInTheGroupIsRefused() throws Exception {
    String g = group("private", 30_000);
    HeartbeatResult a = hb(join(g, "A"));
    for (String who : List.of("mallory", "bob")) { // no role; a consumer of another group
      ExecutionException e = assertThrows(ExecutionException.class,
          () -> watch(who, cluster.leaderId(), g, "A", a, 1_000).get(WAKE_MS, TimeUnit.MILLISECONDS));
      StatusRuntimeException s = assertInstanceOf(StatusRuntimeException.class, e.getCause());
      assertEquals(Status.Code.PERMISSION_DENIED, s.getStatus().getCode(), who);
    }
  }

  private static Status.Code refusal(CompletableFuture<?> w) {
    ExecutionException e = assertThrows(ExecutionException.class, () -> w.get(WAKE_MS, TimeUnit.MILLISECONDS));
    return assertInstanceOf(StatusRuntimeException.class, e.getCause()).getStatus().getCode();
  }

  @Test
  void R11_aNodeCertificateMayNotWatch() throws Exception {
    String g = group("node-cert", 30_000);
    HeartbeatResult a = hb(join(g, "A"));
    String leader = cluster.leaderId();
    assertEquals(Status.Code.PERMISSION_DENIED,
        refusal(watch(cluster.certs().node(leader), leader, request(g, "A", a, 1_000))));
  }

  @Test
  void R9_aWatchWithAnOversizedNameIsRefusedBeforeAnythingIsLookedUp() throws Exception {
    String g = group("oversized", 30_000);
    HeartbeatResult a = hb(join(g, "A"));
    WatchRequest req = request(g, "A", a, 1_000).toBuilder().setConsumerId("c".repeat(256)).build();
    assertEquals(Status.Code.INVALID_ARGUMENT,
        refusal(watch(cluster.tls(MiniCluster.ADMIN), cluster.leaderId(), req)));
  }

  @Test
  void R12_aConsumerParksAtMostTwoWatchesTheOldestIsAnsweredUnchanged() throws Exception {
    String g = group("crowded", 30_000);
    HeartbeatResult a = hb(join(g, "A"));
    CompletableFuture<WatchResult> first = watch(g, "A", a);
    stillParked(first);
    CompletableFuture<WatchResult> second = watch(g, "A", a);
    stillParked(second);
    assertFalse(first.isDone());
    CompletableFuture<WatchResult> third = watch(g, "A", a);
    WatchResult r = first.get(WAKE_MS, TimeUnit.MILLISECONDS);
    assertEquals(Code.OK, r.getCode());
    assertFalse(r.getChanged(), "evicted, not woken");
    assertFalse(second.isDone());
    assertFalse(third.isDone());
  }

  // ------------------------------------------------------------------ the quiet heartbeat (step 11)

  private static Heartbeat quietOf(String g, String consumer, HeartbeatResult last) {
    return heartbeat(g, consumer, last.getSessionToken(), last.getGrantsList()).getHeartbeat();
  }

  @Test
  void step11_quietHeartbeatsAreAnsweredByTheLeaderOffTheLogEachByItsId() throws Exception {
    String g = group("quiet", 30_000);
    HeartbeatResult a = hb(join(g, "A"));
    HeartbeatResult b = hb(join(g, "B"));
    HeartbeatResult told = hb(heartbeat(g, "A", a.getSessionToken(), a.getGrantsList()));
    assertEquals(1, told.getReleaseCount());
    var kept = a.getGrantsList().stream()
        .filter(x -> x.getPartition() != told.getRelease(0).getPartition()).toList();
    a = hb(heartbeat(g, "A", a.getSessionToken(), kept)); // released
    b = hb(heartbeat(g, "B", b.getSessionToken(), List.of())); // granted
    assertEquals(1, a.getGrantsCount());
    assertEquals(1, b.getGrantsCount());
    String leader = cluster.leaderId();
    CohortStateMachine sm = cluster.server(leader).stateMachine();
    long okBefore = sm.quietHeartbeatsOk();
    Map<Long, QueryResult> answers = quiet(cluster.tls(MiniCluster.ADMIN), leader, quietOf(g, "A", a),
        quietOf(g, "B", b)).get(WAKE_MS, TimeUnit.MILLISECONDS);
    assertEquals(2, answers.size(), answers.toString());
    for (var e : Map.of(100L, a, 101L, b).entrySet()) {
      QueryResult r = answers.get(e.getKey());
      assertEquals(Code.OK, r.getCode(), r.getMessage());
      assertEquals(e.getValue().getSessionToken(), r.getHeartbeat().getSessionToken(), "answer " + e.getKey());
      assertEquals(e.getValue().getGrantsList(), r.getHeartbeat().getGrantsList(), "answer " + e.getKey());
    }
    assertEquals(okBefore + 2, sm.quietHeartbeatsOk(), "answered off the log by the leader's liveness");
  }

  @Test
  void step11_aFollowerAnswersAQuietHeartbeatNeedsWriteNamingTheLeader() throws Exception {
    String g = group("quiet-follower", 30_000);
    HeartbeatResult a = hb(join(g, "A"));
    String leader = cluster.leaderId();
    String follower = cluster.ids().stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();
    QueryResult r = quietOne(cluster.tls(MiniCluster.ADMIN), follower, quietOf(g, "A", a));
    assertEquals(Code.NEEDS_WRITE, r.getCode(), r.getMessage());
    assertTrue(r.getMessage().contains("the leader is " + leader), r.getMessage());
  }

  @Test
  void step11_aQuietHeartbeatIsCheckedAsAHeartbeatIs() throws Exception {
    String g = group("quiet-checked", 30_000);
    HeartbeatResult a = hb(join(g, "A"));
    String leader = cluster.leaderId();
    for (String who : List.of("mallory", "bob")) { // no role; a consumer of another group
      QueryResult r = quietOne(cluster.tls(who), leader, quietOf(g, "A", a));
      assertEquals(Code.PERMISSION_DENIED, r.getCode(), who + ": " + r.getMessage());
    }
    Heartbeat oversized = quietOf(g, "A", a).toBuilder().setConsumerId("c".repeat(256)).build();
    QueryResult r = quietOne(cluster.tls(MiniCluster.ADMIN), leader, oversized);
    assertEquals(Code.INVALID_ARGUMENT, r.getCode(), r.getMessage());
    HeartbeatResult b = hb(join(g, "A")); // a second process with A's id: the first session is fenced
    r = quietOne(cluster.tls(MiniCluster.ADMIN), leader, quietOf(g, "A", a));
    assertEquals(Code.FENCED, r.getCode(), r.getMessage());
    assertEquals(Status.Code.PERMISSION_DENIED,
        refusal(quiet(cluster.certs().node(leader), leader, quietOf(g, "A", b))), "a node certificate may not");
  }

  @Test
  void step11_aStreamKeepsTakingQuietHeartbeatsPastItsWindowAsItsAnswersGoOut() throws Exception {
    String g = group("quiet-many", 30_000);
    HeartbeatResult a = hb(join(g, "A"));
    int n = WatchService.MAX_QUIET_IN_FLIGHT + 904;
    Heartbeat[] hbs = new Heartbeat[n];
    java.util.Arrays.fill(hbs, quietOf(g, "A", a));
    Map<Long, QueryResult> answers = quiet(cluster.tls(MiniCluster.ADMIN), cluster.leaderId(), hbs)
        .get(60_000, TimeUnit.MILLISECONDS);
    assertEquals(n, answers.size(), "every request answered, by its id");
    // On a loaded 2-core CI machine the leader may fail to prove its lease (RETRY_LATER), lose its
    // leadership (NEEDS_WRITE: CI at 779d479 saw 110 such) or see its oldest write age past the
    // shedding bound (RETRY_LATER) for a moment: all right answers. Anything else, or no OK, is not.
    Map<Code, Long> codes = answers.values().stream()
        .collect(Collectors.groupingBy(QueryResult::getCode, Collectors.counting()));
    assertTrue(codes.getOrDefault(Code.OK, 0L) > 0, "answered OK off the log: " + codes);
    for (QueryResult r : answers.values()) {
      assertTrue(r.getCode() == Code.OK
          || r.getCode() == Code.NEEDS_WRITE && (r.getMessage().contains("is not the leader")
              || r.getMessage().contains("stopped leading"))
          || r.getCode() == Code.RETRY_LATER && (r.getMessage().contains("oldest write waiting")
              || r.getMessage().contains("heard from a majority lately")),
          r.getCode() + ": " + r.getMessage() + " (all: " + codes + ")");
    }
  }
}
