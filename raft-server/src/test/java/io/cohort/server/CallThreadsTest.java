package io.cohort.server;

import static org.junit.jupiter.api.Assertions.*;

import io.cohort.client.WatchProtocol;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.ratis.proto.grpc.AdminProtocolServiceGrpc;
import org.apache.ratis.proto.grpc.RaftClientProtocolServiceGrpc;
import org.apache.ratis.proto.grpc.RaftServerProtocolServiceGrpc;
import org.apache.ratis.thirdparty.io.grpc.Attributes;
import org.apache.ratis.thirdparty.io.grpc.Metadata;
import org.apache.ratis.thirdparty.io.grpc.MethodDescriptor;
import org.apache.ratis.thirdparty.io.grpc.ServerCall;
import org.apache.ratis.thirdparty.io.grpc.Status;
import org.junit.jupiter.api.Test;

/** Which thread runs each kind of call on a node's port. */
class CallThreadsTest {
  @Test
  void peersStayOnGrpcsPoolClientsGoToTheFewThreadsQuietHeartbeatsRunInline() throws Exception {
    try (CallThreads calls = new CallThreads("t1")) {
      for (MethodDescriptor<?, ?> peer : new MethodDescriptor<?, ?>[] {
          RaftServerProtocolServiceGrpc.getAppendEntriesMethod(), RaftServerProtocolServiceGrpc.getRequestVoteMethod(),
          RaftServerProtocolServiceGrpc.getInstallSnapshotMethod(), RaftServerProtocolServiceGrpc.getReadIndexMethod()}) {
        assertNull(executorFor(calls, peer), peer.getFullMethodName() + " must not queue behind clients");
      }
      for (MethodDescriptor<?, ?> client : new MethodDescriptor<?, ?>[] {
          RaftClientProtocolServiceGrpc.getOrderedMethod(), RaftClientProtocolServiceGrpc.getUnorderedMethod(),
          AdminProtocolServiceGrpc.getSetConfigurationMethod(), WatchProtocol.METHOD}) {
        assertEquals("cohort-calls-t1-", threadPrefix(executorFor(calls, client)), client.getFullMethodName());
      }
      assertEquals(Thread.currentThread().getName(), threadName(executorFor(calls, WatchProtocol.QUIET_HEARTBEATS)));
    }
  }

  private static Executor executorFor(CallThreads calls, MethodDescriptor<?, ?> method) {
    return calls.supplier().getExecutor(new FakeCall<>(method), new Metadata());
  }

  private static String threadPrefix(Executor e) throws InterruptedException {
    String name = threadName(e);
    return name.substring(0, name.lastIndexOf('-') + 1);
  }

  private static String threadName(Executor e) throws InterruptedException {
    AtomicReference<String> name = new AtomicReference<>();
    CountDownLatch ran = new CountDownLatch(1);
    e.execute(() -> {
      name.set(Thread.currentThread().getName());
      ran.countDown();
    });
    assertTrue(ran.await(30, TimeUnit.SECONDS));
    return name.get();
  }

  private static final class FakeCall<ReqT, RespT> extends ServerCall<ReqT, RespT> {
    private final MethodDescriptor<ReqT, RespT> method;

    FakeCall(MethodDescriptor<ReqT, RespT> method) {
      this.method = method;
    }

    @Override public void request(int numMessages) {}
    @Override public void sendHeaders(Metadata headers) {}
    @Override public void sendMessage(RespT message) {}
    @Override public void close(Status status, Metadata trailers) {}
    @Override public boolean isCancelled() { return false; }
    @Override public Attributes getAttributes() { return Attributes.EMPTY; }
    @Override public MethodDescriptor<ReqT, RespT> getMethodDescriptor() { return method; }
  }
}
