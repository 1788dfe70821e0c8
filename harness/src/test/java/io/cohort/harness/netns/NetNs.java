package io.cohort.harness.netns;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

/**
 * Network namespaces for partition tests, one per process, on this machine only. Each member gets
 * its own namespace with one veth ({@code eth0}, address {@code 10.213.0.<k>/24}) whose other end
 * sits on a bridge in one more namespace (the hub); both ends are created inside the namespaces,
 * so the host's own interfaces and routes are never touched and nothing can leave the machine.
 *
 * <p>Links are cut with blackhole routes inside the two namespaces ({@code ip route add blackhole
 * B/32} in A and the same for A in B): no packet crosses in either direction, on existing
 * connections too, and a cut is undone by deleting the routes. This needs only iproute2 and the
 * core routing code; this image has no nft/iptables, and {@code tc}'s drop action and {@code
 * netem} are kernel modules it cannot load (tried: "Failed to load TC action module",
 * "qdisc kind is unknown"). A sender to a cut peer gets an immediate local error on a new
 * connection and silence on an open one, as with a host route lost on a real network.
 *
 * <p>Names are {@code cohort-pt-<pid>-<member>}: unique per run; {@link #cleanStale} deletes
 * namespaces left by a run whose process is gone, and only those.
 */
public final class NetNs implements AutoCloseable {
  public static final String PREFIX = "cohort-pt-";
  public static final String SUBNET = "10.213.0.";
  /** Set to another command (e.g. {@code false}) to simulate a machine without namespaces. */
  public static final String IP_PROPERTY = "cohort.netns.ip";

  private static final long COMMAND_TIMEOUT_S = 20;

  private final String ip;
  private final String run;
  private final Map<String, String> addresses = new LinkedHashMap<>();
  private final List<String> created = new ArrayList<>();
  private final Set<String> cuts = new TreeSet<>();

  private NetNs(String ip, String run) {
    this.ip = ip;
    this.run = run;
  }

  /** The iproute2 command these tests use: {@value #IP_PROPERTY}, else {@code ip}. */
  public static String ipCommand() {
    return System.getProperty(IP_PROPERTY, "ip");
  }

  /**
   * Why namespaces cannot be used here, or empty if they can: creates a probe namespace with what
   * the tests need inside (a veth pair, a bridge, a blackhole route) and deletes it again. Needs
   * root (or CAP_SYS_ADMIN and CAP_NET_ADMIN) and iproute2.
   */
  public static Optional<String> unavailable(String ip) {
    String probe = PREFIX + ProcessHandle.current().pid() + "-probe";
    try {
      Result add = run(ip, "netns", "add", probe);
      if (add.code != 0) {
        return Optional.of("'" + ip + " netns add' failed (exit " + add.code + "): " + add.text());
      }
      try {
        for (List<String> step : List.of(List.of("link", "add", "p0", "type", "veth", "peer", "name", "p1"),
            List.of("link", "add", "br0", "type", "bridge"), List.of("route", "add", "blackhole", SUBNET + "1/32"))) {
          List<String> args = new ArrayList<>(List.of("-n", probe));
          args.addAll(step);
          Result r = run(ip, args.toArray(String[]::new));
          if (r.code != 0) {
            return Optional.of("'" + ip + " " + String.join(" ", step) + "' failed in a namespace (exit " + r.code
                + "): " + r.text());
          }
        }
      } finally {
        run(ip, "netns", "del", probe);
      }
      return Optional.empty();
    } catch (IOException e) {
      return Optional.of("cannot run '" + ip + "': " + e.getMessage());
    }
  }

