package io.cohort.server.tls;

import io.cohort.client.tls.PeerTrustManager;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.apache.ratis.proto.RaftProtos.RaftPeerProto;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftConfiguration;
import org.apache.ratis.server.RaftServer;

/**
 * Which servers may take part in this node's Raft group (R11): the peers of its current Raft
 * configuration (the previous one too, during a change), plus peers an admin's setConfiguration
 * announced here while they are being added (they are dialled before any configuration names
 * them). The configured peers list counts only while the node knows no configuration yet (first
 * start, or a node waiting to be added). Inbound Raft calls are checked against the ids; outbound
 * connections against the id expected at the dialled address ({@link PeerTrustManager}). A node
 * started with {@code --join} knows no peer but itself until the leader's log adds it: until then
 * any node certificate of the cluster CA may call it (it cannot know the leader in advance).
 */
public final class PeerDirectory implements PeerTrustManager.ExpectedPeers {
  /** How long a peer announced by setConfiguration counts before a configuration names it. */
  static final Duration ANNOUNCED_FOR = Duration.ofMinutes(10);
  static final int MAX_ANNOUNCED = 64;

  private record Announced(RaftPeer peer, long untilNanos) {}

  private final List<RaftPeer> configured;
  private final boolean joining;
  private final Map<RaftPeerId, Announced> announced = new ConcurrentHashMap<>();
  private volatile Supplier<RaftServer.Division> division = () -> null;

  public PeerDirectory(List<RaftPeer> configured) {
    this(configured, false);
  }

  /** @param joining the node waits to be added: it accepts any node until a configuration names peers */
  public PeerDirectory(List<RaftPeer> configured, boolean joining) {
    this.configured = List.copyOf(configured);
    this.joining = joining;
  }

  /** The running division, once the server has one (null while starting or closed). */
  public void attach(Supplier<RaftServer.Division> division) {
    this.division = division;
  }

  /** An admin's setConfiguration names these peers (R11: only admins get here). */
  public void announce(Collection<RaftPeerProto> peers) {
    long until = System.nanoTime() + ANNOUNCED_FOR.toNanos();
    announced.values().removeIf(a -> a.untilNanos() - System.nanoTime() < 0);
    for (RaftPeerProto p : peers) {
      if (announced.size() >= MAX_ANNOUNCED) {
        break;
      }
      RaftPeer peer = RaftPeer.newBuilder().setId(RaftPeerId.valueOf(p.getId())).setAddress(p.getAddress()).build();
      announced.put(peer.getId(), new Announced(peer, until));
    }
  }

  /** Whether a server presenting a node certificate with this CN may call this node's Raft service. */
  public boolean allowsInbound(String id) {
    if (joining && unconfigured()) {
      return true;
    }
    for (RaftPeer p : known()) {
      if (p.getId().toString().equals(id)) {
        return true;
      }
    }
    return false;
  }

  @Override
  public Optional<String> at(String host, int port) {
    String dialled = normalize(host) + ":" + port;
    for (RaftPeer p : known()) {
      if (normalize(p.getAddress()).equals(dialled)) {
        return Optional.of(p.getId().toString());
      }
    }
    return Optional.empty();
  }

  /** The peers that count now, as described in the class comment. */
  List<RaftPeer> known() {
    List<RaftPeer> out = new ArrayList<>();
    RaftConfiguration conf = conf();
    if (conf != null) {
      out.addAll(conf.getAllPeers(org.apache.ratis.proto.RaftProtos.RaftPeerRole.FOLLOWER));
      out.addAll(conf.getAllPeers(org.apache.ratis.proto.RaftProtos.RaftPeerRole.LISTENER));
    }
    if (out.isEmpty()) {
      out.addAll(configured);
    }
    long now = System.nanoTime();
    for (Announced a : announced.values()) {
      if (a.untilNanos() - now > 0) {
        out.add(a.peer());
      }
    }
    return out;
  }

  private boolean unconfigured() {
    RaftConfiguration conf = conf();
    return conf == null || conf.getAllPeers(org.apache.ratis.proto.RaftProtos.RaftPeerRole.FOLLOWER).isEmpty();
  }

  private RaftConfiguration conf() {
    try {
      RaftServer.Division d = division.get();
      return d == null ? null : d.getRaftConf();
    } catch (RuntimeException e) {
      return null;
    }
  }

  /** "[::1]:9861" and "::1" alike: brackets off, lower case. */
  private static String normalize(String hostOrAddress) {
    return hostOrAddress.replace("[", "").replace("]", "").toLowerCase(java.util.Locale.ROOT);
  }
}
