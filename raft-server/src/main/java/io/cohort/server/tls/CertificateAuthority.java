package io.cohort.server.tls;

import io.cohort.client.tls.Certificates;
import io.cohort.client.tls.Pem;
import java.io.IOException;
import java.io.StringWriter;
import java.io.Writer;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import javax.security.auth.x500.X500Principal;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A small certificate authority for a Cohort cluster ({@code cohort certs create}, the scripts,
 * the harness and the tests): EC P-256 keys, PEM files, keys in PKCS#8 readable only by their
 * owner. Node certificates have CN = the peer id, IP and DNS subject alternative names (clients
 * check a node's address against them) and the extended key usages serverAuth and clientAuth;
 * user certificates (admin, consumer, reader) have clientAuth only, which is how a server tells a
 * node from a user whose CN happens to be a peer id ({@link Certificates#isNodeCertificate}).
 *
 * <p>It lives in raft-server, which every module that needs it already depends on (the CLI, the
 * harness, the raft-server and harness tests), while the client module stays free of BouncyCastle.
 * BouncyCastle is used only to build and write certificates; signing and key generation are the
 * JDK's.
 */
public final class CertificateAuthority {
  private static final String SIGNATURE = "SHA256withECDSA";
  private static final SecureRandom RANDOM = new SecureRandom();

  /** A certificate and its private key. */
  public record Issued(X509Certificate certificate, PrivateKey key) {
    /** Writes the certificate (PEM) and the key (PKCS#8 PEM, mode 600 where POSIX). */
    public void write(Path certFile, Path keyFile) throws IOException {
      writeFile(certFile, pem(certificate), false);
      writeFile(keyFile, pkcs8(key), true);
    }

    public String commonName() {
      return Certificates.commonName(certificate);
    }
  }

  private final Issued ca;

  private CertificateAuthority(Issued ca) {
    this.ca = ca;
  }

  /** A new self-signed CA named {@code CN=name}. */
  public static CertificateAuthority create(String name, Duration validity) {
    KeyPair keys = newKeyPair();
    X500Principal subject = new X500Principal("CN=" + rdnValue(name) + ",O=Cohort");
    Instant now = Instant.now();
    try {
      JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(subject, serial(), Date.from(now.minusSeconds(300)),
          Date.from(now.plus(validity)), subject, keys.getPublic());
      JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
      b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(keys.getPublic()));
      return new CertificateAuthority(new Issued(sign(b, keys.getPrivate()), keys.getPrivate()));
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalStateException("cannot build a CA certificate: " + e.getMessage(), e);
    }
  }

  /** A CA from its certificate and key files (as {@link #write} left them). */
  public static CertificateAuthority load(Path certFile, Path keyFile) throws IOException {
    return new CertificateAuthority(new Issued(Pem.certificates(certFile).get(0), Pem.privateKey(keyFile)));
  }

  public X509Certificate certificate() {
    return ca.certificate();
  }

  public void write(Path certFile, Path keyFile) throws IOException {
    ca.write(certFile, keyFile);
  }

  /**
   * A node's certificate: CN = its peer id; every address a client or a peer may dial it by must be
   * a SAN ({@code ips} as IP SANs, {@code dnsNames} as DNS SANs).
   */
  public Issued issueNode(String peerId, List<String> ips, List<String> dnsNames, Duration validity) {
    List<GeneralName> sans = new ArrayList<>();
    for (String ip : ips) {
      sans.add(new GeneralName(GeneralName.iPAddress, literalIp(ip)));
    }
    for (String dns : dnsNames) {
      sans.add(new GeneralName(GeneralName.dNSName, dns));
    }
    if (sans.isEmpty()) {
      throw new IllegalArgumentException("a node certificate needs at least one IP or DNS name: clients check it");
    }
    return issue(peerId, "node", sans, new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth},
        validity);
  }

  /** A user's certificate (admin, consumer, reader: the ACL decides): client authentication only. */
  public Issued issueUser(String principal, Duration validity) {
    return issue(principal, "user", List.of(), new KeyPurposeId[] {KeyPurposeId.id_kp_clientAuth}, validity);
  }

  private Issued issue(String cn, String kind, List<GeneralName> sans, KeyPurposeId[] usages, Duration validity) {
    KeyPair keys = newKeyPair();
    Instant now = Instant.now();
    X500Principal subject = new X500Principal("CN=" + rdnValue(cn) + ",OU=" + kind + ",O=Cohort");
    try {
      JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(ca.certificate(), serial(),
          Date.from(now.minusSeconds(300)), Date.from(now.plus(validity)), subject, keys.getPublic());
      JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyAgreement));
      b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(usages));
      b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(keys.getPublic()));
      b.addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(ca.certificate()));
      if (!sans.isEmpty()) {
        b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(sans.toArray(new GeneralName[0])));
      }
      return new Issued(sign(b, ca.key()), keys.getPrivate());
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalStateException("cannot issue a certificate for " + cn + ": " + e.getMessage(), e);
    }
  }

  private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey signer)
      throws GeneralSecurityException, CertIOException {
    try {
      return new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder(SIGNATURE).build(signer)));
    } catch (OperatorCreationException e) {
      throw new GeneralSecurityException(e.getMessage(), e);
    }
  }

  private static KeyPair newKeyPair() {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
      return g.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JVM cannot make EC P-256 keys: " + e.getMessage(), e);
    }
  }

  private static BigInteger serial() {
    return new BigInteger(127, RANDOM).add(BigInteger.ONE);
  }

  /** An IP literal only: a host name here would be resolved, which a certificate must not depend on. */
  private static String literalIp(String ip) {
    String s = ip.trim();
    boolean literal = s.matches("[0-9.]+") || s.contains(":");
    if (!literal) {
      throw new IllegalArgumentException("not an IP address: '" + ip + "' (host names go in DNS names)");
    }
    try {
      return InetAddress.getByName(s).getHostAddress();
    } catch (IOException e) {
      throw new IllegalArgumentException("not an IP address: '" + ip + "'", e);
    }
  }

  /** A CN as an RDN value: characters that have a meaning in a DN are escaped. */
  private static String rdnValue(String v) {
    return javax.naming.ldap.Rdn.escapeValue(v);
  }

  static String pem(Object o) throws IOException {
    StringWriter s = new StringWriter();
    try (JcaPEMWriter w = new JcaPEMWriter(s)) {
      w.writeObject(o);
    }
    return s.toString();
  }

  static String pkcs8(PrivateKey key) throws IOException {
    return pem(new JcaPKCS8Generator(key, null).generate());
  }

  private static void writeFile(Path file, String text, boolean secret) throws IOException {
    Path dir = file.toAbsolutePath().getParent();
    if (dir != null) {
      Files.createDirectories(dir);
    }
    Path tmp = Files.createTempFile(dir, file.getFileName().toString(), ".tmp");
    try {
      if (secret) {
        try {
          Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException e) {
          // not a POSIX file system: the directory's permissions guard it
        }
      }
      try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.US_ASCII, StandardOpenOption.TRUNCATE_EXISTING)) {
        w.write(text);
      }
      Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }
}
