package io.cohort.client.tls;

import io.cohort.client.Peers;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.GeneralSecurityException;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.grpc.GrpcTlsConfig;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManager;
import org.apache.ratis.thirdparty.io.grpc.netty.GrpcSslContexts;
import org.apache.ratis.thirdparty.io.netty.handler.ssl.SslContext;
import org.apache.ratis.thirdparty.io.netty.handler.ssl.SslContextBuilder;

/**
 * A client's mutual TLS for Ratis: its certificate (re-read when the files change, checked at most
 * every 10 s on a new handshake) and a trust manager that wants a node certificate, with the
 * expected peer id for the addresses in its peers list. One {@code GrpcConfigKeys.TLS} config
 * covers the client and admin channels.
 */
public final class ClientTls {
  public static final long CHECK_INTERVAL_MS = 10_000;

  private final TlsFiles files;
  private final GrpcTlsConfig grpc;

  private ClientTls(TlsFiles files, GrpcTlsConfig grpc) {
    this.files = files;
    this.grpc = grpc;
  }

  /** @throws UncheckedIOException naming the file that does not load */
  public static ClientTls of(TlsFiles files, Peers peers) {
    files.check();
    Map<String, String> ids = new HashMap<>();
    for (Peers.Peer p : peers.list()) {
      ids.put(p.host() + ":" + p.port(), p.id());
    }
    try {
      ReloadingKeyManager keys = new ReloadingKeyManager(files.cert(), files.key(), CHECK_INTERVAL_MS);
      PeerTrustManager trust = PeerTrustManager.fromCaFile(files.ca(),
          (host, port) -> Optional.ofNullable(ids.get(host + ":" + port)), false);
      return new ClientTls(files, new GrpcTlsConfig(keys, trust, true));
    } catch (IOException e) {
      throw new UncheckedIOException(e.getMessage(), e);
    }
  }

  public TlsFiles files() {
    return files;
  }

  /**
   * A gRPC client context with the same key and trust managers as the Ratis channels, for Cohort's
   * own calls on the Raft port (the watch, R12).
   */
  public SslContext grpcClientContext() {
    try {
      return GrpcSslContexts.configure(SslContextBuilder.forClient())
          .keyManager(grpc.getKeyManager().getKeyManager())
          .trustManager(grpc.getTrustManager().getTrustManager())
          .build();
    } catch (SSLException e) {
      throw new IllegalStateException("the client TLS context does not build: " + e.getMessage(), e);
    }
  }

  /** A JDK context with the same key and trust managers, for a {@link TlsProbe}. */
  public SSLContext jdkContext() {
    try {
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(new KeyManager[] {grpc.getKeyManager().getKeyManager()},
          new TrustManager[] {grpc.getTrustManager().getTrustManager()}, null);
      return context;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the client TLS context does not build: " + e.getMessage(), e);
    }
  }

  /** Ratis parameters carrying this TLS config for every client channel. */
  public Parameters parameters() {
    Parameters p = new Parameters();
    GrpcConfigKeys.TLS.setConf(p, grpc);
    return p;
  }
}
