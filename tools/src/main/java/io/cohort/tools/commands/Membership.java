package io.cohort.tools.commands;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.ParameterException;
import io.cohort.client.Peers;
import io.cohort.client.admin.MembershipResult;
import io.cohort.tools.CliContext;
import io.cohort.tools.json.Json;
import io.cohort.tools.json.JsonViews;
import java.time.Duration;

/**
 * What the membership commands share ({@code cluster add|remove|replace}, {@code leader
 * transfer}): how long to wait for the change, progress lines on stderr while waiting, and one
 * result line (or one JSON document) on stdout.
 */
final class Membership {
  static final int DEFAULT_WAIT_S = 300;

  /** The options every membership command has. */
  static final class Options {
    @Parameter(names = "--wait", description = "seconds to wait for the change to commit (a new node must catch up first)")
    int waitSeconds = DEFAULT_WAIT_S;

    @Parameter(names = "--json", description = "print JSON")
    boolean json;

    Duration waitDuration() {
      if (waitSeconds < 1) {
        throw new ParameterException("--wait must be at least 1 (seconds), got " + waitSeconds);
      }
      return Duration.ofSeconds(waitSeconds);
    }
  }

  private Membership() {}

  /** {@code ID=HOST:PORT}, one peer. */
  static Peers.Peer peer(String spec) {
    Peers p = Peers.parse(spec);
    if (p.list().size() != 1) {
      throw new IllegalArgumentException("expected one ID=HOST:PORT, got '" + spec + "'");
    }
    return p.list().get(0);
  }

  static int report(CliContext ctx, Options o, MembershipResult r) {
    if (o.json) {
      ctx.out.println(Json.write(JsonViews.membership(r)));
    } else {
      ctx.out.println(r.summary());
    }
    return 0;
  }
}
