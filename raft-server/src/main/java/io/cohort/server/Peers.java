package io.cohort.server;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import org.apache.ratis.protocol.RaftPeer;

/** Parses {@code n1=host:port,n2=host:port,...}, failing with one clear line per problem. */
public final class Peers {
  private static final Pattern ID = Pattern.compile("[A-Za-z0-9._-]{1,64}");

  private Peers() {}

  public static List<RaftPeer> parse(String spec) {
    if (spec == null || spec.isBlank()) {
      throw new ConfigException("peers list is empty: expected n1=host:port,n2=host:port,...");
    }
    List<RaftPeer> peers = new ArrayList<>();
    Set<String> ids = new HashSet<>();
    Set<String> addresses = new HashSet<>();
    for (String raw : spec.split(",", -1)) {
      String item = raw.trim();
      int eq = item.indexOf('=');
      if (eq <= 0 || eq == item.length() - 1) {
        throw new ConfigException("bad peer '" + item + "' in peers list '" + spec + "': expected id=host:port");
      }
      String id = item.substring(0, eq).trim();
      String address = item.substring(eq + 1).trim();
      if (!ID.matcher(id).matches()) {
        throw new ConfigException("bad peer id '" + id + "' in peers list: use 1-64 of [A-Za-z0-9._-]");
      }
      int colon = address.lastIndexOf(':');
      if (colon <= 0 || colon == address.length() - 1) {
        throw new ConfigException("bad address '" + address + "' for peer " + id + ": expected host:port");
      }
      int port;
      try {
        port = Integer.parseInt(address.substring(colon + 1));
      } catch (NumberFormatException e) {
        port = -1;
      }
      if (port < 1 || port > 65535) {
        throw new ConfigException("bad port in '" + address + "' for peer " + id + ": expected 1..65535");
      }
      if (!ids.add(id)) {
        throw new ConfigException("peer id " + id + " appears twice in peers list '" + spec + "'");
      }
      if (!addresses.add(address)) {
        throw new ConfigException("address " + address + " appears twice in peers list '" + spec + "'");
      }
      peers.add(RaftPeer.newBuilder().setId(id).setAddress(address).build());
    }
    return List.copyOf(peers);
  }

  /** The inverse of {@link #parse}. */
  public static String format(List<RaftPeer> peers) {
    StringBuilder b = new StringBuilder();
    for (RaftPeer p : peers) {
      if (b.length() > 0) {
        b.append(',');
      }
      b.append(p.getId()).append('=').append(p.getAddress());
    }
    return b.toString();
  }

  public static String host(RaftPeer peer) {
    String a = peer.getAddress();
    return a.substring(0, a.lastIndexOf(':'));
  }

  public static int port(RaftPeer peer) {
    String a = peer.getAddress();
    return Integer.parseInt(a.substring(a.lastIndexOf(':') + 1));
  }
}
