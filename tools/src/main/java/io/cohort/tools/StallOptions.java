package io.cohort.tools;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.ParameterException;

/** How long without progress makes a partition STALLED (step 9): the server's --stall-after-ms unless given. */
public final class StallOptions {
  @Parameter(names = "--stall-after-ms", description = "judge STALLED after this long without progress "
      + "(default: the server's --stall-after-ms, which its metrics use too)")
  public Long stallAfterMs;

  /** Null: the server's; else the positive threshold given. */
  public Long threshold() {
    if (stallAfterMs != null && stallAfterMs <= 0) {
      throw new ParameterException("--stall-after-ms must be positive, got " + stallAfterMs);
    }
    return stallAfterMs;
  }
}
