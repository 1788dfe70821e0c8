package io.cohort.harness.bench;

import java.time.Duration;

/** CPU used by the servers and by this (load) JVM over a window, in cores. */
public final class Cpu {
  private final ServerProcesses servers;
  private final long wall0;
  private final long servers0;
  private final long self0;

  private Cpu(ServerProcesses servers) {
    this.servers = servers;
    this.wall0 = System.nanoTime();
    this.servers0 = servers == null ? 0 : servers.cpuNanos();
    this.self0 = self();
  }

  public static Cpu start(ServerProcesses servers) {
    return new Cpu(servers);
  }

  private static long self() {
    return ProcessHandle.current().info().totalCpuDuration().map(Duration::toNanos).orElse(0L);
  }

  /** "servers 1.42 + load 0.29 cores" since start (servers unknown for a cluster it did not start). */
  public String since() {
    double wall = System.nanoTime() - wall0;
    String s = servers == null ? "servers ?" : String.format("servers %.2f", (servers.cpuNanos() - servers0) / wall);
    return String.format("%s + load %.2f cores", s, (self() - self0) / wall);
  }

  public double serverCores() {
    return servers == null ? Double.NaN : (servers.cpuNanos() - servers0) / (double) (System.nanoTime() - wall0);
  }

  public double loadCores() {
    return (self() - self0) / (double) (System.nanoTime() - wall0);
  }
}
