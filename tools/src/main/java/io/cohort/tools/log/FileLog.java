package io.cohort.tools.log;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The demo's partitioned log: one file per partition, {@code DIR/<topic>/<partition>.log}, of
 * fixed-size text records, so a record's offset is its position divided by the record size and a
 * cursor is simply the next offset. Appends take a file lock, so producers in several processes
 * may write at once; readers need no lock.
 */
public final class FileLog {
  public static final int RECORD_BYTES = 64;
  private static final int PAYLOAD_BYTES = RECORD_BYTES - 13 - 1 - 12 - 1 - 1;

  private final Path dir;

  public FileLog(Path dir) {
    this.dir = dir;
  }

  public Path dir() {
    return dir;
  }

  Path file(String topic, int partition) {
    return dir.resolve(topic).resolve(partition + ".log");
  }

  /** Appends {@code count} records stamped {@code nowMs}; returns the new end offset. */
  public long append(String topic, int partition, int count, long nowMs) throws IOException {
    if (count < 0) {
      throw new IllegalArgumentException("count must be >= 0, got " + count);
    }
    Path file = file(topic, partition);
    Files.createDirectories(file.getParent());
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.READ);
        FileLock lock = ch.lock()) {
      long offset = ch.size() / RECORD_BYTES;
      ByteBuffer buf = ByteBuffer.allocate(RECORD_BYTES * Math.max(1, Math.min(count, 1024)));
      ch.position(offset * RECORD_BYTES);
      for (int i = 0; i < count; i++, offset++) {
        buf.put(encode(topic, partition, offset, nowMs));
        if (!buf.hasRemaining()) {
          buf.flip();
          while (buf.hasRemaining()) {
            ch.write(buf);
          }
          buf.clear();
        }
      }
      buf.flip();
      while (buf.hasRemaining()) {
        ch.write(buf);
      }
      ch.force(false);
      return offset;
    }
  }

  /** The offset just past the last record (0 for a partition never written). */
  public long end(String topic, int partition) throws IOException {
    Path file = file(topic, partition);
    return Files.exists(file) ? Files.size(file) / RECORD_BYTES : 0;
  }

  /** Up to {@code max} records from {@code from}. */
  public List<LogRecord> read(String topic, int partition, long from, int max) throws IOException {
    Path file = file(topic, partition);
    if (!Files.exists(file) || max <= 0) {
      return List.of();
    }
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long end = ch.size() / RECORD_BYTES;
      int n = (int) Math.max(0, Math.min(max, end - from));
      if (n == 0) {
        return List.of();
      }
      ByteBuffer buf = ByteBuffer.allocate(n * RECORD_BYTES);
      long pos = from * RECORD_BYTES;
      while (buf.hasRemaining()) {
        int read = ch.read(buf, pos + buf.position());
        if (read < 0) {
          break;
        }
      }
      List<LogRecord> out = new ArrayList<>(n);
      byte[] line = new byte[RECORD_BYTES];
      buf.flip();
      for (int i = 0; i < n && buf.remaining() >= RECORD_BYTES; i++) {
        buf.get(line);
        out.add(decode(line, from + i));
      }
      return out;
    }
  }

  private static byte[] encode(String topic, int partition, long offset, long nowMs) {
    String payload = topic + "/" + partition + "#" + offset;
    if (payload.length() > PAYLOAD_BYTES) {
      payload = payload.substring(payload.length() - PAYLOAD_BYTES);
    }
    String line = String.format("%013d %012d %-" + PAYLOAD_BYTES + "s\n", nowMs, offset, payload);
    return line.getBytes(StandardCharsets.US_ASCII);
  }

  private static LogRecord decode(byte[] line, long offset) throws IOException {
    String s = new String(line, StandardCharsets.US_ASCII);
    try {
      long ts = Long.parseLong(s.substring(0, 13));
      long stored = Long.parseLong(s.substring(14, 26));
      if (stored != offset) {
        throw new IOException("record at offset " + offset + " says it is " + stored + ": corrupt log file");
      }
      return new LogRecord(offset, ts, s.substring(27).trim());
    } catch (NumberFormatException | StringIndexOutOfBoundsException e) {
      throw new IOException("record at offset " + offset + " is not a demo log record: corrupt log file", e);
    }
  }
}
