package io.cohort.server.tls;

import io.cohort.client.PermissionDeniedIOException;
import io.cohort.client.tls.Certificates;
import io.cohort.server.Audit;
import io.cohort.server.Envelopes;
import io.cohort.statemachine.Acl;
import io.cohort.statemachine.Principals;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Set;
import java.util.function.Supplier;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import org.apache.ratis.proto.RaftProtos.ClientMessageEntryProto;
import org.apache.ratis.proto.RaftProtos.RaftClientRequestProto;
import org.apache.ratis.proto.RaftProtos.SetConfigurationRequestProto;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.thirdparty.io.grpc.Context;
import org.apache.ratis.thirdparty.io.grpc.Contexts;
import org.apache.ratis.thirdparty.io.grpc.ForwardingServerCallListener;
import org.apache.ratis.thirdparty.io.grpc.Grpc;
import org.apache.ratis.thirdparty.io.grpc.Metadata;
import org.apache.ratis.thirdparty.io.grpc.MethodDescriptor;
import org.apache.ratis.thirdparty.io.grpc.ServerCall;
import org.apache.ratis.thirdparty.io.grpc.ServerCallHandler;
import org.apache.ratis.thirdparty.io.grpc.ServerInterceptor;
import org.apache.ratis.thirdparty.io.grpc.Status;

/**
 * Every call to this node's one port passes here (R11), installed with Ratis' services customizer
 * in front of its Raft, client and admin services and any service of ours.
 *
 * <ul>
 *   <li>The caller's principal is its client certificate's subject CN ({@code anonymous} on an
 *       insecure node). A node certificate (serverAuth) is a peer, not a user.
 *   <li>Raft traffic ({@code RaftServerProtocolService}): only a node certificate whose CN is a
 *       peer of the group ({@link PeerDirectory}); a vote request from any node certificate
 *       ({@link #VOTE_METHOD}).
 *   <li>Client requests: each write and read is wrapped in an {@code Envelope} carrying the
 *       principal, which the leader copies into the log entry beside its time stamp; the state
 *       machine decides from it (the gRPC Context does not reach {@code startTransaction}: it runs
 *       on another thread pool). Watches pass as they are (Ratis recognises its own by content);
 *       stream and forward requests, which Cohort never sends, are refused.
 *   <li>Ratis' admin API: group info and list for any authenticated caller ({@code cluster
 *       status}); everything else (leadership transfer, set configuration, group, snapshot and
 *       election management) for admins of the replicated ACL only.
 *   <li>Cohort's service ({@code cohort.Watch}: the watch, R12, and the quiet heartbeat, step 11):
 *       users only (a node certificate is refused); it runs with the principal in {@link
 *       #PRINCIPAL} and refuses, per request, a principal that may not heartbeat in the group as
 *       that consumer id (the group is in the request).
 *   <li>Any other service is refused: nothing else is served on this port.
 * </ul>
 *
 * <p>A refusal closes the call with PERMISSION_DENIED, a one-line reason, and the trailer {@code
 * exception-type} naming {@link PermissionDeniedIOException}, which Cohort's clients never retry.
 * Refusals and passed admin calls go to the audit log.
 */
public final class AccessInterceptor implements ServerInterceptor {
  /** The caller's principal, for services of ours. */
  public static final Context.Key<String> PRINCIPAL = Context.key("cohort-principal");

  static final String RAFT_SERVICE = "ratis.grpc.RaftServerProtocolService";
  static final String CLIENT_SERVICE = "ratis.grpc.RaftClientProtocolService";
  static final String ADMIN_SERVICE = "ratis.grpc.AdminProtocolService";
  static final String WATCH_SERVICE = io.cohort.client.WatchProtocol.SERVICE;
  /**
   * The one Raft method any node certificate may call: Ratis refuses a non-member its vote (its
   * term changes nothing) and, from the leader, tells a removed node to stop, which is how a node
   * removed while down or behind learns it (refused here, it would stand for election forever).
   */
  static final String VOTE_METHOD = "requestVote";
  /** Admin methods any authenticated caller may use: they only read. */
  static final Set<String> OPEN_ADMIN_METHODS = Set.of("groupInfo", "groupList");

  private static final Metadata.Key<String> EXCEPTION_TYPE =
      Metadata.Key.of("exception-type", Metadata.ASCII_STRING_MARSHALLER);

  /** Who is calling. */
  record Caller(String principal, boolean node) {}

  private final java.util.concurrent.atomic.AtomicLong refusals = new java.util.concurrent.atomic.AtomicLong();
  private final boolean secure;
  private final PeerDirectory peers;
  private final Supplier<Acl> acl;
  private final String self;

