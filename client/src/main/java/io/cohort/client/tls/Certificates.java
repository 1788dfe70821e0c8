package io.cohort.client.tls;

import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;

/**
 * What Cohort reads from a certificate (R11): the principal is the subject's CN; a node
 * certificate (a peer of the Raft group) is one whose extended key usage includes {@code
 * serverAuth}, which {@code cohort certs create} gives node certificates only, so a user
 * certificate cannot pose as a peer even with a peer id as its CN.
 */
public final class Certificates {
  /** id-kp-serverAuth. */
  public static final String SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
  /** id-kp-clientAuth. */
  public static final String CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";

  private Certificates() {}

  /** The subject's (last) CN, or null when it has none. */
  public static String commonName(X509Certificate cert) {
    try {
      LdapName dn = new LdapName(cert.getSubjectX500Principal().getName());
      String cn = null;
      for (Rdn rdn : dn.getRdns()) {
        if (rdn.getType().equalsIgnoreCase("CN")) {
          cn = String.valueOf(rdn.getValue());
        }
      }
      return cn;
    } catch (InvalidNameException e) {
      return null;
    }
  }

  /** True for a node certificate: its extended key usage names serverAuth. */
  public static boolean isNodeCertificate(X509Certificate cert) {
    try {
      List<String> eku = cert.getExtendedKeyUsage();
      return eku != null && eku.contains(SERVER_AUTH);
    } catch (CertificateParsingException e) {
      return false;
    }
  }
}
