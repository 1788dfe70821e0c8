package io.cohort.server.snapshot;

import static org.junit.jupiter.api.Assertions.*;

import io.cohort.statemachine.Coordinator;
import io.cohort.statemachine.Limits;
import io.cohort.statemachine.proto.DigestView;
import io.cohort.statemachine.proto.SlotRecord;
import io.cohort.statemachine.proto.StateRecord;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mapdb.DB;
import org.mapdb.DBMaker;
import org.mapdb.Serializer;

class SnapshotFileTest {
  @TempDir Path dir;

  private Path write(Coordinator c) throws Exception {
    Path file = dir.resolve("snapshot.3_" + c.appliedIndex());
    SnapshotWriter.write(c.freeze(), 3, c.appliedIndex(), file, 42);
    return file;
  }

  @Test
  void roundTripRebuildsTheSameStateAndTheChecksumIsTheStateDigest() throws Exception {
    Coordinator original = StateFixture.build(3, 20, 2);
    DigestView digest = original.digest();
    Path file = write(original);
    try (SnapshotFile f = SnapshotFile.open(file)) {
      f.verify();
      assertEquals(SnapshotLayout.FORMAT_VERSION, f.meta().formatVersion());
      assertEquals(3, f.meta().term());
      assertEquals(original.appliedIndex(), f.meta().index());
      assertEquals(digest.getSha256(), f.meta().sha256());
      assertEquals(digest.getRecords(), f.meta().records());
      assertEquals(3 * 20 * 2, f.meta().slots());
      Coordinator loaded = f.load(Limits.DEFAULTS);
      assertEquals(digest, loaded.digest());
    }
    assertFalse(Files.exists(file.resolveSibling(file.getFileName() + ".tmp")));
  }

  @Test
  void theDigestOfAFrozenCopyIsTheCoordinatorsDigest() {
    Coordinator c = StateFixture.build(2, 30, 2);
    assertEquals(c.digest(), SnapshotLayout.digest(c.freeze()));
  }

  @Test
  void recordsComeBackInExportOrder() throws Exception {
    Coordinator original = StateFixture.build(2, 5, 2);
    List<StateRecord> exported = new ArrayList<>();
    original.freeze().export(exported::add);
    try (SnapshotFile f = SnapshotFile.open(write(original))) {
      List<StateRecord> read = new ArrayList<>();
      f.records().forEachRemaining(read::add);
      assertEquals(exported, read);
    }
  }

