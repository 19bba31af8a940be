package io.github.pathsgd.core.rnn;

/**
 * Path-SGD's per-coordinate scale of an RNN's parameters, in extended range: for parameter i the sums S^(1)_i and
 * S^(2)_i (docs/rnn.md) as a double mantissa and an int binary exponent each, S = m·2^e, so that γ over hundreds of
 * time steps never overflows. κ_i = (S^(1)_i + S^(2)_i)^{2/p}; with κ^(1) only, κ_i = (S^(1)_i)^{2/p}. For p = 2,
 * S^(1) is κ^(1) and S^(2) is κ^(2). S^(2) is 0 except on W_rec, and 0 everywhere for p = 1. Filled by {@link
 * RnnGeometry#kappa}; the arrays are reused from call to call.
 */
public final class RnnKappa {
  final double[] m1;
  final int[] e1;
  final double[] m2;
  final int[] e2;
  final RnnLayout layout;
  double p;
  boolean hasSecond;

  RnnKappa(RnnLayout layout) {
    int n = layout.size();
    this.layout = layout;
    this.m1 = new double[n];
    this.e1 = new int[n];
    this.m2 = new double[n];
    this.e2 = new int[n];
  }

  public RnnLayout layout() {
    return layout;
  }

  /** The path-norm exponent p these values were computed for. */
  public double p() {
    return p;
  }

  /** Whether S^(2) was computed (otherwise it reads as 0). */
  public boolean hasSecond() {
    return hasSecond;
  }

  /** κ^(1)_i = (S^(1)_i)^{2/p} as a double (0 or infinity outside the double range). */
  public double kappa1(int i) {
    return power(m1[i], e1[i], 2 / p);
  }

  /** S^(2)_i as a double: κ^(2)_i for p = 2 (0 or infinity outside the double range). */
  public double second(int i) {
    return hasSecond ? Math.scalb(m2[i], clampExp(e2[i])) : 0;
  }

  /** κ_i as a double: (S^(1)_i + S^(2)_i)^{2/p} when {@code withSecond}, else κ^(1)_i. */
  public double kappa(int i, boolean withSecond) {
    if (!withSecond || !hasSecond) {
      return kappa1(i);
    }
    return power(sumMant(i), sumExp(i), 2 / p);
  }

  /** log₂ κ_i, finite where κ_i leaves the double range (−∞ for κ_i = 0). */
  public double log2Kappa(int i, boolean withSecond) {
    boolean both = withSecond && hasSecond;
    double m = both ? sumMant(i) : m1[i];
    int e = both ? sumExp(i) : e1[i];
    return m == 0 ? Double.NEGATIVE_INFINITY : 2 / p * (Math.log(m) / Math.log(2) + e);
  }

  /**
   * g / κ_i, formed in extended range (κ_i itself may lie outside the double range); {@code floor} > 0 replaces a
   * κ_i below it (then the result is g / floor). κ_i = 0 with floor 0 gives 0 (no step on a coordinate no path
   * crosses).
   */
  public double divide(double g, int i, boolean withSecond, double floor) {
    double m;
    int e;
    if (withSecond && hasSecond) {
      m = sumMant(i);
      e = sumExp(i);
    } else {
      m = m1[i];
      e = e1[i];
    }
    double q = 2 / p;
    double k = power(m, e, q);
    if (floor > 0 && k < floor) {
      return g / floor;
    }
    if (m == 0) {
      return 0;
    }
    if (q == 1) {
      return Math.scalb(g / m, clampExp(-(long) e));
    }
    double lg = Math.log(m) / Math.log(2) + e; // log2 S
    double l = -q * lg;
    double fl = Math.floor(l);
    return Math.scalb(g * Math.pow(2, l - fl), clampExp((long) fl));
  }

  /**
   * ‖κ^(2)‖₂ / ‖κ^(1)‖₂ over the entries of W_rec (p = 2), the share of the cross term the paper asks about; 0 when
   * S^(2) was not computed.
   */
  public double ratioOnRec() {
    if (!hasSecond) {
      return 0;
    }
    int from = layout.wRec();
    int to = layout.b();
    return Math.sqrt(sumSquares(m2, e2, from, to, maxExp(m2, e2, from, to))
        / sumSquares(m1, e1, from, to, maxExp(m1, e1, from, to)))
        * Math.pow(2, (double) maxExp(m2, e2, from, to) - maxExp(m1, e1, from, to));
  }

  private static int maxExp(double[] m, int[] e, int from, int to) {
    int x = Integer.MIN_VALUE / 4;
    for (int i = from; i < to; i++) {
      if (m[i] != 0) {
        x = Math.max(x, e[i]);
      }
    }
    return x;
  }

  private static double sumSquares(double[] m, int[] e, int from, int to, int emax) {
    double s = 0;
    for (int i = from; i < to; i++) {
      double v = Math.scalb(m[i], clampExp((long) e[i] - emax));
      s += v * v;
    }
    return s;
  }

  /** The exponent of S^(1)_i + S^(2)_i as {@link #sumMant} scales it. */
  private int sumExp(int i) {
    if (m2[i] == 0) {
      return e1[i];
    }
    if (m1[i] == 0) {
      return e2[i];
    }
    return Math.max(e1[i], e2[i]);
  }

  /** The mantissa of S^(1)_i + S^(2)_i against {@link #sumExp}. */
  private double sumMant(int i) {
    int e = sumExp(i);
    double s = m1[i] == 0 ? 0 : Math.scalb(m1[i], clampExp((long) e1[i] - e));
    return m2[i] == 0 ? s : s + Math.scalb(m2[i], clampExp((long) e2[i] - e));
  }

  /** (m·2^e)^q as a double. */
  static double power(double m, int e, double q) {
    if (m == 0) {
      return 0;
    }
    if (q == 1) {
      return Math.scalb(m, clampExp(e));
    }
    double direct = Math.scalb(m, clampExp(e));
    if (direct > Double.MIN_NORMAL && !Double.isInfinite(direct)) {
      return Math.pow(direct, q);
    }
    double l = q * (Math.log(m) / Math.log(2) + e);
    double fl = Math.floor(l);
    return Math.scalb(Math.pow(2, l - fl), clampExp((long) fl));
  }

  /** An exponent for {@link Math#scalb}: beyond ±2200 the result is 0 or infinity anyway. */
  static int clampExp(long e) {
    return (int) Math.max(-2200, Math.min(2200, e));
  }

  /** Stores S at i as a normalized mantissa in [1, 2) (or 0) and exponent. */
  static void put(double[] m, int[] e, int i, double mant, long exp) {
    if (mant == 0 || !Double.isFinite(mant)) {
      m[i] = mant;
      e[i] = 0;
      return;
    }
    int x = Math.getExponent(mant);
    if (x < Double.MIN_EXPONENT) {
      x = Math.getExponent(mant * 0x1p60) - 60;
    }
    m[i] = Math.scalb(mant, -x);
    e[i] = (int) (exp + x);
  }
}
