package io.cohort.tools.commands;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.Parameters;
import com.beust.jcommander.ParametersDelegate;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.cohort.client.BlockingCohortClient;
import io.cohort.statemachine.proto.AccessEntry;
import io.cohort.statemachine.proto.AccessList;
import io.cohort.tools.CliCommand;
import io.cohort.tools.CliContext;
import io.cohort.tools.ClusterOptions;
import io.cohort.tools.ReadOptions;
import io.cohort.tools.json.Json;
import java.util.Locale;

@Parameters(commandDescription = "The principals and their rights (R11): all of them for admins and readers, your own otherwise")
public final class AclList implements CliCommand {
  @Parameter(names = "--json", description = "print JSON")
  boolean json;

  @ParametersDelegate
  ClusterOptions cluster = new ClusterOptions();

  @ParametersDelegate
  ReadOptions read = new ReadOptions();

  @Override
  public int run(CliContext ctx) {
    AccessList acl = BlockingCohortClient.await(ctx.client(cluster).listAccess(read.mode()));
    if (json) {
      ObjectNode doc = Json.doc();
      ArrayNode out = doc.putArray("principals");
      for (AccessEntry e : acl.getEntriesList()) {
        ObjectNode o = out.addObject().put("principal", e.getPrincipal()).put("role", role(e));
        ArrayNode groups = o.putArray("groups");
        e.getGroupsList().forEach(groups::add);
      }
      doc.put("bootstrapped", acl.getBootstrapped());
      ctx.out.println(Json.write(doc));
      return 0;
    }
    Table t = new Table("PRINCIPAL", "ROLE", "GROUPS");
    for (AccessEntry e : acl.getEntriesList()) {
      t.row(e.getPrincipal(), role(e), e.getGroupsCount() == 0 ? null : String.join(",", e.getGroupsList()));
    }
    t.print(ctx.out);
    return 0;
  }

  static String role(AccessEntry e) {
    return e.getRole().name().toLowerCase(Locale.ROOT);
  }
}
