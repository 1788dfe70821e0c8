package io.cohort.tools.commands;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.ParameterException;
import com.beust.jcommander.Parameters;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.cohort.client.tls.Certificates;
import io.cohort.server.tls.CertificateAuthority;
import io.cohort.tools.CliCommand;
import io.cohort.tools.CliContext;
import io.cohort.tools.json.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

@Parameters(commandDescription = "Make a local CA (once: DIR/ca.crt, DIR/ca.key, reused after) and certificates it signs: "
    + "node certificates (CN = peer id, its addresses as SANs, serverAuth) and user certificates (CN = principal)")
public final class CertsCreate implements CliCommand {
  @Parameter(names = "--dir", description = "where the PEM files go (the CA's key too: keep it off the nodes)", required = true)
  Path dir;

  @Parameter(names = "--node", splitter = io.cohort.tools.cli.NoSplit.class,
      description = "a node as ID=HOST[,HOST...]: IPs become IP SANs, names DNS SANs; "
      + "127.0.0.1 and localhost are always added (repeatable)")
  List<String> nodes = new ArrayList<>();

  @Parameter(names = "--user", description = "a user certificate with this CN, its principal; its role comes from the "
      + "ACL (--admin on the servers, `cohort acl grant`) (repeatable)")
  List<String> users = new ArrayList<>();

  @Parameter(names = "--days", description = "validity of the node and user certificates")
  int days = 825;

  @Parameter(names = "--ca-days", description = "validity of a new CA")
  int caDays = 3650;

  @Parameter(names = "--ca-name", description = "the CN of a new CA")
  String caName = "cohort-ca";

  @Parameter(names = "--force", description = "overwrite node and user files that exist (the CA is always reused)")
  boolean force;

  @Parameter(names = "--json", description = "print JSON")
  boolean json;

  @Override
  public int run(CliContext ctx) throws IOException {
    if (days < 1 || caDays < 1) {
      throw new ParameterException("--days and --ca-days must be at least 1");
    }
    List<String[]> parsedNodes = new ArrayList<>();
    for (String n : nodes) {
      parsedNodes.add(node(n));
    }
    for (String u : users) {
      String problem = io.cohort.statemachine.Principals.problem(u);
      if (problem != null) {
        throw new ParameterException("--user: " + problem);
      }
    }
    Files.createDirectories(dir);
    Path caCert = dir.resolve("ca.crt");
    Path caKey = dir.resolve("ca.key");
    List<ObjectNode> written = new ArrayList<>();
    CertificateAuthority ca;
    if (Files.exists(caCert) && Files.exists(caKey)) {
      ca = CertificateAuthority.load(caCert, caKey);
    } else if (Files.exists(caCert) || Files.exists(caKey)) {
      throw new ParameterException("half a CA in " + dir + ": ca.crt and ca.key go together");
    } else {
      ca = CertificateAuthority.create(caName, Duration.ofDays(caDays));
      ca.write(caCert, caKey);
      written.add(describe("ca", caCert, caKey, ca.certificate()));
    }
    Duration validity = Duration.ofDays(days);
    for (String[] n : parsedNodes) {
      Path cert = dir.resolve(n[0] + ".crt");
      Path key = dir.resolve(n[0] + ".key");
      if (!writable(cert, key)) {
        continue;
      }
      List<String> ips = new ArrayList<>();
      List<String> names = new ArrayList<>();
      Set<String> hosts = new LinkedHashSet<>(List.of(n).subList(1, n.length));
      hosts.add("127.0.0.1");
      hosts.add("localhost");
      for (String h : hosts) {
        (h.matches("[0-9.]+") || h.contains(":") ? ips : names).add(h);
      }
      CertificateAuthority.Issued issued = ca.issueNode(n[0], ips, names, validity);
      issued.write(cert, key);
      written.add(describe("node", cert, key, issued.certificate()));
    }
    for (String u : users) {
      Path cert = dir.resolve(u + ".crt");
      Path key = dir.resolve(u + ".key");
      if (!writable(cert, key)) {
        continue;
      }
      CertificateAuthority.Issued issued = ca.issueUser(u, validity);
      issued.write(cert, key);
      written.add(describe("user", cert, key, issued.certificate()));
    }
    if (json) {
      ObjectNode doc = Json.doc();
      doc.put("dir", dir.toString());
      doc.put("ca", caCert.toString());
      ArrayNode out = doc.putArray("written");
      written.forEach(out::add);
      ctx.out.println(Json.write(doc));
    } else {
      Table t = new Table("KIND", "CN", "CERTIFICATE", "KEY", "NAMES", "VALID UNTIL");
      for (ObjectNode w : written) {
        t.row(w.get("kind").asText(), w.get("cn").asText(), w.get("cert").asText(), w.get("key").asText(),
            w.get("names").asText(), w.get("notAfter").asText());
      }
      t.print(ctx.out);
      ctx.out.println("CA: " + caCert + (written.isEmpty() ? " (nothing new written)" : ""));
    }
    return 0;
  }

  private boolean writable(Path cert, Path key) {
    if (cert.getFileName().toString().equals("ca.crt")) {
      throw new ParameterException("'ca' names the CA's files: choose another CN");
    }
    if (!force && (Files.exists(cert) || Files.exists(key))) {
      throw new ParameterException(cert + " exists: --force to replace it (a node reloads a changed certificate)");
    }
    return true;
  }

  /** ID=HOST[,HOST...] as {id, host...}. */
  static String[] node(String spec) {
    int eq = spec.indexOf('=');
    if (eq <= 0) {
      throw new ParameterException("--node wants ID=HOST[,HOST...], got '" + spec + "'");
    }
    String id = spec.substring(0, eq).trim();
    String problem = io.cohort.statemachine.Principals.problem(id);
    if (problem != null || id.contains(" ")) {
      throw new ParameterException("--node: '" + id + "' is not a peer id");
    }
    List<String> out = new ArrayList<>(List.of(id));
    for (String h : spec.substring(eq + 1).split(",")) {
      String host = h.trim();
      if (host.startsWith("[") && host.endsWith("]")) {
        host = host.substring(1, host.length() - 1);
      }
      if (!host.isEmpty()) {
        out.add(host);
      }
    }
    return out.toArray(new String[0]);
  }

  private static ObjectNode describe(String kind, Path cert, Path key, X509Certificate c) {
    List<String> names = new ArrayList<>();
    try {
      if (c.getSubjectAlternativeNames() != null) {
        for (List<?> san : c.getSubjectAlternativeNames()) {
          names.add((((Integer) san.get(0)) == 7 ? "IP:" : "DNS:") + san.get(1));
        }
      }
    } catch (java.security.cert.CertificateParsingException e) {
      // none shown
    }
    return Json.object().put("kind", kind).put("cn", Certificates.commonName(c)).put("cert", cert.toString())
        .put("key", key.toString()).put("names", String.join(",", names))
        .put("notAfter", c.getNotAfter().toInstant().toString());
  }
}
