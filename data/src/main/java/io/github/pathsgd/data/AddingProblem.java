package io.github.pathsgd.data;

import java.util.SplittableRandom;

/**
 * The adding problem (Hochreiter and Schmidhuber 1997; used by Le, Jaitly and Hinton 2015, arXiv:1504.00941, and by
 * Neyshabur et al. 2016, arXiv:1605.07154), generated from a seed. Each sequence has T steps of two features: a value
 * u_t uniform in [0, 1) and a marker in {0, 1}. Exactly two markers are 1: one at a position uniform in the first half
 * [0, ⌊T/2⌋), one uniform in the second half [⌊T/2⌋, T) (the placement of Hochreiter and Schmidhuber's and of later
 * uses such as Arjovsky et al. 2016; docs/rnn.md). The target is the sum of the two marked values, a float.
 *
 * <p>Predicting the constant 1 has expected squared error Var(u + u′) = 1/6 ({@link #BASELINE_MSE}), the baseline a
 * model's MSE is reported against; "solved" is usually taken as an MSE well below it.
 *
 * <p>Sequence i draws from {@code new SplittableRandom(seed).split()} taken i times in order, so the set is a function
 * of (n, T, seed) alone: for each sequence, T values {@code nextFloat()}, then the first position {@code
 * nextInt(⌊T/2⌋)}, then the second {@code ⌊T/2⌋ + nextInt(T − ⌊T/2⌋)}.
 */
public final class AddingProblem {
  /** The MSE of always predicting 1: Var(u + u′) = 2·(1/12). */
  public static final double BASELINE_MSE = 1.0 / 6.0;

  private AddingProblem() {}

  /** n sequences of length T ≥ 2 from {@code seed}. */
  public static SequenceDataset generate(String name, int n, int steps, long seed) {
    if (steps < 2) {
      throw new IllegalArgumentException(name + ": the adding problem needs T >= 2 (two marked steps), got T="
          + steps);
    }
    if (n < 0 || (long) n * steps * 2 > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(name + ": n=" + n + " sequences of T=" + steps
          + " do not fit one float array");
    }
    float[] x = new float[n * steps * 2];
    float[] y = new float[n];
    SplittableRandom root = new SplittableRandom(seed);
    int half = steps / 2;
    for (int i = 0; i < n; i++) {
      SplittableRandom r = root.split();
      int base = i * steps * 2;
      for (int t = 0; t < steps; t++) {
        x[base + 2 * t] = nextFloat(r);
      }
      int p1 = r.nextInt(half);
      int p2 = half + r.nextInt(steps - half);
      x[base + 2 * p1 + 1] = 1f;
      x[base + 2 * p2 + 1] = 1f;
      y[i] = x[base + 2 * p1] + x[base + 2 * p2];
    }
    return new SequenceDataset(name, x, n, steps, 2, null, 0, y, 1);
  }

  /** Uniform in [0, 1), 24 bits. */
  private static float nextFloat(SplittableRandom r) {
    return (r.nextInt() >>> 8) * 0x1.0p-24f;
  }

  /** Mean squared error of predictions {@code pred} (one per sequence) against the targets of {@code d}. */
  public static double mse(SequenceDataset d, float[] pred) {
    if (d.targets() == null || d.targetDim() != 1 || pred.length != d.n()) {
      throw new IllegalArgumentException(d.name() + ": " + pred.length + " predictions for " + d.n()
          + " scalar targets");
    }
    double s = 0;
    for (int i = 0; i < pred.length; i++) {
      double e = (double) pred[i] - d.targets()[i];
      s += e * e;
    }
    return s / Math.max(1, pred.length);
  }
}
