import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.LocalTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Random;
import java.util.concurrent.SynchronousQueue;

/**
 * Whether the host itself slows down (docs/BENCHMARKS.md, "What the slumps are not"): once a
 * second, the thread CPU time a fixed piece of work takes, and the CPU the hypervisor stole.
 *
 * <p>usage: {@code java scripts/host-probe.java SECONDS}
 *
 * <p>Each line: the time (UTC), microseconds of thread CPU per SHA-256 of 16 KiB (compute),
 * nanoseconds per hop of a random walk over 16 MiB (memory latency), a round trip between two
 * threads (wall and the two threads' CPU, in microseconds), and the steal and user+system
 * jiffies of the whole machine in that second ({@code /proc/stat}). Thread CPU time, not wall
 * time: a probe that waits for a core is not counted slower, so only the work's own cost is
 * compared. It uses about 1 % of a core, so it can run beside a bench.
 */
public class HostProbe {
  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
  private static final int DIGESTS = 200;
  private static final int HOPS = 200_000;
  private static final int HANDOFFS = 1_000;
  private static final DateTimeFormatter SECONDS = DateTimeFormatter.ofPattern("HH:mm:ss");

  public static void main(String[] args) throws Exception {
    if (args.length != 1 || !args[0].matches("[0-9]{1,6}")) {
      System.err.println("usage: java scripts/host-probe.java SECONDS");
      System.exit(2);
    }
    long endNanos = System.nanoTime() + Long.parseLong(args[0]) * 1_000_000_000L;
    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    byte[] block = new byte[16 * 1024];
    int[] next = randomCycle(1 << 22, new Random(1));
    int at = 0;
    long sink = 0;
    long[] before = machineJiffies();
    while (System.nanoTime() < endNanos) {
      long wall0 = System.nanoTime();
      long t0 = THREADS.getCurrentThreadCpuTime();
      for (int i = 0; i < DIGESTS; i++) {
        sha.update(block);
        sink += sha.digest()[0];
      }
      long t1 = THREADS.getCurrentThreadCpuTime();
      for (int i = 0; i < HOPS; i++) {
        at = next[at];
      }
      long t2 = THREADS.getCurrentThreadCpuTime();
      long[] handoff = pingPong(HANDOFFS);
      long[] now = machineJiffies();
      System.out.printf("%s sha %.1f us/16KB  chase %.1f ns/hop  handoff %.1f us wall %.1f us cpu  steal %d user+sys %d%n",
          LocalTime.now(ZoneOffset.UTC).format(SECONDS), (t1 - t0) / 1e3 / DIGESTS,
          (t2 - t1) / (double) HOPS, handoff[0] / 1e3 / HANDOFFS, handoff[1] / 1e3 / HANDOFFS, now[0] - before[0],
          now[1] - before[1]);
      before = now;
      Thread.sleep(Math.max(0, 1000 - (System.nanoTime() - wall0) / 1_000_000));
    }
    System.err.println("(ignore) " + (sink + at)); // keeps the work from being optimised away
  }

  /**
   * {@code n} round trips of a token between this thread and another, each a wake-up of a parked
   * thread as in every request's hand-offs: wall nanoseconds, and both threads' CPU nanoseconds.
   */
  private static long[] pingPong(int n) throws InterruptedException {
    SynchronousQueue<Integer> there = new SynchronousQueue<>();
    SynchronousQueue<Integer> back = new SynchronousQueue<>();
    long[] echoCpu = new long[1];
    Thread echo = new Thread(() -> {
      long c0 = THREADS.getCurrentThreadCpuTime();
      try {
        for (int i = 0; i < n; i++) {
          back.put(there.take());
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      echoCpu[0] = THREADS.getCurrentThreadCpuTime() - c0;
    }, "host-probe-echo");
    echo.start();
    long w0 = System.nanoTime();
    long c0 = THREADS.getCurrentThreadCpuTime();
    for (int i = 0; i < n; i++) {
      there.put(i);
      back.take();
    }
    long cpu = THREADS.getCurrentThreadCpuTime() - c0;
    long wall = System.nanoTime() - w0;
    echo.join();
    return new long[] {wall, cpu + echoCpu[0]};
  }

  /** A single cycle through all slots in random order: each hop is a cache miss. */
  private static int[] randomCycle(int n, Random random) {
    int[] order = new int[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    for (int i = n - 1; i > 0; i--) {
      int j = random.nextInt(i);
      int t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    int[] next = new int[n];
    for (int i = 0; i < n; i++) {
      next[order[i]] = order[(i + 1) % n];
    }
    return next;
  }

  /** The machine's steal and user+system jiffies so far (first line of /proc/stat). */
  private static long[] machineJiffies() throws Exception {
    String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
    return new long[] {Long.parseLong(f[8]), Long.parseLong(f[1]) + Long.parseLong(f[3])};
  }
}
