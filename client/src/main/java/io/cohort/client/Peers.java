package io.cohort.client;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;

/**
 * A cluster's peers, parsed from {@code "n1=host:port,n2=host:port,n3=host:port"} (the CLI's
 * {@code --peers} and {@code COHORT_PEERS} format). IPv6 hosts are written in brackets:
 * {@code n1=[::1]:9861}.
 */
public record Peers(List<Peer> list) {

  /** One peer: its Raft id and its gRPC address. */
  public record Peer(String id, String host, int port) {
    public String address() {
      return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }

    RaftPeer toRaftPeer() {
      return RaftPeer.newBuilder().setId(RaftPeerId.valueOf(id)).setAddress(address()).build();
    }

    @Override
    public String toString() {
      return id + "=" + address();
    }
  }

  public Peers {
    list = List.copyOf(list);
    if (list.isEmpty()) {
      throw new IllegalArgumentException("no peers");
    }
  }

  /** Parses a peers string; throws IllegalArgumentException naming the bad part. */
  public static Peers parse(String spec) {
    if (spec == null || spec.isBlank()) {
      throw new IllegalArgumentException("peers are empty; expected id=host:port[,id=host:port...], "
          + "e.g. n1=127.0.0.1:9861,n2=127.0.0.1:9862,n3=127.0.0.1:9863");
    }
    List<Peer> peers = new ArrayList<>();
    Set<String> ids = new HashSet<>();
    Set<String> addresses = new HashSet<>();
    for (String raw : spec.split(",", -1)) {
      String part = raw.trim();
      Peer peer = parseOne(part, spec);
      if (!ids.add(peer.id())) {
        throw new IllegalArgumentException("peer id '" + peer.id() + "' appears twice in '" + spec + "'");
      }
      if (!addresses.add(peer.address())) {
        throw new IllegalArgumentException("address " + peer.address() + " appears twice in '" + spec + "'");
      }
      peers.add(peer);
    }
    return new Peers(peers);
  }

  private static Peer parseOne(String part, String spec) {
    String where = " in peers '" + spec + "'";
    if (part.isEmpty()) {
      throw new IllegalArgumentException("empty peer entry" + where + "; expected id=host:port");
    }
    int eq = part.indexOf('=');
    if (eq < 0) {
      throw new IllegalArgumentException("peer '" + part + "' has no id" + where + "; expected id=host:port");
    }
    String id = part.substring(0, eq).trim();
    String address = part.substring(eq + 1).trim();
    if (id.isEmpty() || !id.matches("[A-Za-z0-9._-]+")) {
      throw new IllegalArgumentException("peer id '" + id + "' is not 1+ chars of [A-Za-z0-9._-]" + where);
    }
    String host;
    String portText;
    if (address.startsWith("[")) {
      int close = address.indexOf(']');
      if (close < 0 || close + 1 >= address.length() || address.charAt(close + 1) != ':') {
        throw new IllegalArgumentException("peer '" + part + "' has a bad address" + where
            + "; expected [ipv6]:port");
      }
      host = address.substring(1, close);
      portText = address.substring(close + 2);
    } else {
      int colon = address.lastIndexOf(':');
      if (colon < 0 || address.indexOf(':') != colon) {
        throw new IllegalArgumentException("peer '" + part + "' has no host:port address" + where);
      }
      host = address.substring(0, colon);
      portText = address.substring(colon + 1);
    }
    if (host.isEmpty()) {
      throw new IllegalArgumentException("peer '" + part + "' has an empty host" + where);
    }
    int port;
    try {
      port = Integer.parseInt(portText);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("peer '" + part + "' has a bad port '" + portText + "'" + where);
    }
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("peer '" + part + "' has port " + port + " outside 1..65535" + where);
    }
    return new Peer(id, host, port);
  }

  List<RaftPeer> toRaftPeers() {
    List<RaftPeer> out = new ArrayList<>(list.size());
    for (Peer p : list) {
      out.add(p.toRaftPeer());
    }
    return out;
  }

  @Override
  public String toString() {
    StringBuilder b = new StringBuilder();
    for (Peer p : list) {
      if (b.length() > 0) {
        b.append(',');
      }
      b.append(p);
    }
    return b.toString();
  }
}