  @Test
  void oneGroupAndOneCheckpointAreReadByKey() throws Exception {
    Coordinator original = StateFixture.build(2, 12, 2);
    try (SnapshotFile f = SnapshotFile.open(write(original))) {
      assertEquals(List.of("group-0-0", "group-0-1", "group-1-0", "group-1-1"), f.groupNames());
      SnapshotFile.GroupSnapshot g = f.group("group-1-0").orElseThrow();
      assertEquals("group-1-0", g.group().getGroup());
      assertEquals(1, g.members().size());
      assertEquals(12, g.slots().size());
      assertTrue(g.slots().stream().allMatch(s -> s.getGroup().equals("group-1-0")));
      assertEquals(List.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11),
          g.slots().stream().map(SlotRecord::getPartition).toList());
      SlotRecord slot = f.slot("group-1-0", "topic-1", 11).orElseThrow();
      assertEquals("offset-1011", slot.getCheckpoint().getCursor());
      assertTrue(f.slot("group-1-0", "topic-1", 12).isEmpty());
      assertTrue(f.group("nope").isEmpty());
    }
  }

  @Test
  void aChangedRecordFailsTheChecksum() throws Exception {
    Path file = write(StateFixture.build(1, 4, 1));
    DB db = DBMaker.fileDB(file.toFile()).fileChannelEnable().make();
    var slots = db.treeMap("slots", Serializer.STRING, Serializer.BYTE_ARRAY).open();
    String key = slots.firstKey();
    SlotRecord s = SlotRecord.parseFrom(slots.get(key));
    slots.put(key, s.toBuilder().setEpoch(s.getEpoch() + 1).build().toByteArray());
    db.close();
    try (SnapshotFile f = SnapshotFile.open(file)) {
      CorruptSnapshotException e = assertThrows(CorruptSnapshotException.class, f::verify);
      assertTrue(e.getMessage().contains("fails its checksum"), e.getMessage());
      assertThrows(CorruptSnapshotException.class, () -> f.load(Limits.DEFAULTS));
    }
  }

  @Test
  void anUnknownFormatVersionIsRefusedWithAClearMessage() throws Exception {
    Path file = write(StateFixture.build(1, 2, 1));
    DB db = DBMaker.fileDB(file.toFile()).fileChannelEnable().make();
    db.treeMap("meta", Serializer.STRING, Serializer.STRING).open().put("format_version", "99");
    db.close();
    CorruptSnapshotException e = assertThrows(CorruptSnapshotException.class, () -> SnapshotFile.open(file));
    assertTrue(e.getMessage().contains("format version 99"), e.getMessage());
  }

  @Test
  void aTruncatedOrForeignFileIsRefused() throws Exception {
    Path file = write(StateFixture.build(1, 2, 1));
    byte[] bytes = Files.readAllBytes(file);
    Path truncated = dir.resolve("snapshot.1_1");
    Files.write(truncated, java.util.Arrays.copyOf(bytes, 100));
    assertThrows(CorruptSnapshotException.class, () -> SnapshotFile.open(truncated));
    Path text = dir.resolve("snapshot.1_2");
    Files.writeString(text, "hello");
    assertThrows(CorruptSnapshotException.class, () -> SnapshotFile.open(text));
    assertThrows(CorruptSnapshotException.class, () -> SnapshotFile.open(dir.resolve("missing")));
  }

  @Test
  void wrappedRecordBytesMatchProtobuf() {
    Coordinator c = StateFixture.build(1, 3, 1);
    c.freeze().export(r -> {
      byte[] inner = switch (r.getBodyCase()) {
        case HEADER -> r.getHeader().toByteArray();
        case TOPIC -> r.getTopic().toByteArray();
        case GROUP -> r.getGroup().toByteArray();
        case MEMBER -> r.getMember().toByteArray();
        case SLOT -> r.getSlot().toByteArray();
        default -> throw new AssertionError();
      };
      assertTrue(SnapshotWriter.wrapsLikeProtobuf(r, inner), r.getBodyCase().toString());
    });
    byte[] big = new byte[300_000];
    StateRecord r = StateRecord.newBuilder().setTopic(io.cohort.statemachine.proto.TopicRecord.newBuilder()
        .setTopic(new String(new char[20_000]).replace('\0', 'x'))).build();
    assertTrue(SnapshotWriter.wrapsLikeProtobuf(r, r.getTopic().toByteArray()));
    assertEquals(big.length + 4, SnapshotWriter.wrapped(2, big).length);
  }

  @Test
  void listFindsSnapshotsNewestFirst() throws Exception {
    Coordinator c = StateFixture.build(1, 2, 1);
    Path sm = Files.createDirectories(dir.resolve("storage/some-group/sm"));
    SnapshotWriter.write(c.freeze(), 1, 5, sm.resolve("snapshot.1_5"), 0);
    SnapshotWriter.write(c.freeze(), 2, 9, sm.resolve("snapshot.2_9"), 0);
    Files.writeString(sm.resolve("snapshot.2_9.md5"), "x");
    List<SnapshotDirectory.Listing> l = SnapshotDirectory.list(dir.resolve("storage"));
    assertEquals(List.of(9L, 5L), l.stream().map(SnapshotDirectory.Listing::index).toList());
    assertEquals(l, SnapshotDirectory.list(dir.resolve("storage/some-group")));
    assertEquals(l, SnapshotDirectory.list(sm));
    assertEquals(List.of(), SnapshotDirectory.list(dir.resolve("nothing-here")));
    assertTrue(l.get(0).hasMd5());
    assertFalse(l.get(1).hasMd5());
  }
}
