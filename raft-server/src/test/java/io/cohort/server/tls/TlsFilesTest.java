package io.cohort.server.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cohort.client.tls.Certificates;
import io.cohort.client.tls.Pem;
import io.cohort.client.tls.PeerTrustManager;
import io.cohort.client.tls.ReloadingKeyManager;
import io.cohort.client.tls.TlsFiles;
import io.cohort.server.testing.TestCerts;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The pieces of R11's TLS without a cluster: certificates, PEM files, the reloading key manager, the peer check. */
class TlsFilesTest {
  @TempDir
  Path dir;

  @Test
  void nodeCertificatesServeAndAuthenticate_userCertificatesOnlyAuthenticate() throws Exception {
    TestCerts certs = TestCerts.create(dir.resolve("tls"));
    X509Certificate node = Pem.certificates(certs.node("n1").cert()).get(0);
    X509Certificate user = Pem.certificates(certs.user("n1").cert()).get(0);
    assertEquals("n1", Certificates.commonName(node));
    assertEquals("n1", Certificates.commonName(user), "a user may well be called n1");
    assertTrue(Certificates.isNodeCertificate(node));
    assertFalse(Certificates.isNodeCertificate(user), "but it cannot pose as the node");
    assertTrue(node.getExtendedKeyUsage().containsAll(List.of(Certificates.SERVER_AUTH, Certificates.CLIENT_AUTH)));
    assertEquals(List.of(Certificates.CLIENT_AUTH), user.getExtendedKeyUsage());
    node.verify(certs.ca().certificate().getPublicKey());
    assertThrows(IllegalArgumentException.class, () -> certs.ca().issueNode("n9", List.of("not-an-ip"), List.of(),
        Duration.ofDays(1)), "host names go in DNS names");
  }

  @Test
  void aTraditionalOrMissingKeyIsOneClearLine() throws Exception {
    Path ec = Files.writeString(dir.resolve("old.key"), "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n");
    IOException e = assertThrows(IOException.class, () -> Pem.privateKey(ec));
    assertTrue(e.getMessage().contains("convert it with `openssl pkcs8 -topk8 -nocrypt`"), e.getMessage());
    Path none = Files.writeString(dir.resolve("empty.crt"), "nothing here\n");
    assertThrows(IOException.class, () -> Pem.certificates(none));
    IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
        () -> TlsFiles.ofOptional("a.crt", null, "", "--tls-cert", "--tls-key", "--tls-ca"));
    assertEquals("TLS needs a certificate, its key and the CA: missing --tls-key, --tls-ca", missing.getMessage());
  }

  /** A changed file pair is used from the next handshake; a half-written one is not, the old stays. */
  @Test
  void theKeyManagerReloadsChangedFilesAndKeepsTheOldOnesWhenTheNewDoNotLoad() throws Exception {
    TestCerts certs = TestCerts.create(dir.resolve("tls"));
    TlsFiles files = certs.node("n1");
    ReloadingKeyManager keys = new ReloadingKeyManager(files.cert(), files.key(), 60_000);
    BigInteger first = keys.certificate().getSerialNumber();
    assertFalse(keys.reloadIfChanged(), "nothing changed");

    certs.ca().issueNode("n1", List.of("127.0.0.1"), List.of(), Duration.ofDays(1)).write(files.cert(), files.key());
    touch(files, 5);
    assertTrue(keys.reloadIfChanged());
    BigInteger second = keys.certificate().getSerialNumber();
    assertNotEquals(first, second);
    String alias = keys.chooseEngineServerAlias("EC", null, null);
    assertEquals(second, keys.getCertificateChain(alias)[0].getSerialNumber());

    Files.writeString(files.key(), "-----BEGIN PRIVATE KEY-----\nnot base64 at all!\n-----END PRIVATE KEY-----\n");
    touch(files, 10);
    assertFalse(keys.reloadIfChanged(), "a broken pair is not used");
    assertEquals(second, keys.certificate().getSerialNumber());
    assertTrue(keys.getPrivateKey(alias) != null, "the alias handed out before still has its key");
  }

  private static void touch(TlsFiles files, long seconds) throws IOException {
    FileTime later = FileTime.from(Instant.now().plusSeconds(seconds));
    Files.setLastModifiedTime(files.cert(), later);
    Files.setLastModifiedTime(files.key(), later);
  }

  /** Dialling a peer: the CA, then a node certificate, then the id expected at that address. */
  @Test
  void theTrustManagerWantsANodeCertificateWithThePeerIdExpectedAtTheAddress() throws Exception {
    TestCerts certs = TestCerts.create(dir.resolve("tls"));
    TestCerts rogue = TestCerts.create(dir.resolve("rogue"));
    PeerTrustManager strict = PeerTrustManager.fromCaFile(certs.caFile(),
        (host, port) -> port == 9861 ? Optional.of("n1") : Optional.empty(), true);
    X509Certificate[] n1 = chain(certs.node("n1"));
    strict.checkNode(n1, "127.0.0.1", 9861);
    CertificateException wrongId = assertThrows(CertificateException.class,
        () -> strict.checkNode(chain(certs.node("n2")), "127.0.0.1", 9861));
    assertTrue(wrongId.getMessage().contains("presented CN=n2 but peer n1 is expected there"), wrongId.getMessage());
    CertificateException user = assertThrows(CertificateException.class,
        () -> strict.checkNode(chain(certs.user("n1")), "127.0.0.1", 9861));
    assertTrue(user.getMessage().contains("not a node certificate"), user.getMessage());
    assertThrows(CertificateException.class, () -> strict.checkNode(n1, "127.0.0.1", 9999), "unknown address");
    assertThrows(CertificateException.class, () -> strict.checkClientTrusted(chain(rogue.user("admin")), "EC"),
        "another CA");
    strict.checkClientTrusted(chain(certs.user("admin")), "EC");
    PeerTrustManager lenient = PeerTrustManager.fromCaFile(certs.caFile(), (host, port) -> Optional.empty(), false);
    lenient.checkNode(chain(certs.node("n4")), "10.0.0.4", 9861); // a client may learn of a new peer
  }

  private static X509Certificate[] chain(TlsFiles f) throws IOException {
    return Pem.certificates(f.cert()).toArray(new X509Certificate[0]);
  }
}
