package io.cohort.harness.bench;

import java.util.ArrayList;
import java.util.List;

/**
 * Throughput in fixed windows of server age (seconds since the bench launched the server
 * processes) while a load warms the servers up, and the rule that says when it is stable.
 */
public final class WarmUpCurve {
  /**
   * One window: its end (age, s), what completed in it per second, the cores the servers used in
   * it and, of those, their JIT compiler threads (NaN when unknown).
   */
  public record Window(double endAgeS, double opsPerS, double serverCores, double jitCores) {}

  /**
   * Stable once the server age is at least {@code minAgeS} and each of the last {@code windows}
   * windows is within ±{@code pct}% of their mean; the warm-up ends at {@code maxAgeS} whatever
   * the curve does.
   */
  public record Rule(double minAgeS, double maxAgeS, int windows, double pct) {
    public Rule {
      if (windows < 1 || pct <= 0 || maxAgeS < minAgeS) {
        throw new IllegalArgumentException("warm-up rule: need windows >= 1, pct > 0, max >= min: " + windows + ", "
            + pct + ", " + minAgeS + ".." + maxAgeS);
      }
    }

    @Override
    public String toString() {
      return String.format("until the last %d windows are within ±%.0f%% of their mean, from age %.0f s, at most to %.0f s",
          windows, pct, minAgeS, maxAgeS);
    }
  }

  private final List<Window> windows = new ArrayList<>();

  public void add(Window w) {
    windows.add(w);
  }

  public List<Window> windows() {
    return List.copyOf(windows);
  }

  /** Whether the curve so far meets {@code rule} (the age cap is the caller's). */
  public boolean stable(Rule rule) {
    int n = windows.size();
    if (n < rule.windows() || windows.get(n - 1).endAgeS() < rule.minAgeS()) {
      return false;
    }
    double[] last = windows.subList(n - rule.windows(), n).stream().mapToDouble(Window::opsPerS).toArray();
    return withinPct(last, rule.pct());
  }

  /** True when every value is within ±pct% of the values' mean (and the mean is positive). */
  static boolean withinPct(double[] values, double pct) {
    double mean = 0;
    for (double v : values) {
      mean += v;
    }
    mean /= values.length;
    if (mean <= 0) {
      return false;
    }
    for (double v : values) {
      if (Math.abs(v - mean) > mean * pct / 100) {
        return false;
      }
    }
    return true;
  }

  /**
   * Mean ops/s over the {@code spanS} of server age centred on {@code ageS} (the windows ending in
   * (age - span/2, age + span/2]), NaN unless the curve has every window of it. One 5 s window
   * swings by half on the 2-core machine; four of them measure the age rather than the noise.
   */
  public double opsAround(double ageS, double spanS, double windowS) {
    int expected = Math.max(1, (int) Math.round(spanS / windowS));
    if (expected == 1) {
      return opsAtAge(ageS, windowS);
    }
    double sum = 0;
    int n = 0;
    for (Window w : windows) {
      if (w.endAgeS() > ageS - spanS / 2 + windowS / 4 && w.endAgeS() <= ageS + spanS / 2 + windowS / 4) {
        sum += w.opsPerS();
        n++;
      }
    }
    return n >= expected ? sum / n : Double.NaN;
  }

  /** Ops/s of the window that ends at {@code ageS} (within half a window), NaN when the curve has none. */
  public double opsAtAge(double ageS, double windowS) {
    for (Window w : windows) {
      if (Math.abs(w.endAgeS() - ageS) < windowS / 2) {
        return w.opsPerS();
      }
    }
    return Double.NaN;
  }
}
