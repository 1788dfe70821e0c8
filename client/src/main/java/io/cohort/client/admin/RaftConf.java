package io.cohort.client.admin;

import io.cohort.client.Peers;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.ratis.proto.RaftProtos.RaftConfigurationProto;
import org.apache.ratis.proto.RaftProtos.RaftPeerProto;
import org.apache.ratis.protocol.RaftPeer;

/**
 * A Raft configuration as a peer reported it: the voters and listeners, and during a change the
 * old ones too (a joint configuration: both majorities must agree until the new one commits).
 */
public record RaftConf(List<Peers.Peer> voters, List<Peers.Peer> listeners, List<Peers.Peer> oldVoters,
    List<Peers.Peer> oldListeners) {

  public static final RaftConf EMPTY = new RaftConf(List.of(), List.of(), List.of(), List.of());

  public RaftConf {
    voters = List.copyOf(voters);
    listeners = List.copyOf(listeners);
    oldVoters = List.copyOf(oldVoters);
    oldListeners = List.copyOf(oldListeners);
  }

  static RaftConf of(RaftConfigurationProto p) {
    return new RaftConf(peers(p.getPeersList()), peers(p.getListenersList()), peers(p.getOldPeersList()),
        peers(p.getOldListenersList()));
  }

  private static List<Peers.Peer> peers(List<RaftPeerProto> protos) {
    List<Peers.Peer> out = new ArrayList<>();
    for (RaftPeerProto p : protos) {
      out.add(Peers.parse(p.getId().toStringUtf8() + "=" + p.getAddress()).list().get(0));
    }
    return out;
  }

  /** Old and new configurations both in force: a change is in progress. */
  public boolean joint() {
    return !oldVoters.isEmpty() || !oldListeners.isEmpty();
  }

  public boolean isEmpty() {
    return voters.isEmpty() && listeners.isEmpty() && !joint();
  }

  /** A voter of the new or the old configuration. */
  public boolean isVoter(String id) {
    return Stream.concat(voters.stream(), oldVoters.stream()).anyMatch(p -> p.id().equals(id));
  }

  public boolean isListener(String id) {
    return Stream.concat(listeners.stream(), oldListeners.stream()).anyMatch(p -> p.id().equals(id));
  }

  public boolean contains(String id) {
    return isVoter(id) || isListener(id);
  }

  /** Every peer named, new configuration first. */
  public List<Peers.Peer> all() {
    Set<String> seen = new LinkedHashSet<>();
    List<Peers.Peer> out = new ArrayList<>();
    for (Peers.Peer p : Stream.of(voters, listeners, oldVoters, oldListeners).flatMap(List::stream).toList()) {
      if (seen.add(p.id())) {
        out.add(p);
      }
    }
    return out;
  }

  public Optional<Peers.Peer> find(String id) {
    return all().stream().filter(p -> p.id().equals(id)).findFirst();
  }

  public List<String> voterIds() {
    return voters.stream().map(Peers.Peer::id).toList();
  }

  List<RaftPeer> voterPeers() {
    return voters.stream().map(Peers.Peer::toRaftPeer).toList();
  }

  List<RaftPeer> listenerPeers() {
    return listeners.stream().map(Peers.Peer::toRaftPeer).toList();
  }

  /** {@code n1,n2,n3} (listeners marked), or {@code n1,n2,n3 -> n1,n2,n4} during a change. */
  public String describe() {
    String now = ids(voters, listeners);
    return joint() ? ids(oldVoters, oldListeners) + " -> " + now : now;
  }

  private static String ids(List<Peers.Peer> voters, List<Peers.Peer> listeners) {
    List<String> out = new ArrayList<>(voters.stream().map(Peers.Peer::id).toList());
    listeners.forEach(l -> out.add(l.id() + "(listener)"));
    return String.join(",", out);
  }
}
