package io.cohort.server;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * {@code cohort server --config FILE}: a Java properties file with every server flag, named as the
 * flag without its dashes ({@code id}, {@code storage}, {@code peers}, {@code snapshot-every},
 * {@code snapshots-retained}, {@code tick-interval-ms}, {@code http-port}, {@code ready-max-lag-entries},
 * {@code stall-after-ms}, {@code metrics-max-series}), bootstrap limits as {@code limit.NAME}
 * and Ratis properties as {@code ratis.KEY} ({@code ratis.raft.server.rpc.timeout.min=600ms}).
 * Unknown keys are an error naming the key. Values are trimmed. Flags override the file.
 */
final class ServerConfigFile {
  static final Set<String> KEYS = Set.of("id", "storage", "peers", "snapshot-every", "snapshots-retained",
      "tick-interval-ms", "http-port", "ready-max-lag-entries", "stall-after-ms", "metrics-max-series");
  static final String LIMIT_PREFIX = "limit.";
  static final String RATIS_PREFIX = "ratis.";

  private final Path file;
  private final Map<String, String> plain;
  private final Map<String, String> limits;
  private final Map<String, String> ratis;

  private ServerConfigFile(Path file, Map<String, String> plain, Map<String, String> limits,
      Map<String, String> ratis) {
    this.file = file;
    this.plain = plain;
    this.limits = limits;
    this.ratis = ratis;
  }

  /** @throws ConfigException if the file cannot be read or holds an unknown key */
  static ServerConfigFile load(Path file) {
    Properties p = new Properties();
    try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      p.load(r);
    } catch (NoSuchFileException e) {
      throw new ConfigException("config file " + file + " does not exist");
    } catch (IOException | IllegalArgumentException e) {
      throw new ConfigException("config file " + file + " cannot be read: " + e.getMessage());
    }
    Map<String, String> plain = new TreeMap<>();
    Map<String, String> limits = new TreeMap<>();
    Map<String, String> ratis = new TreeMap<>();
    for (String key : new TreeSet<>(p.stringPropertyNames())) {
      String value = p.getProperty(key).trim();
      if (KEYS.contains(key)) {
        plain.put(key, value);
      } else if (key.startsWith(LIMIT_PREFIX) && key.length() > LIMIT_PREFIX.length()) {
        limits.put(key.substring(LIMIT_PREFIX.length()), value);
      } else if (key.startsWith(RATIS_PREFIX) && key.length() > RATIS_PREFIX.length()) {
        ratis.put(key.substring(RATIS_PREFIX.length()), value);
      } else {
        throw new ConfigException("config file " + file + ": unknown key '" + key + "' (known: "
            + String.join(", ", new TreeSet<>(KEYS)) + ", limit.NAME, ratis.KEY)");
      }
    }
    return new ServerConfigFile(file, plain, limits, ratis);
  }

  String string(String key) {
    return plain.get(key);
  }

  Path path(String key) {
    String v = plain.get(key);
    return v == null ? null : Path.of(v);
  }

  Long number(String key) {
    String v = plain.get(key);
    if (v == null) {
      return null;
    }
    try {
      return Long.parseLong(v);
    } catch (NumberFormatException e) {
      throw new ConfigException("config file " + file + ": " + key + " is not a number: '" + v + "'");
    }
  }

  /** {@code limit.NAME} entries, NAME to value. */
  Map<String, String> limits() {
    return Collections.unmodifiableMap(limits);
  }

  /** {@code ratis.KEY} entries, KEY to value. */
  Map<String, String> ratis() {
    return Collections.unmodifiableMap(ratis);
  }
}