  /**
   * @param secure false on an insecure node: every caller is {@code anonymous}, Raft calls are not
   *     checked
   * @param acl the node's applied ACL (admin checks)
   */
  public AccessInterceptor(boolean secure, PeerDirectory peers, Supplier<Acl> acl, String self) {
    this.secure = secure;
    this.peers = peers;
    this.acl = acl;
    this.self = self;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    String method = call.getMethodDescriptor().getFullMethodName();
    String service = MethodDescriptor.extractFullServiceName(method);
    Caller caller;
    try {
      caller = caller(call);
    } catch (RefusedException e) {
      return refuse(call, "?", method, e.getMessage());
    }
    String shortMethod = method.substring(method.lastIndexOf('/') + 1);
    switch (service) {
      case RAFT_SERVICE -> {
        boolean admitted = caller.node() && (peers.allowsInbound(caller.principal()) || shortMethod.equals(VOTE_METHOD));
        if (secure && !admitted) {
          return refuse(call, caller.principal(), method, (caller.node() ? "node " : "a user certificate ")
              + "'" + caller.principal() + "' is not a peer of this Raft group");
        }
        return next.startCall(call, headers);
      }
      case CLIENT_SERVICE -> {
        if (caller.node()) {
          return refuse(call, caller.principal(), method, "node certificate '" + caller.principal()
              + "' serves Raft traffic only: use an admin or consumer certificate");
        }
        return new Wrapping<>(next.startCall(call, headers), call, caller.principal(), method);
      }
      case ADMIN_SERVICE -> {
        if (OPEN_ADMIN_METHODS.contains(shortMethod)) {
          return next.startCall(call, headers);
        }
        if (caller.node() || !acl.get().isAdmin(caller.principal())) {
          return refuse(call, caller.principal(), method, "principal '" + caller.principal()
              + "' may not call Ratis' " + shortMethod + ": admin only");
        }
        Audit.call(self, caller.principal(), method, "ALLOWED", "admin");
        ServerCall.Listener<Q> l = next.startCall(call, headers);
        return shortMethod.equals("setConfiguration") ? new Announcing<>(l, peers) : l;
      }
      case WATCH_SERVICE -> {
        if (caller.node()) {
          return refuse(call, caller.principal(), method, "node certificate '" + caller.principal()
              + "' serves Raft traffic only: a watch needs a consumer or admin certificate");
        }
        Context ctx = Context.current().withValue(PRINCIPAL, caller.principal());
        return Contexts.interceptCall(ctx, call, headers, next);
      }
      default -> {
        return refuse(call, caller.principal(), method, "no such service on a Cohort node: " + service);
      }
    }
  }

  private Caller caller(ServerCall<?, ?> call) throws RefusedException {
    if (!secure) {
      return new Caller(Principals.ANONYMOUS, false);
    }
    SSLSession session = call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
    if (session == null) {
      throw new RefusedException("no TLS session: this node accepts mutual TLS only");
    }
    Certificate[] chain;
    try {
      chain = session.getPeerCertificates();
    } catch (SSLPeerUnverifiedException e) {
      throw new RefusedException("no client certificate: this node accepts mutual TLS only");
    }
    if (chain.length == 0 || !(chain[0] instanceof X509Certificate leaf)) {
      throw new RefusedException("no X.509 client certificate");
    }
    String cn = Certificates.commonName(leaf);
    if (cn == null) {
      throw new RefusedException("the client certificate has no CN: the CN is the principal");
    }
    String problem = Principals.problem(cn);
    if (problem != null) {
      throw new RefusedException("the client certificate's CN cannot be a principal: " + problem);
    }
    if (cn.equals(Principals.ANONYMOUS)) {
      throw new RefusedException("'" + Principals.ANONYMOUS + "' is reserved for insecure clusters");
    }
    return new Caller(cn, Certificates.isNodeCertificate(leaf));
  }

  /** Calls refused so far (also in the audit log). */
  public long refusals() {
    return refusals.get();
  }

  private <Q, R> ServerCall.Listener<Q> refuse(ServerCall<Q, R> call, String principal, String method, String why) {
    refusals.incrementAndGet();
    Audit.call(self, principal, method, "PERMISSION_DENIED", why);
    close(call, why);
    return new ServerCall.Listener<>() {};
  }

  private static void close(ServerCall<?, ?> call, String why) {
    Metadata trailers = new Metadata();
    trailers.put(EXCEPTION_TYPE, PermissionDeniedIOException.class.getName());
    call.close(Status.PERMISSION_DENIED.withDescription(why), trailers);
  }

  private static final class RefusedException extends Exception {
    private static final long serialVersionUID = 1L;

    RefusedException(String message) {
      super(message, null, false, false);
    }
  }

  /** Wraps each write and read of one client stream in the caller's envelope. */
  private final class Wrapping<Q> extends ForwardingServerCallListener.SimpleForwardingServerCallListener<Q> {
    private final ServerCall<?, ?> call;
    private final String principal;
    private final String method;
    private boolean closed;

    Wrapping(ServerCall.Listener<Q> delegate, ServerCall<?, ?> call, String principal, String method) {
      super(delegate);
      this.call = call;
      this.principal = principal;
      this.method = method;
    }

    @Override
    @SuppressWarnings("unchecked")
    public void onMessage(Q message) {
      if (closed) {
        return;
      }
      RaftClientRequestProto r = (RaftClientRequestProto) message;
      switch (r.getTypeCase()) {
        case WRITE, READ, STALEREAD -> {
          ByteString wrapped = Envelopes.wrap(principal, r.getMessage().getContent());
          r = r.toBuilder().setMessage(ClientMessageEntryProto.newBuilder().setContent(wrapped)).build();
        }
        case WATCH -> {
          // as it is: Ratis recognises its own watches by content
        }
        default -> {
          closed = true;
          refusals.incrementAndGet();
          String why = r.getTypeCase() + " requests are not served by Cohort";
          Audit.call(self, principal, method, "PERMISSION_DENIED", why);
          close(call, why);
          return;
        }
      }
      super.onMessage((Q) r);
    }
  }

  /** Tells the directory which peers an admin's setConfiguration adds, so they may be dialled. */
  private static final class Announcing<Q> extends ForwardingServerCallListener.SimpleForwardingServerCallListener<Q> {
    private final PeerDirectory peers;

    Announcing(ServerCall.Listener<Q> delegate, PeerDirectory peers) {
      super(delegate);
      this.peers = peers;
    }

    @Override
    public void onMessage(Q message) {
      if (message instanceof SetConfigurationRequestProto req) {
        peers.announce(req.getPeersList());
        peers.announce(req.getListenersList());
      }
      super.onMessage(message);
    }
  }
}
