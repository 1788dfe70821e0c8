package io.cohort.tools.json;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Every JSON document the CLI and the harness write or read goes through Jackson here. Each
 * top-level document (and each JSON line) carries {@code "version": VERSION}; README.md documents
 * the shapes.
 */
public final class Json {
  /** The version of the CLI's JSON shapes: a change that breaks a reader bumps it. */
  public static final int VERSION = 1;

  private static final ObjectMapper MAPPER = JsonMapper.builder().build();

  private Json() {}

  /** A new top-level document: {@code {"version": 1}}. */
  public static ObjectNode doc() {
    ObjectNode n = MAPPER.createObjectNode();
    n.put("version", VERSION);
    return n;
  }

  /** What a write command prints with --json: {@code {"version":1,"ok":true,"message":...}}. */
  public static ObjectNode ok(String message) {
    ObjectNode n = doc();
    n.put("ok", true);
    n.put("message", message);
    return n;
  }

  public static ObjectNode object() {
    return MAPPER.createObjectNode();
  }

  public static ArrayNode array() {
    return MAPPER.createArrayNode();
  }

  /** A plain value (string, number, boolean, null, map, list) as a JSON node. */
  public static JsonNode tree(Object value) {
    return MAPPER.valueToTree(value);
  }

  /** One line of compact JSON. */
  public static String write(JsonNode node) {
    try {
      return MAPPER.writeValueAsString(node);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e); // a tree of nodes always serializes
    }
  }

  /** Parses one document; throws IllegalArgumentException (bad input) with Jackson's reason. */
  public static JsonNode read(String text) {
    try {
      return MAPPER.readTree(text);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("not JSON: " + e.getOriginalMessage());
    }
  }

  public static JsonNode read(Path file) throws IOException {
    try {
      return MAPPER.readTree(Files.readString(file));
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(file + " is not JSON: " + e.getOriginalMessage());
    }
  }
}
