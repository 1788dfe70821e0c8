package io.cohort.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.cohort.client.Peers;
import io.cohort.client.tls.Certificates;
import io.cohort.client.tls.ClientTls;
import io.cohort.client.tls.Pem;
import io.cohort.client.tls.TlsFiles;
import io.cohort.client.tls.TlsProbe;
import io.cohort.server.testing.MiniCluster;
import io.cohort.server.testing.TestCerts;
import io.cohort.tools.cli.ErrorLines;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.net.ssl.SSLException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** R11 from the command line: certificates, TLS flags and environment, the ACL commands, refusals. */
@ExtendWith(SharedCluster.Resolver.class)
class CliSecurityTest {
  @TempDir
  Path tmp;

  @Test
  void certsCreateMakesACaOnceNodeCertificatesWithTheirAddressesAndUserCertificates() throws Exception {
    Cli cli = new Cli(Map.of());
    Path dir = tmp.resolve("certs");
    JsonNode made = cli.ok("certs", "create", "--dir", dir.toString(), "--node", "n1=10.0.0.1,node-1.example",
        "--user", "admin", "--user", "worker", "--json").json();
    assertEquals(4, made.get("written").size(), made.toString());
    X509Certificate ca = Pem.certificates(dir.resolve("ca.crt")).get(0);
    X509Certificate n1 = Pem.certificates(dir.resolve("n1.crt")).get(0);
    X509Certificate worker = Pem.certificates(dir.resolve("worker.crt")).get(0);
    n1.verify(ca.getPublicKey());
    worker.verify(ca.getPublicKey());
    assertEquals("n1", Certificates.commonName(n1));
    assertTrue(Certificates.isNodeCertificate(n1), "serverAuth: a node");
    assertFalse(Certificates.isNodeCertificate(worker), "clientAuth only: a user cannot pose as a node");
    String sans = made.get("written").get(1).get("names").asText();
    for (String san : List.of("IP:10.0.0.1", "IP:127.0.0.1", "DNS:node-1.example", "DNS:localhost")) {
      assertTrue(sans.contains(san), sans);
    }
    assertEquals(Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE),
        Files.getPosixFilePermissions(dir.resolve("worker.key")), "keys are the owner's only");
    Pem.privateKey(dir.resolve("worker.key"));

