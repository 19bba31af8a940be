package io.github.pathsgd.report;

/**
 * The paired test the verdicts use: Student's t over per-seed differences, one-sided, by the regularized incomplete
 * beta function (Numerical Recipes' continued fraction, Lanczos' log-gamma).
 */
final class Stats {
  private Stats() {}

  /**
   * P(T ≥ t) for Student's t with {@code df} degrees of freedom: 0.5 at t = 0, 0 at t = +∞, 1 at t = −∞. With 1 df it
   * is 1/2 − atan(t)/π; with 2 df, 1/2 − t / (2·√(2 + t²)).
   */
  static double tUpper(double t, int df) {
    if (Double.isNaN(t) || df < 1) {
      return Double.NaN;
    }
    if (t == Double.POSITIVE_INFINITY) {
      return 0;
    }
    if (t == Double.NEGATIVE_INFINITY) {
      return 1;
    }
    double tail = 0.5 * betaRegularized(df / (df + t * t), df / 2.0, 0.5);
    return t >= 0 ? tail : 1 - tail;
  }

  /**
   * The one-sided paired t-test of "mean of d above 0" over the differences {@code d}: P(T ≥ t), t = mean / (sd / √n),
   * n − 1 df. Differences all equal and nonzero give t = ±∞ (p 0 or 1); all 0, or fewer than 2, give NaN.
   */
  static double pairedUpper(double[] d) {
    int n = d.length;
    if (n < 2) {
      return Double.NaN;
    }
    double m = 0;
    for (double x : d) {
      m += x;
    }
    m /= n;
    double ss = 0;
    for (double x : d) {
      ss += (x - m) * (x - m);
    }
    double sd = Math.sqrt(ss / (n - 1));
    // differences equal up to rounding (the same gap on every seed) count as no spread at all
    if (sd <= 1e-12 * Math.abs(m)) {
      return m > 0 ? 0 : m < 0 ? 1 : Double.NaN;
    }
    return tUpper(m / (sd / Math.sqrt(n)), n - 1);
  }

  static double logGamma(double x) {
    double[] c = {76.18009172947146, -86.50532032941677, 24.01409824083091, -1.231739572450155,
        0.1208650973866179e-2, -0.5395239384953e-5};
    double y = x;
    double tmp = x + 5.5;
    tmp -= (x + 0.5) * Math.log(tmp);
    double ser = 1.000000000190015;
    for (double cj : c) {
      ser += cj / ++y;
    }
    return -tmp + Math.log(2.5066282746310005 * ser / x);
  }

  /** I_x(a, b), the regularized incomplete beta function. */
  static double betaRegularized(double x, double a, double b) {
    if (x <= 0) {
      return 0;
    }
    if (x >= 1) {
      return 1;
    }
    double bt = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
    return x < (a + 1) / (a + b + 2) ? bt * betaFraction(x, a, b) / a : 1 - bt * betaFraction(1 - x, b, a) / b;
  }

  private static double betaFraction(double x, double a, double b) {
    double tiny = 1e-300;
    double qab = a + b;
    double qap = a + 1;
    double qam = a - 1;
    double c = 1;
    double d = 1 - qab * x / qap;
    d = 1 / (Math.abs(d) < tiny ? tiny : d);
    double h = d;
    for (int m = 1; m <= 300; m++) {
      int m2 = 2 * m;
      double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
      d = 1 + aa * d;
      d = 1 / (Math.abs(d) < tiny ? tiny : d);
      c = 1 + aa / c;
      c = Math.abs(c) < tiny ? tiny : c;
      h *= d * c;
      aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
      d = 1 + aa * d;
      d = 1 / (Math.abs(d) < tiny ? tiny : d);
      c = 1 + aa / c;
      c = Math.abs(c) < tiny ? tiny : c;
      double del = d * c;
      h *= del;
      if (Math.abs(del - 1) < 1e-15) {
        break;
      }
    }
    return h;
  }
}
