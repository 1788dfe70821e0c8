package io.cohort.statemachine;

import io.cohort.statemachine.proto.ReaderErrorRecord;
import io.cohort.statemachine.proto.ReaderErrorView;

/**
 * The last failure a reader reported for one partition (step 9): what failed, how often in a row,
 * whether the poison policy skipped the batch, and when (state machine ms). {@code firstAtMs} is
 * the first report of this run of failures; a report after a commit starts a new run.
 *
 * @param cursor where the failing batch starts; null = the grant's start position
 */
record ReaderFailure(String message, int attempts, boolean skipped, String cursor, long firstAtMs,
    long lastAtMs, String reportedBy, long epoch) {

  /** Reported after the partition's last commit (or with no checkpoint) and not skipped: still retrying. */
  boolean failingSince(Checkpoint checkpoint) {
    return !skipped && (checkpoint == null || lastAtMs >= checkpoint.committedAtMs());
  }

  ReaderErrorRecord toRecord() {
    ReaderErrorRecord.Builder b = ReaderErrorRecord.newBuilder().setMessage(message).setAttempts(attempts)
        .setSkipped(skipped).setFirstAtMs(firstAtMs).setLastAtMs(lastAtMs).setReportedBy(reportedBy)
        .setEpoch(epoch);
    if (cursor != null) {
      b.setCursor(cursor);
    }
    return b.build();
  }

  static ReaderFailure of(ReaderErrorRecord r) {
    return new ReaderFailure(r.getMessage(), r.getAttempts(), r.getSkipped(), r.hasCursor() ? r.getCursor() : null,
        r.getFirstAtMs(), r.getLastAtMs(), r.getReportedBy(), r.getEpoch());
  }

  ReaderErrorView toView() {
    ReaderErrorView.Builder b = ReaderErrorView.newBuilder().setMessage(message).setAttempts(attempts)
        .setSkipped(skipped).setFirstAtMs(firstAtMs).setLastAtMs(lastAtMs).setReportedBy(reportedBy)
        .setEpoch(epoch);
    if (cursor != null) {
      b.setCursor(cursor);
    }
    return b.build();
  }
}
