package io.cohort.harness.bench;

import java.util.Arrays;
import java.util.List;

/** Latency samples (ns) of one measured phase; thread safe. */
public final class Latencies {
  private long[] samples = new long[1 << 14];
  private int size;

  public synchronized void add(long nanos) {
    if (size == samples.length) {
      samples = Arrays.copyOf(samples, size * 2);
    }
    samples[size++] = nanos;
  }

  public synchronized int count() {
    return size;
  }

  /** A sorted copy. */
  public synchronized long[] sorted() {
    long[] c = Arrays.copyOf(samples, size);
    Arrays.sort(c);
    return c;
  }

  /** The q-quantile (0..1) of sorted samples, in ms; NaN when empty. */
  public static double quantileMs(long[] sorted, double q) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    int i = (int) Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
    return sorted[i] / 1e6;
  }

  /** Median, min and max of a list of values (for repeated runs). */
  public record Spread(double min, double median, double max) {
    public static Spread of(List<Double> values) {
      double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
      if (v.length == 0) {
        return new Spread(Double.NaN, Double.NaN, Double.NaN);
      }
      double median = v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
      return new Spread(v[0], median, v[v.length - 1]);
    }

    @Override
    public String toString() {
      return String.format("min %.0f / median %.0f / max %.0f", min, median, max);
    }
  }
}
