package io.cohort.server;

import io.cohort.client.Peers;
import io.cohort.server.snapshot.SnapshotFile;
import io.cohort.server.snapshot.SnapshotMeta;
import java.io.File;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.stream.Stream;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.proto.RaftProtos.RaftConfigurationProto;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.server.storage.RaftStorageDirectory;
import org.apache.ratis.server.storage.RaftStorageImpl;
import org.apache.ratis.server.storage.RaftStorageMetadata;
import org.apache.ratis.server.storage.StorageImplUtils;
import org.apache.ratis.util.MD5FileUtil;
import org.apache.ratis.util.SizeInBytes;

/**
 * Seeds a new node's storage dir from a snapshot file ({@code cohort snapshot restore}), so that
 * {@code cohort server} started on it loads the snapshot and continues the log after it. The dir
 * looks like a follower's after Ratis installed a snapshot from its leader, with an empty log:
 *
 * <ul>
 *   <li>{@code <storage>/<group>/current/raft-meta}: term = the snapshot's term, no vote. An empty
 *       log's last entry is the snapshot's (term, index), so the node's term must not be below it:
 *       entries it appends later carry higher terms, and a node that holds them always wins an
 *       election against one that holds only the snapshot (Raft's up-to-date rule).
 *   <li>{@code current/raft-meta.conf}: the peers given, as the configuration at the snapshot's
 *       index (what Ratis writes when it applies or installs a configuration).
 *   <li>{@code sm/snapshot.<term>_<index>} and its {@code .md5}: the file, verified first.
 * </ul>
 *
 * <p>Ratis then starts the log at the snapshot's index + 1 (its commit and snapshot indexes start
 * at the snapshot's; the first entry must follow it, {@code RaftLogBase.validateLogEntry}). The
 * layout is made by Ratis' own storage code (format, metadata file). Never overwrites: the dir
 * must be absent or empty, and whatever was made is removed again if a step fails.
 */
public final class RestoredStorage {
  /** What was laid out. */
  public record Seeded(Path storageDir, Path snapshot, long term, long index, String sha256, long records) {}

  private RestoredStorage() {}

  /**
   * @param config the node to seed: its storage dir, group and peers
   * @throws io.cohort.server.snapshot.CorruptSnapshotException if the file fails its checks
   * @throws IOException if the dir is not empty or cannot be written
   */
  public static Seeded seed(Path snapshotFile, ServerConfig config) throws IOException {
    SnapshotMeta meta;
    try (SnapshotFile file = SnapshotFile.open(snapshotFile)) {
      file.verify();
      meta = file.meta();
    }
    Path dir = config.storageDir();
    boolean existed = Files.exists(dir);
    if (existed && !isEmptyDirectory(dir)) {
      throw new IOException("storage dir " + dir + " is not empty: restore never overwrites a node's storage");
    }
    Files.createDirectories(dir);
    try {
      Path installed = layOut(snapshotFile, meta, config);
      return new Seeded(dir, installed, meta.term(), meta.index(), meta.sha256(), meta.records());
    } catch (IOException | RuntimeException e) {
      deleteContents(dir, !existed);
      throw e;
    }
  }

  private static Path layOut(Path snapshotFile, SnapshotMeta meta, ServerConfig config) throws IOException {
    File groupDir = config.storageDir().resolve(config.groupId().getUuid().toString()).toFile();
    RaftStorageImpl storage = StorageImplUtils.newRaftStorage(groupDir,
        RaftServerConfigKeys.storageFreeSpaceMin(RatisSettings.forServer(config)), RaftStorage.StartupOption.FORMAT,
        null);
    storage.initialize(); // formats current/ (raft-meta) and sm/, and locks the dir until closed
    RaftStorageDirectory dirs = ((RaftStorage) storage).getStorageDir();
    try {
      storage.getMetadataFile().persist(RaftStorageMetadata.valueOf(meta.term(), RaftPeerId.valueOf("")));
      RaftConfigurationProto.Builder conf = RaftConfigurationProto.newBuilder();
      for (RaftPeer peer : config.peers()) {
        conf.addPeers(peer.getRaftPeerProto());
      }
      storage.writeRaftConfiguration(LogEntryProto.newBuilder().setTerm(meta.term()).setIndex(meta.index())
          .setConfigurationEntry(conf).build());
      if (storage.readRaftConfiguration() == null) { // Ratis logs a failed write without throwing
        throw new IOException("cannot write the configuration " + Peers.of(config.peers()) + " into "
            + dirs.getCurrentDir());
      }
      Path sm = dirs.getStateMachineDir().toPath();
      Path target = sm.resolve("snapshot." + meta.term() + "_" + meta.index());
      Path tmp = sm.resolve(target.getFileName() + ".tmp");
      Files.copy(snapshotFile, tmp);
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
        ch.force(true);
      }
      // the MD5 sidecar first, as the server writes its own snapshots: never a snapshot without one
      MD5FileUtil.saveMD5File(target.toFile(), MD5FileUtil.computeMd5ForFile(tmp.toFile()));
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
      return target;
    } finally {
      storage.close();
    }
  }

  private static boolean isEmptyDirectory(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return false;
    }
    try (Stream<Path> entries = Files.list(dir)) {
      return entries.findAny().isEmpty();
    }
  }

  /** Removes what a failed restore (or the start-up warm-up) made: the dir's contents, and the dir itself if asked. */
  static void deleteContents(Path dir, boolean andDir) {
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).filter(p -> andDir || !p.equals(dir)).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // best effort: the failure being reported matters more
    }
  }
}
