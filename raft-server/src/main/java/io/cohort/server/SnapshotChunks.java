package io.cohort.server;

import com.google.protobuf.ByteString;
import io.cohort.server.snapshot.CorruptSnapshotException;
import io.cohort.server.snapshot.SnapshotFile;
import io.cohort.server.snapshot.SnapshotMeta;
import io.cohort.statemachine.Results;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.QueryResult;
import io.cohort.statemachine.proto.SnapshotChunkQuery;
import io.cohort.statemachine.proto.SnapshotChunkView;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.function.Supplier;
import org.apache.ratis.io.MD5Hash;
import org.apache.ratis.statemachine.impl.SimpleStateMachineStorage;
import org.apache.ratis.statemachine.impl.SingleFileSnapshotInfo;
import org.apache.ratis.util.MD5FileUtil;

/**
 * Serves this node's own snapshot files in pieces ({@code Query.snapshot_chunk}; {@code cohort
 * snapshot save} copies a snapshot off the cluster with it): the newest durable snapshot (the one
 * Ratis would ship to a follower), or the one named by term and index that a caller is copying.
 * A snapshot file never changes once renamed into place, so the pieces of one term and index fit
 * together; a file that retention deleted meanwhile is NOT_FOUND and the caller starts again.
 * At most {@link #MAX_CHUNK_BYTES} per call, read from disk, never from the state. (Admin-only
 * once ACLs exist, step 8.)
 */
final class SnapshotChunks {
  static final int MAX_CHUNK_BYTES = 1 << 20;

  private final Supplier<SimpleStateMachineStorage> storage;

  SnapshotChunks(Supplier<SimpleStateMachineStorage> storage) {
    this.storage = storage;
  }

  QueryResult serve(SnapshotChunkQuery q) {
    if (q.getOffset() < 0 || q.getTerm() < 0 || q.getIndex() < 0 || q.getMaxBytes() < 0
        || q.getMaxBytes() > MAX_CHUNK_BYTES) {
      return Results.queryRejected(Code.INVALID_ARGUMENT, "snapshot chunk: offset, term and index must be >= 0"
          + " and max_bytes 0.." + MAX_CHUNK_BYTES + ", got offset " + q.getOffset() + ", term " + q.getTerm()
          + ", index " + q.getIndex() + ", max_bytes " + q.getMaxBytes());
    }
    long term = q.getTerm();
    long index = q.getIndex();
    Path file;
    if (term == 0 && index == 0) {
      SingleFileSnapshotInfo latest = storage.get().getLatestSnapshot();
      if (latest == null) {
        return Results.queryRejected(Code.NOT_FOUND, "this node has no snapshot yet");
      }
      term = latest.getTerm();
      index = latest.getIndex();
      file = latest.getFile().getPath();
    } else {
      file = storage.get().getSnapshotFile(term, index).toPath();
    }
    String name = "snapshot " + term + "_" + index;
    try {
      MD5Hash md5 = MD5FileUtil.readStoredMd5ForFile(file.toFile());
      if (md5 == null) {
        return Results.queryRejected(Code.NOT_FOUND, name + " is not on this node (or not complete: no .md5)");
      }
      try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
        long size = ch.size();
        if (q.getOffset() > size) {
          return Results.queryRejected(Code.INVALID_ARGUMENT, name + " has " + size + " bytes; offset "
              + q.getOffset() + " is past its end");
        }
        int want = (int) Math.min(q.getMaxBytes() == 0 ? MAX_CHUNK_BYTES : q.getMaxBytes(), size - q.getOffset());
        ByteBuffer buf = ByteBuffer.allocate(want);
        while (buf.hasRemaining() && ch.read(buf, q.getOffset() + buf.position()) >= 0) {
          // a regular file reads fully unless it shrank, which a finished snapshot never does
        }
        buf.flip();
        SnapshotChunkView.Builder chunk = SnapshotChunkView.newBuilder().setTerm(term).setIndex(index)
            .setOffset(q.getOffset()).setData(ByteString.copyFrom(buf)).setFileBytes(size)
            .setMd5(md5.toString());
        if (q.getOffset() == 0) {
          SnapshotMeta meta = meta(file);
          chunk.setSha256(meta.sha256()).setRecords(meta.records());
        }
        return QueryResult.newBuilder().setCode(Code.OK).setSnapshotChunk(chunk).build();
      }
    } catch (NoSuchFileException e) {
      return Results.queryRejected(Code.NOT_FOUND, name + " is no longer on this node (retention deleted it)");
    } catch (IOException e) {
      return Results.queryRejected(Code.FAILED_PRECONDITION, name + " cannot be read on this node: "
          + e.getMessage());
    }
  }

  /** The record digest the whole file must check out to: read from its meta data only. */
  private static SnapshotMeta meta(Path file) throws CorruptSnapshotException {
    try (SnapshotFile f = SnapshotFile.open(file)) {
      return f.meta();
    }
  }
}
