package io.github.pathsgd.core.util;

/**
 * A small, splittable, serializable random stream (SplitMix64, Steele, Lea and Flood, OOPSLA 2014).
 *
 * <p>Its whole state is one {@code long} ({@link #state()}), so a checkpoint can save and restore it exactly. A run
 * derives every stream it needs (initialization, shuffling, dropout, unbalancing) from one seed with {@link
 * #split(String)}, so that adding a consumer to one stream never shifts another.
 */
public final class Rng {
  private static final long GOLDEN = 0x9E3779B97F4A7C15L;
  private long state;
  private double spareGaussian;
  private boolean hasSpare;

  public Rng(long seed) {
    this.state = seed;
  }

  /**
   * The current state; {@code new Rng(0).restore(s)} continues exactly where this stream is, except that a second
   * Gaussian cached by {@link #nextGaussian} is not part of it (restore drops it).
   */
  public long state() {
    return state;
  }

  /** Restores a saved state, dropping any cached Gaussian. */
  public Rng restore(long s) {
    this.state = s;
    this.hasSpare = false;
    return this;
  }

  private static long mix64(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  public long nextLong() {
    state += GOLDEN;
    return mix64(state);
  }

  /** Uniform in [0, 1), 53 bits. */
  public double nextDouble() {
    return (nextLong() >>> 11) * 0x1.0p-53;
  }

  /** Uniform in [0, 1), 24 bits. */
  public float nextFloat() {
    return (nextLong() >>> 40) * 0x1.0p-24f;
  }

  /** Uniform integer in [0, bound). */
  public int nextInt(int bound) {
    if (bound <= 0) {
      throw new IllegalArgumentException("bound must be positive, got " + bound);
    }
    // Lemire's multiply-shift with rejection, unbiased.
    long m = (nextLong() >>> 32) * bound;
    long l = m & 0xFFFFFFFFL;
    if (l < bound) {
      long t = (0x100000000L - bound) % bound;
      while (l < t) {
        m = (nextLong() >>> 32) * bound;
        l = m & 0xFFFFFFFFL;
      }
    }
    return (int) (m >>> 32);
  }

  /** Standard normal (Marsaglia polar method). */
  public double nextGaussian() {
    if (hasSpare) {
      hasSpare = false;
      return spareGaussian;
    }
    double u;
    double v;
    double s;
    do {
      u = 2 * nextDouble() - 1;
      v = 2 * nextDouble() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s == 0);
    double f = Math.sqrt(-2 * Math.log(s) / s);
    spareGaussian = v * f;
    hasSpare = true;
    return u * f;
  }

  /** An independent stream named {@code name}, derived from this stream's seed state without advancing it. */
  public Rng split(String name) {
    long h = state;
    for (int i = 0; i < name.length(); i++) {
      h = mix64(h ^ name.charAt(i)) + GOLDEN;
    }
    return new Rng(mix64(h));
  }

  /** Fisher-Yates shuffle of {@code a} in place. */
  public void shuffle(int[] a) {
    for (int i = a.length - 1; i > 0; i--) {
      int j = nextInt(i + 1);
      int t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
  }
}
