package io.cohort.tools.top;

import java.io.PrintStream;
import java.util.concurrent.TimeUnit;

/**
 * Runs `cohort top`: samples the cluster, and prints frames. Live, each frame clears the screen
 * (plain ANSI) and the cursor is hidden until the view ends; Ctrl-C ends it cleanly (the shutdown
 * hook shows the cursor again).
 */
public final class TopView {
  private static final String CLEAR = "\u001b[H\u001b[2J";
  private static final String HIDE_CURSOR = "\u001b[?25l";
  private static final String SHOW_CURSOR = "\u001b[?25h";

  private final TopSampler sampler;
  private final PrintStream out;
  private final String cluster;
  private final long intervalMs;

  public TopView(TopSampler sampler, PrintStream out, String cluster, long intervalMs) {
    this.sampler = sampler;
    this.out = out;
    this.cluster = cluster;
    this.intervalMs = intervalMs;
  }

  /** One frame: two samples {@code intervalMs} apart, so that it has rates. */
  public void once(boolean json) throws InterruptedException {
    TopSample first = sampler.sample();
    TimeUnit.MILLISECONDS.sleep(intervalMs);
    TopFrame frame = new TopFrame(first, sampler.sample());
    if (json) {
      out.println(io.cohort.tools.json.Json.write(frame.json()));
    } else {
      frame.print(out, cluster);
    }
  }

  /** Frames every {@code intervalMs} until interrupted (Ctrl-C) or, if {@code frames} > 0, that many. */
  public void live(int frames) throws InterruptedException {
    Thread restore = new Thread(() -> {
      out.print(SHOW_CURSOR);
      out.println();
      out.flush();
    }, "cohort-top-restore");
    Runtime.getRuntime().addShutdownHook(restore);
    out.print(HIDE_CURSOR);
    try {
      TopSample previous = null;
      for (int shown = 0; frames <= 0 || shown < frames; shown++) {
        TopSample now = sampler.sample();
        out.print(CLEAR);
        new TopFrame(previous, now).print(out, cluster);
        out.println();
        out.println("every " + intervalMs + " ms; Ctrl-C to quit");
        out.flush();
        previous = now;
        if (frames <= 0 || shown + 1 < frames) {
          TimeUnit.MILLISECONDS.sleep(intervalMs);
        }
      }
    } finally {
      out.print(SHOW_CURSOR);
      out.flush();
      try {
        Runtime.getRuntime().removeShutdownHook(restore);
      } catch (IllegalStateException e) {
        // shutting down (Ctrl-C): the hook runs
      }
    }
  }
}
