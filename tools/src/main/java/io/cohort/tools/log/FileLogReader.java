package io.cohort.tools.log;

import io.cohort.client.Batch;
import io.cohort.client.PartitionGrant;
import io.cohort.client.PartitionReader;
import io.cohort.statemachine.proto.StartFrom;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;

/**
 * Reads the demo {@link FileLog} for a consumer: cursors are offsets ("next offset to read"), and a
 * sealed partition ends at the grant's end cursor.
 */
public final class FileLogReader implements PartitionReader<LogRecord> {
  private static final long IDLE_POLL_NANOS = 20_000_000L;

  private final FileLog log;
  private final LongSupplier clockMs;

  public FileLogReader(FileLog log) {
    this(log, System::currentTimeMillis);
  }

  FileLogReader(FileLog log, LongSupplier clockMs) {
    this.log = log;
    this.clockMs = clockMs;
  }

  @Override
  public Session<LogRecord> open(PartitionGrant grant, String cursor) throws Exception {
    long start;
    if (cursor != null) {
      start = parseOffset(cursor, "cursor");
    } else {
      start = grant.startFrom() == StartFrom.END ? log.end(grant.topic(), grant.partition()) : 0;
    }
    Long end = grant.sealed() && grant.endCursor() != null ? parseOffset(grant.endCursor(), "end cursor") : null;
    return new FileSession(grant, start, end);
  }

  private static long parseOffset(String cursor, String what) {
    try {
      long v = Long.parseLong(cursor);
      if (v < 0) {
        throw new NumberFormatException("negative");
      }
      return v;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("demo log " + what + " must be an offset (a number >= 0), got '" + cursor + "'");
    }
  }

  private final class FileSession implements Session<LogRecord> {
    private final PartitionGrant grant;
    private final Long end;
    private long next;

    FileSession(PartitionGrant grant, long start, Long end) {
      this.grant = grant;
      this.next = start;
      this.end = end;
    }

    @Override
    public Batch<LogRecord> poll(int maxRecords, long maxWaitMs) throws Exception {
      long deadline = System.nanoTime() + maxWaitMs * 1_000_000L;
      while (true) {
        int max = end == null ? maxRecords : (int) Math.max(0, Math.min(maxRecords, end - next));
        List<LogRecord> records = log.read(grant.topic(), grant.partition(), next, max);
        if (!records.isEmpty()) {
          next = records.get(records.size() - 1).offset() + 1;
          long head = log.end(grant.topic(), grant.partition());
          long lagMs = Math.max(0, clockMs.getAsLong() - records.get(records.size() - 1).timestampMs());
          boolean atEnd = end != null && next >= end;
          return new Batch<>(records, Long.toString(next), atEnd, Math.max(0, head - next), lagMs);
        }
        if (end != null && next >= end) {
          return new Batch<>(List.of(), Long.toString(next), true, 0L, null);
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          long head = log.end(grant.topic(), grant.partition());
          return new Batch<>(List.of(), Long.toString(next), false, Math.max(0, head - next), null);
        }
        LockSupport.parkNanos(Math.min(left, IDLE_POLL_NANOS));
      }
    }
  }
}
