package io.cohort.tools;

import com.beust.jcommander.Parameter;
import io.cohort.client.ReadMode;

/** The options of read commands: where the answer may come from (R10). */
public final class ReadOptions {
  @Parameter(names = "--stale", description = "read from any replica, possibly behind the leader (R10)")
  public boolean stale;

  public ReadMode mode() {
    return stale ? ReadMode.staleAny() : ReadMode.linearizable();
  }
}
