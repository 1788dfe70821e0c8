package io.cohort.tools.commands;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.cohort.client.BlockingCohortClient;
import io.cohort.client.CohortClient;
import io.cohort.client.CohortRejectedException;
import io.cohort.statemachine.proto.Code;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.Result;
import io.cohort.tools.CliContext;
import io.cohort.tools.json.Json;
import java.util.function.Consumer;

/**
 * Sends one replicated command and reports what the cluster answered: its message as stored (not
 * the CLI's rendering of the input), and with --json {@code {"version":1,"ok":true,"message":...}}
 * plus the command's own fields.
 */
final class Writes {
  private Writes() {}

  /** The cluster's result; a refusal is a {@link CohortRejectedException} (exit 1). */
  static Result send(CohortClient client, Command command) {
    Result r = BlockingCohortClient.await(client.execute(command));
    if (r.getCode() != Code.OK) {
      throw new CohortRejectedException(r.getCode(), r.getMessage());
    }
    return r;
  }

  static void report(CliContext ctx, boolean json, Result result) {
    report(ctx, json, result, doc -> { });
  }

  static void report(CliContext ctx, boolean json, Result result, Consumer<ObjectNode> fields) {
    if (json) {
      ObjectNode doc = Json.ok(result.getMessage());
      fields.accept(doc);
      ctx.out.println(Json.write(doc));
    } else {
      ctx.out.println(result.getMessage());
    }
  }
}
