package io.cohort.client.tls;

import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Objects;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.PBEParameterSpec;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A key manager over one certificate and key in PEM files that re-reads them when they change, so
 * a new leaf certificate is used from the next TLS handshake on, without a restart (RATIS-NOTES
 * A.4: the OpenSSL context asks its key manager on every handshake). {@link #reloadIfChanged} is
 * called by a server's poll and SIGHUP, and by handshakes at most once per check interval.
 * Connections already open keep the certificate they were made with. A file pair that does not
 * load (half written, key and certificate not matching) is logged and the old one kept.
 */
public final class ReloadingKeyManager extends X509ExtendedKeyManager {
  private static final Logger LOG = LoggerFactory.getLogger(ReloadingKeyManager.class);
  private static final String ALIAS = "cohort-";
  /**
   * The keystore only hands the key to the JDK's key manager and never leaves memory, so its
   * password encryption protects nothing: one PBKDF2 round instead of the default 10,000, which
   * cost every process ~0.5 s of start-up (encrypt, then decrypt) on the 2-core machine.
   */
  private static final KeyStore.PasswordProtection IN_MEMORY_ONLY = new KeyStore.PasswordProtection(new char[0],
      "PBEWithHmacSHA256AndAES_256", new PBEParameterSpec(new byte[16], 1, new IvParameterSpec(new byte[16])));

  /** One generation of key material; aliases carry its number so a reload between calls stays consistent. */
  private record Material(int generation, X509ExtendedKeyManager keys, X509Certificate leaf, FileTime certTime,
      FileTime keyTime) {}

  private final Path certFile;
  private final Path keyFile;
  private final long checkIntervalNanos;
  private volatile Material current;
  private volatile Material previous;
  private volatile long lastCheckNanos;

  /**
   * @param checkIntervalMs a handshake checks the files' modification times at most this often
   * @throws IOException when the files cannot be read or do not form a key pair
   */
  public ReloadingKeyManager(Path certFile, Path keyFile, long checkIntervalMs) throws IOException {
    this.certFile = certFile;
    this.keyFile = keyFile;
    this.checkIntervalNanos = checkIntervalMs * 1_000_000;
    this.current = load(0);
    this.previous = current;
    this.lastCheckNanos = System.nanoTime();
  }

  /** The leaf certificate handshakes present now. */
  public X509Certificate certificate() {
    return current.leaf();
  }

  /**
   * Loads the files again if either's modification time changed. Returns true when a new
   * certificate is in use.
   */
  public synchronized boolean reloadIfChanged() {
    lastCheckNanos = System.nanoTime();
    Material m = current;
    try {
      if (Objects.equals(mtime(certFile), m.certTime()) && Objects.equals(mtime(keyFile), m.keyTime())) {
        return false;
      }
      Material next = load(m.generation() + 1);
      previous = m;
      current = next;
      LOG.info("TLS certificate reloaded from {}: {} (serial {}, valid until {})", certFile,
          next.leaf().getSubjectX500Principal().getName(), next.leaf().getSerialNumber().toString(16),
          next.leaf().getNotAfter().toInstant());
      return true;
    } catch (IOException | RuntimeException e) {
      LOG.warn("TLS certificate {} changed but does not load ({}); still using {}", certFile, e.getMessage(),
          m.leaf().getSubjectX500Principal().getName());
      return false;
    }
  }

  private void maybeReload() {
    if (System.nanoTime() - lastCheckNanos > checkIntervalNanos) {
      reloadIfChanged();
    }
  }

  private static FileTime mtime(Path p) throws IOException {
    return Files.getLastModifiedTime(p);
  }

  private Material load(int generation) throws IOException {
    FileTime certTime = mtime(certFile);
    FileTime keyTime = mtime(keyFile);
    List<X509Certificate> chain = Pem.certificates(certFile);
    PrivateKey key = Pem.privateKey(keyFile);
    if (!chain.get(0).getPublicKey().getAlgorithm().equals(key.getAlgorithm())) {
      throw new IOException("the key in " + keyFile + " (" + key.getAlgorithm() + ") does not belong to the certificate in "
          + certFile + " (" + chain.get(0).getPublicKey().getAlgorithm() + ")");
    }
    try {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(null, null);
      char[] none = new char[0];
      ks.setEntry(ALIAS + generation, new KeyStore.PrivateKeyEntry(key, chain.toArray(new X509Certificate[0])),
          IN_MEMORY_ONLY);
      KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(ks, none);
      return new Material(generation, (X509ExtendedKeyManager) kmf.getKeyManagers()[0], chain.get(0), certTime,
          keyTime);
    } catch (GeneralSecurityException e) {
      throw new IOException("the key in " + keyFile + " and the certificate in " + certFile + " do not load: "
          + e.getMessage(), e);
    }
  }

  /** The generation an alias was handed out by (the previous one for an alias from before a reload). */
  private X509ExtendedKeyManager keysFor(String alias) {
    Material m = current;
    if (alias != null && !alias.equals(ALIAS + m.generation())) {
      Material p = previous;
      if (alias.equals(ALIAS + p.generation())) {
        return p.keys();
      }
    }
    return m.keys();
  }

  @Override
  public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
    maybeReload();
    return current.keys().chooseEngineServerAlias(keyType, issuers, engine);
  }

  @Override
  public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
    maybeReload();
    return current.keys().chooseEngineClientAlias(keyType, issuers, engine);
  }

  @Override
  public String[] getClientAliases(String keyType, Principal[] issuers) {
    return current.keys().getClientAliases(keyType, issuers);
  }

  @Override
  public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
    maybeReload();
    return current.keys().chooseClientAlias(keyType, issuers, socket);
  }

  @Override
  public String[] getServerAliases(String keyType, Principal[] issuers) {
    return current.keys().getServerAliases(keyType, issuers);
  }

  @Override
  public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
    maybeReload();
    return current.keys().chooseServerAlias(keyType, issuers, socket);
  }

  @Override
  public X509Certificate[] getCertificateChain(String alias) {
    return keysFor(alias).getCertificateChain(alias);
  }

  @Override
  public PrivateKey getPrivateKey(String alias) {
    return keysFor(alias).getPrivateKey(alias);
  }
}