  /**
   * Deletes namespaces named {@code cohort-pt-<pid>-...} whose pid is not a live process: left by a
   * run that crashed. Processes still inside one (listed) keep running; they were not started here.
   */
  public static List<String> cleanStale(String ip) throws IOException {
    List<String> removed = new ArrayList<>();
    for (String line : run(ip, "netns", "list").out.split("\n")) {
      String name = line.strip().split("\\s+")[0];
      if (!name.startsWith(PREFIX)) {
        continue;
      }
      String rest = name.substring(PREFIX.length());
      int dash = rest.indexOf('-');
      long pid;
      try {
        pid = Long.parseLong(dash < 0 ? rest : rest.substring(0, dash));
      } catch (NumberFormatException e) {
        continue; // not ours
      }
      if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
        continue;
      }
      String pids = run(ip, "netns", "pids", name).out.strip().replace('\n', ' ');
      run(ip, "netns", "del", name);
      removed.add(pids.isEmpty() ? name : name + " (processes still inside: " + pids + ")");
    }
    return removed;
  }

  /** One namespace per member, all joined by the hub's bridge; addresses in member order from .1. */
  public static NetNs create(String ip, List<String> members) throws IOException {
    NetNs net = new NetNs(ip, PREFIX + ProcessHandle.current().pid());
    try {
      String hub = net.run + "-hub";
      net.netnsAdd(hub);
      net.must("-n", hub, "link", "add", "br0", "type", "bridge");
      net.must("-n", hub, "link", "set", "br0", "up");
      int k = 1;
      for (String m : members) {
        String ns = net.ns(m);
        String address = SUBNET + k;
        net.netnsAdd(ns);
        net.must("-n", ns, "link", "set", "lo", "up");
        net.must("link", "add", "eth0", "netns", ns, "type", "veth", "peer", "name", "v" + k, "netns", hub);
        net.must("-n", hub, "link", "set", "v" + k, "master", "br0");
        net.must("-n", hub, "link", "set", "v" + k, "up");
        net.must("-n", ns, "addr", "add", address + "/24", "dev", "eth0");
        net.must("-n", ns, "link", "set", "eth0", "up");
        net.addresses.put(m, address);
        k++;
      }
      return net;
    } catch (IOException | RuntimeException e) {
      net.close();
      throw e;
    }
  }

  public String ns(String member) {
    return run + "-" + member;
  }

  public String address(String member) {
    String a = addresses.get(member);
    if (a == null) {
      throw new IllegalArgumentException("no member " + member + " in " + addresses.keySet());
    }
    return a;
  }

  /** The command prefix that runs a program inside a member's namespace. */
  public List<String> exec(String member) {
    address(member);
    return List.of(ip, "netns", "exec", ns(member));
  }

  /** No packet between a and b, either way, until {@link #heal}. */
  public void cut(String a, String b) throws IOException {
    split(List.of(a), List.of(b));
  }

  public void heal(String a, String b) throws IOException {
    change(List.of(pair(a, b)), false);
  }

  /** Cuts every link between the two sides (one {@code ip} run per namespace, so the cut is quick). */
  public void split(List<String> side, List<String> other) throws IOException {
    List<String> pairs = new ArrayList<>();
    for (String a : side) {
      for (String b : other) {
        if (!a.equals(b)) {
          pairs.add(pair(a, b));
        }
      }
    }
    change(pairs, true);
  }

  public synchronized void healAll() throws IOException {
    change(List.copyOf(cuts), false);
  }

  /** Adds (cut) or deletes (heal) the blackhole routes of these pairs, batched per namespace. */
  private synchronized void change(List<String> pairs, boolean cut) throws IOException {
    Map<String, List<String>> routes = new LinkedHashMap<>();
    for (String p : pairs) {
      if (cuts.contains(p) == cut) {
        continue; // already so
      }
      String[] ab = p.split("\\|");
      routes.computeIfAbsent(ab[0], k -> new ArrayList<>())
          .add("route " + (cut ? "add" : "del") + " blackhole " + address(ab[1]) + "/32");
      routes.computeIfAbsent(ab[1], k -> new ArrayList<>())
          .add("route " + (cut ? "add" : "del") + " blackhole " + address(ab[0]) + "/32");
    }
    for (Map.Entry<String, List<String>> e : routes.entrySet()) {
      Result r = runWithInput(ip, String.join("\n", e.getValue()) + "\n", "-n", ns(e.getKey()), "-batch", "-");
      if (r.code != 0) {
        throw new IOException(ip + " -n " + ns(e.getKey()) + " " + e.getValue() + " failed (exit " + r.code + "): "
            + r.text());
      }
    }
    for (String p : pairs) {
      if (cut) {
        cuts.add(p);
      } else {
        cuts.remove(p);
      }
    }
  }

  public synchronized Set<String> cuts() {
    return Set.copyOf(cuts);
  }

  private static String pair(String a, String b) {
    return a.compareTo(b) < 0 ? a + "|" + b : b + "|" + a;
  }

  private void netnsAdd(String name) throws IOException {
    must("netns", "add", name);
    created.add(name);
  }

  private void must(String... args) throws IOException {
    Result r = run(ip, args);
    if (r.code != 0) {
      throw new IOException(ip + " " + String.join(" ", args) + " failed (exit " + r.code + "): " + r.text());
    }
  }

  /** Deletes every namespace of this run (the veths go with them). Stop the processes inside first. */
  @Override
  public synchronized void close() {
    for (int i = created.size() - 1; i >= 0; i--) {
      try {
        run(ip, "netns", "del", created.get(i));
      } catch (IOException e) {
        // next one: leave as little as possible behind; cleanStale removes the rest next time
      }
    }
    created.clear();
    cuts.clear();
  }

  private record Result(int code, String out, String err) {
    String text() {
      String t = (err + " " + out).strip();
      return t.isEmpty() ? "no output" : t.lines().findFirst().orElse(t);
    }
  }

  private static Result run(String ip, String... args) throws IOException {
    return runWithInput(ip, "", args);
  }

  private static Result runWithInput(String ip, String input, String... args) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(ip);
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.PIPE).start();
    try (var in = p.getOutputStream()) {
      in.write(input.getBytes(StandardCharsets.UTF_8));
    }
    try {
      if (!p.waitFor(COMMAND_TIMEOUT_S, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException(String.join(" ", cmd) + " did not finish in " + COMMAND_TIMEOUT_S + " s");
      }
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IOException("interrupted running " + String.join(" ", cmd), e);
    }
    return new Result(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8),
        new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
  }
}