    // Again: the CA is reused, existing files are refused unless --force.
    cli.failsWith(2, "exists: --force to replace it", "certs", "create", "--dir", dir.toString(), "--user", "worker");
    cli.ok("certs", "create", "--dir", dir.toString(), "--user", "worker", "--force");
    assertEquals(ca, Pem.certificates(dir.resolve("ca.crt")).get(0), "the same CA");
    Pem.certificates(dir.resolve("worker.crt")).get(0).verify(ca.getPublicKey());
    cli.failsWith(2, "'ca' names the CA's files", "certs", "create", "--dir", dir.toString(), "--user", "ca");
    cli.failsWith(2, "--node wants ID=HOST", "certs", "create", "--dir", dir.toString(), "--node", "n2");
  }

  @Test
  void withNeitherTlsFilesNorInsecureACommandStopsWithOneLineNamingBoth(MiniCluster cluster) {
    Cli none = new Cli(Map.of("COHORT_PEERS", cluster.peers()));
    Cli.Run r = none.failsWith(2, "no TLS: give --tls-cert, --tls-key and --tls-ca", "group", "list");
    assertTrue(r.err().contains("--insecure (COHORT_INSECURE=1)"), r.err());
    none.failsWith(2, "missing --tls-key, --tls-ca", "group", "list", "--tls-cert", "x.crt");
    none.failsWith(2, "exclude each other", "group", "list", "--insecure", "--tls-cert", "a", "--tls-key", "b",
        "--tls-ca", "c");
    none.failsWith(2, "TLS file " + tmp.resolve("none.crt") + " does not exist", "group", "list",
        "--tls-cert", tmp.resolve("none.crt").toString(), "--tls-key", "k", "--tls-ca", "c");
  }

  @Test
  void flagsWinOverTheEnvironmentAndStatusSaysWhoYouAre(MiniCluster cluster) {
    TlsFiles alice = cluster.tls("cli-alice");
    Map<String, String> env = new HashMap<>(Cli.env(cluster, alice));
    Cli cli = new Cli(env);
    Cli.Run status = cli.run("cluster", "status");
    assertTrue(status.out().contains("transport: mutual TLS\n"), status.out());
    assertTrue(status.out().contains("limits: unknown (PERMISSION_DENIED: principal 'cli-alice' (no role)"),
        "a principal with no role reads nothing: " + status.out());
    TlsFiles admin = cluster.adminTls();
    JsonNode asAdmin = cli.ok("cluster", "status", "--json", "--tls-cert", admin.cert().toString(),
        "--tls-key", admin.key().toString(), "--tls-ca", admin.ca().toString()).json();
    assertEquals("mtls", asAdmin.get("transport").asText());
    assertEquals(MiniCluster.ADMIN, asAdmin.get("principal").asText());
    assertEquals("admin", asAdmin.get("role").asText());
  }

  @Test
  void R11_aclGrantListRevoke_andAConsumerIsRefusedWithOneLine(MiniCluster cluster) {
    Cli admin = new Cli(Cli.env(cluster));
    admin.ok("topic", "create", "sec-t", "--partitions", "2");
    admin.ok("group", "create", "sec-orders", "--topic", "sec-t");
    admin.ok("acl", "grant", "sec-bob", "--role", "consumer", "--group", "sec-*");
    admin.ok("acl", "grant", "sec-rita", "--role", "reader");
    JsonNode list = admin.ok("acl", "list", "--json").json();
    assertTrue(list.get("bootstrapped").asBoolean());
    Map<String, JsonNode> byName = new HashMap<>();
    list.get("principals").forEach(p -> byName.put(p.get("principal").asText(), p));
    assertEquals("admin", byName.get(MiniCluster.ADMIN).get("role").asText());
    assertEquals("consumer", byName.get("sec-bob").get("role").asText());
    assertEquals("sec-*", byName.get("sec-bob").get("groups").get(0).asText());
    assertTrue(admin.ok("acl", "list").out().contains("sec-rita"));
    admin.failsWith(2, "--role must be admin, consumer or reader", "acl", "grant", "x", "--role", "root");
    admin.failsWith(1, "INVALID_ARGUMENT: only a consumer is granted groups", "acl", "grant", "x", "--role",
        "reader", "--group", "g");

    Cli bob = new Cli(Cli.env(cluster, cluster.tls("sec-bob")));
    bob.failsWith(1, "PERMISSION_DENIED: principal 'sec-bob' (consumer) may not delete group: admin only",
        "group", "delete", "sec-orders", "--force");
    bob.failsWith(1, "PERMISSION_DENIED", "checkpoint", "reset", "sec-orders", "sec-t", "0", "5");
    bob.failsWith(1, "PERMISSION_DENIED", "acl", "grant", "sec-bob", "--role", "admin");
    bob.ok("group", "describe", "sec-orders");
    JsonNode own = bob.ok("acl", "list", "--json").json();
    assertEquals(1, own.get("principals").size(), "a consumer sees its own entry only");
    Cli rita = new Cli(Cli.env(cluster, cluster.tls("sec-rita")));
    rita.ok("group", "describe", "sec-orders");
    rita.failsWith(1, "PERMISSION_DENIED", "topic", "create", "sec-u", "--partitions", "1");

    admin.ok("acl", "revoke", "sec-bob", "--group", "sec-*");
    bob.failsWith(1, "PERMISSION_DENIED", "group", "describe", "sec-orders");
    admin.ok("acl", "revoke", "sec-bob");
    admin.failsWith(1, "NOT_FOUND", "acl", "revoke", "sec-bob");
    admin.failsWith(1, "FAILED_PRECONDITION: 'admin' is the last admin", "acl", "revoke", MiniCluster.ADMIN);
  }

  @Test
  void aCertificateFromAnotherCaIsOneLineAndNoAnswer(MiniCluster cluster) {
    TlsFiles rogue = TestCerts.create(tmp.resolve("rogue")).user(MiniCluster.ADMIN);
    Cli cli = new Cli(Map.of("COHORT_PEERS", cluster.peers(), ClusterOptions.CERT_ENV, rogue.cert().toString(),
        ClusterOptions.KEY_ENV, rogue.key().toString(), ClusterOptions.CA_ENV, cluster.adminTls().ca().toString()));
    Cli.Run r = cli.failsWith(1, "TLS handshake with the cluster at " + cluster.peers()
        + " failed: the cluster refused this certificate", "group", "list", "--timeout", "3");
    assertFalse(r.err().contains("Exception"), r.err());
    TlsFiles admin = cluster.adminTls();
    Cli wrongCa = new Cli(Map.of("COHORT_PEERS", cluster.peers(), ClusterOptions.CERT_ENV, admin.cert().toString(),
        ClusterOptions.KEY_ENV, admin.key().toString(), ClusterOptions.CA_ENV, rogue.ca().toString()));
    wrongCa.failsWith(1, "failed: the cluster's certificate is not trusted", "group", "list", "--timeout", "3");
    Cli plain = new Cli(Map.of("COHORT_PEERS", cluster.peers(), "COHORT_INSECURE", "1"));
    plain.failsWith(1, "(plaintext to a TLS port? --insecure reaches only a cluster started --insecure)",
        "group", "list", "--timeout", "3");
  }

  @Test
  void aDirectHandshakeTellsWhichSideRefusedTheOther(MiniCluster cluster) {
    Peers peers = Peers.parse(cluster.peers());
    Peers.Peer n1 = peers.list().get(0);
    TlsFiles admin = cluster.adminTls();
    TlsFiles rogue = TestCerts.create(tmp.resolve("rogue-probe")).user(MiniCluster.ADMIN);
    TlsFiles rogueCert = new TlsFiles(rogue.cert(), rogue.key(), admin.ca());
    TlsFiles wrongCa = new TlsFiles(admin.cert(), admin.key(), rogue.ca());
    Duration timeout = Duration.ofSeconds(10);

    assertNull(TlsProbe.handshake(ClientTls.of(admin, peers).jdkContext(), n1.host(), n1.port(), timeout),
        "this cluster's certificate is taken");
    assertTrue(TlsProbe.answersInTls(n1.host(), n1.port(), timeout), "a node's port answers in TLS");
    SSLException refused = TlsProbe.handshake(ClientTls.of(rogueCert, peers).jdkContext(), n1.host(), n1.port(),
        timeout);
    assertNotNull(refused, "a certificate from another CA is refused by the node");
    assertEquals("the cluster refused this certificate: is --tls-cert from this cluster's CA, and not expired?",
        ErrorLines.tlsProblem(refused), refused.toString());
    SSLException untrusted = TlsProbe.handshake(ClientTls.of(wrongCa, peers).jdkContext(), n1.host(), n1.port(),
        timeout);
    assertNotNull(untrusted, "the node's certificate is refused by a client that trusts another CA");
    assertTrue(ErrorLines.tlsProblem(untrusted).startsWith("the cluster's certificate is not trusted"),
        untrusted.toString());
  }
}
