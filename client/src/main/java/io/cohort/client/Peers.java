package io.cohort.client;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;

/**
 * A cluster's peers, parsed from {@code "n1=host:port,n2=host:port,n3=host:port"}: the format of
 * {@code --peers}, {@code COHORT_PEERS} and the server's configuration. The one parser of that
 * format: servers, clients and the CLI all read peers through it. Hosts are names or IPv4
 * addresses; IPv6 addresses go in brackets ({@code n1=[::1]:9861}).
 */
public record Peers(List<Peer> list) {
  /** The local three-node cluster that {@code scripts/cluster.sh} starts. */
  public static final String LOCAL = "n1=127.0.0.1:9861,n2=127.0.0.1:9862,n3=127.0.0.1:9863";

  /** The environment variable that names the peers when no flag does. */
  public static final String ENV = "COHORT_PEERS";

  private static final Pattern ID = Pattern.compile("[A-Za-z0-9._-]{1,64}");
  private static final Pattern HOST_NAME = Pattern.compile("[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?");
  private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:.]+(%[A-Za-z0-9._-]+)?");

  /** One peer: its Raft id and its gRPC address. */
  public record Peer(String id, String host, int port) {
    /** {@code host:port}, with an IPv6 host in brackets. */
    public String address() {
      return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }

    public RaftPeer toRaftPeer() {
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

  /** The peers named by {@code flag}, else by {@code $COHORT_PEERS}, else the local cluster. */
  public static String specOrDefault(String flag, Map<String, String> env) {
    if (flag != null && !flag.isBlank()) {
      return flag;
    }
    String fromEnv = env.get(ENV);
    return fromEnv != null && !fromEnv.isBlank() ? fromEnv : LOCAL;
  }

  /** Parses a peers string; throws IllegalArgumentException with one line naming the bad part. */
  public static Peers parse(String spec) {
    if (spec == null || spec.isBlank()) {
      throw new IllegalArgumentException("peers are empty: expected id=host:port,..., e.g. " + LOCAL);
    }
    List<Peer> peers = new ArrayList<>();
    Set<String> ids = new HashSet<>();
    Set<String> addresses = new HashSet<>();
    for (String raw : spec.split(",", -1)) {
      Peer peer = parseOne(raw.trim(), spec);
      if (!ids.add(peer.id())) {
        throw new IllegalArgumentException("peer id '" + peer.id() + "' appears twice in peers '" + spec + "'");
      }
      if (!addresses.add(peer.address())) {
        throw new IllegalArgumentException("address " + peer.address() + " appears twice in peers '" + spec + "'");
      }
      peers.add(peer);
    }
    return new Peers(peers);
  }

  /** The peers of a Ratis group, e.g. to print them in the {@code --peers} format. */
  public static Peers of(List<RaftPeer> raftPeers) {
    List<Peer> out = new ArrayList<>(raftPeers.size());
    for (RaftPeer p : raftPeers) {
      out.add(parseOne(p.getId() + "=" + p.getAddress(), String.valueOf(raftPeers)));
    }
    return new Peers(out);
  }

  private static Peer parseOne(String part, String spec) {
    String where = " in peers '" + spec + "'";
    if (part.isEmpty()) {
      throw new IllegalArgumentException("empty entry" + where + ": expected id=host:port");
    }
    int eq = part.indexOf('=');
    if (eq < 0) {
      throw new IllegalArgumentException("peer '" + part + "' has no id" + where + ": expected id=host:port");
    }
    String id = part.substring(0, eq).trim();
    String address = part.substring(eq + 1).trim();
    if (!ID.matcher(id).matches()) {
      throw new IllegalArgumentException("peer id '" + id + "' is not 1-64 characters of [A-Za-z0-9._-]" + where);
    }
    String host;
    String portText;
    if (address.startsWith("[")) {
      int close = address.indexOf(']');
      if (close < 0 || close + 1 >= address.length() || address.charAt(close + 1) != ':') {
        throw new IllegalArgumentException("peer '" + part + "' has a bad address" + where + ": expected [ipv6]:port");
      }
      host = address.substring(1, close);
      portText = address.substring(close + 2);
      if (host.indexOf(':') < 0 || !IPV6.matcher(host).matches()) {
        throw new IllegalArgumentException("peer '" + part + "' has '" + host + "' in brackets, which is not an IPv6 address" + where);
      }
    } else {
      int colon = address.lastIndexOf(':');
      if (colon < 0) {
        throw new IllegalArgumentException("peer '" + part + "' has no port" + where + ": expected id=host:port");
      }
      if (address.indexOf(':') != colon) {
        throw new IllegalArgumentException("peer '" + part + "' has an IPv6 address without brackets" + where
            + ": write " + id + "=[" + address.substring(0, colon) + "]:" + address.substring(colon + 1));
      }
      host = address.substring(0, colon);
      portText = address.substring(colon + 1);
      if (host.isEmpty()) {
        throw new IllegalArgumentException("peer '" + part + "' has an empty host" + where);
      }
      if (!HOST_NAME.matcher(host).matches()) {
        throw new IllegalArgumentException("peer '" + part + "' has a bad host '" + host + "'" + where);
      }
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

  /** The peer with this id, if any. */
  public java.util.Optional<Peer> find(String id) {
    return list.stream().filter(p -> p.id().equals(id)).findFirst();
  }

  public List<RaftPeer> toRaftPeers() {
    List<RaftPeer> out = new ArrayList<>(list.size());
    for (Peer p : list) {
      out.add(p.toRaftPeer());
    }
    return out;
  }

  /** The {@code --peers} form: {@code n1=host:port,...}. */
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
