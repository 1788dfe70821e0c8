package io.cohort.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class PeersTest {
  @Test
  void parsesThreePeers() {
    Peers p = Peers.parse("n1=127.0.0.1:9861, n2=127.0.0.1:9862,n3=localhost:9863");
    assertEquals(3, p.list().size());
    assertEquals(new Peers.Peer("n2", "127.0.0.1", 9862), p.list().get(1));
    assertEquals("n1=127.0.0.1:9861,n2=127.0.0.1:9862,n3=localhost:9863", p.toString());
  }

  @Test
  void parsesBracketedIpv6() {
    Peers p = Peers.parse("n1=[::1]:9861");
    assertEquals(new Peers.Peer("n1", "::1", 9861), p.list().get(0));
    assertEquals("[::1]:9861", p.list().get(0).address());
  }

  @Test
  void hostNamesAndIpv6ParseAndRoundTrip() {
    Peers p = Peers.parse("a=node-1.example.org:9861,b=[fe80::1%eth0]:9862,c=[2001:db8::7]:9863");
    assertEquals("node-1.example.org", p.list().get(0).host());
    assertEquals("fe80::1%eth0", p.list().get(1).host());
    assertEquals(p, Peers.parse(p.toString()));
    assertEquals(p, Peers.of(p.toRaftPeers()));
  }

  @Test
  void theFlagWinsThenTheEnvironmentThenTheLocalCluster() {
    assertEquals(Peers.LOCAL, Peers.specOrDefault(null, java.util.Map.of()));
    assertEquals("n1=h:1", Peers.specOrDefault(" ", java.util.Map.of("COHORT_PEERS", "n1=h:1")));
    assertEquals("n1=h:2", Peers.specOrDefault("n1=h:2", java.util.Map.of("COHORT_PEERS", "n1=h:1")));
  }

  @Test
  void rejectsBadSpecsWithTheBadPart() {
    assertMessage("", "peers are empty");
    assertMessage("n1=127.0.0.1:9861,", "empty entry");
    assertMessage("127.0.0.1:9861", "has no id");
    assertMessage("n1=127.0.0.1", "has no port");
    assertMessage("n1=::1:9861", "IPv6 address without brackets");
    assertMessage("n1=::1:9861", "write n1=[::1]:9861");
    assertMessage("n1=[localhost]:9861", "not an IPv6 address");
    assertMessage("n1=bad_host:9861", "bad host 'bad_host'");
    assertMessage("n1=127.0.0.1:http", "bad port 'http'");
    assertMessage("n1=127.0.0.1:70000", "outside 1..65535");
    assertMessage("n1=:9861", "empty host");
    assertMessage("n 1=h:1", "peer id 'n 1'");
    assertMessage("n1=h:1,n1=h:2", "'n1' appears twice");
    assertMessage("n1=h:1,n2=h:1", "h:1 appears twice");
  }

  private static void assertMessage(String spec, String part) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Peers.parse(spec));
    assertTrue(e.getMessage().contains(part), () -> "'" + e.getMessage() + "' should contain '" + part + "'");
  }
}
