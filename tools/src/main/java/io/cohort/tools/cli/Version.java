package io.cohort.tools.cli;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** The Maven project version, written into version.properties at build time. */
public final class Version {
  private Version() {}

  public static String current() {
    try (InputStream in = Version.class.getResourceAsStream("/io/cohort/tools/version.properties")) {
      if (in != null) {
        Properties p = new Properties();
        p.load(in);
        String v = p.getProperty("version");
        if (v != null && !v.isBlank() && !v.startsWith("${")) {
          return v;
        }
      }
    } catch (IOException e) {
      // fall through to the manifest
    }
    String fromManifest = Version.class.getPackage().getImplementationVersion();
    return fromManifest != null ? fromManifest : "unknown";
  }
}
