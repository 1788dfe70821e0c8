package io.cohort.tools.commands;

import com.beust.jcommander.DynamicParameter;
import com.beust.jcommander.Parameter;
import com.beust.jcommander.ParameterException;
import com.beust.jcommander.Parameters;
import com.beust.jcommander.ParametersDelegate;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.Descriptors.FieldDescriptor;
import io.cohort.client.BlockingCohortClient;
import io.cohort.client.CohortClient;
import io.cohort.client.ReadMode;
import io.cohort.statemachine.proto.ClusterInfoView;
import io.cohort.statemachine.proto.Command;
import io.cohort.statemachine.proto.LimitsRecord;
import io.cohort.statemachine.proto.Result;
import io.cohort.statemachine.proto.SetLimits;
import io.cohort.tools.CliCommand;
import io.cohort.tools.CliContext;
import io.cohort.tools.ClusterOptions;
import io.cohort.tools.json.Json;
import io.cohort.tools.json.JsonViews;
import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

@Parameters(commandDescription = "Show the cluster's replicated limits and usage (R9); --set name=N changes them")
public final class ClusterLimits implements CliCommand {
  @DynamicParameter(names = "--set", description = "a limit to change, e.g. --set max_slots=200000 (repeatable; names as shown)")
  Map<String, String> set = new LinkedHashMap<>();

  @Parameter(names = "--json", description = "print JSON")
  boolean json;

  @ParametersDelegate
  ClusterOptions cluster = new ClusterOptions();

  @Override
  public int run(CliContext ctx) {
    LimitsRecord changes = set.isEmpty() ? null : parse(set);
    CohortClient client = ctx.client(cluster);
    Result result = changes == null ? null
        : Writes.send(client, Command.newBuilder().setSetLimits(SetLimits.newBuilder().setLimits(changes)).build());
    ClusterInfoView info = BlockingCohortClient.await(client.clusterInfo(ReadMode.linearizable()));
    if (json) {
      ObjectNode doc = result == null ? Json.doc() : Json.ok(result.getMessage());
      doc.set("limits", JsonViews.limits(info.getLimits()));
      doc.set("usage", JsonViews.usage(info));
      ctx.out.println(Json.write(doc));
    } else {
      if (result != null) {
        ctx.out.println(result.getMessage());
      }
      print(ctx.out, info);
    }
    return 0;
  }

  /** name=N pairs to a SetLimits body; names are the proto's (max_slots) or their JSON form (maxSlots). */
  static LimitsRecord parse(Map<String, String> values) {
    LimitsRecord.Builder b = LimitsRecord.newBuilder();
    for (Map.Entry<String, String> e : values.entrySet()) {
      FieldDescriptor f = field(e.getKey());
      long v;
      try {
        v = Long.parseLong(e.getValue().strip());
      } catch (NumberFormatException x) {
        throw new ParameterException("--set " + e.getKey() + ": '" + e.getValue() + "' is not a whole number");
      }
      if (f.getJavaType() == FieldDescriptor.JavaType.INT) {
        if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
          throw new ParameterException("--set " + e.getKey() + ": " + v + " is out of range");
        }
        b.setField(f, (int) v);
      } else {
        b.setField(f, v);
      }
    }
    return b.build();
  }

  private static FieldDescriptor field(String name) {
    for (FieldDescriptor f : LimitsRecord.getDescriptor().getFields()) {
      if (f.getName().equals(name) || f.getJsonName().equals(name)) {
        return f;
      }
    }
    throw new ParameterException("--set: unknown limit '" + name + "'; known: " + String.join(", ", names()));
  }

  private static List<String> names() {
    return LimitsRecord.getDescriptor().getFields().stream().map(FieldDescriptor::getName).toList();
  }

  static void print(PrintStream out, ClusterInfoView info) {
    Table t = new Table("LIMIT", "VALUE", "IN-USE");
    Map<String, Long> used = Map.of("max_topics", info.getTopics(), "max_groups", info.getGroups(),
        "max_slots", info.getSlots(), "max_members", info.getMembers());
    for (FieldDescriptor f : LimitsRecord.getDescriptor().getFields()) {
      LimitsRecord l = info.getLimits();
      t.row(f.getName(), l.hasField(f) ? l.getField(f) : null, used.get(f.getName()));
    }
    t.print(out);
  }
}
