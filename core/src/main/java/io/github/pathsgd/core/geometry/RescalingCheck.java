package io.github.pathsgd.core.geometry;

/**
 * The checks and refusals that {@link Rescaling} (units of a fully connected {@code LayerNet}) and {@link
 * ChannelRescaling} (channels of any {@code LayerNet}) share, each rule and each message written once: a factor that is not positive and finite, the
 * largest factor and its phrase, the range rule (overflow, underflow) with its counts, the equivalence of the outputs
 * within {@link Rescaling#RELATIVE_TOLERANCE}, the problem line, the {@link Rescaling.Verification} and the {@link
 * Rescaling.Refused} of an unbalanced initialization. The two {@code verify} methods differ only in how they walk
 * their parameters and how they name a unit or a weight.
 *
 * <p>One instance per verification, used in this order: {@link #largest(double[][], int[])} over the factors, {@link
 * #count} for every weight and bias in the order that defines the first offending one (which the caller names with
 * {@link #first(String, float, float, String)}), then {@link #verification} on the outputs of the two networks.
 */
final class RescalingCheck {
  /** The row (hidden layer) of the largest factor; 0 if there is none. */
  int layer;

  /** Its unit or channel; −1 if there is none. */
  int unit = -1;

  /** The largest factor; 1 if there is none. */
  double factor = 1;

  /** Weights and biases that are ±∞ or NaN in the rescaled network where the original's are finite. */
  int overflows;

  /** Weights and biases non-zero in the original that became 0, or subnormal where the original's is normal. */
  int underflows;

  /** The first offending weight or bias, as {@link #first(String, float, float, String)} names it; null while none. */
  String first;

  /**
   * Finds the largest factor over the first {@code widths[k]} entries of each row {@code f[k]} (a row of width 0 is
   * not read, so it may be null), rows in order and entries in order: the first entry, then any larger one; a NaN
   * always replaces it (so the last NaN wins, and a NaN factor is what the message names).
   */
  void largest(double[][] f, int[] widths) {
    for (int k = 0; k < widths.length; k++) {
      for (int i = 0; i < widths[k]; i++) {
        double s = f[k][i];
        if (unit < 0 || s > factor || Double.isNaN(s)) {
          layer = k;
          unit = i;
          factor = s;
        }
      }
    }
  }

  /** "largest factor F at {@code where}", {@code where} naming the hidden layer and unit or channel found. */
  String largestAt(String where) {
    return "largest factor " + sci(factor) + " at " + where;
  }

  /**
   * Counts one weight or bias, {@code w} in the original and {@code r} in the rescaled network: an overflow if w is
   * finite and r is not (±∞ or NaN); else an underflow if w ≠ 0 and r is 0, or r is subnormal (|r| &lt; 2^-126,
   * {@link Float#MIN_NORMAL}) where w is normal. Returns true if it is the first that did either; the caller then
   * names it with {@link #first(String, float, float, String)}.
   */
  boolean count(float w, float r) {
    if (Float.isFinite(w) && !Float.isFinite(r)) {
      overflows++;
    } else if (w != 0 && (r == 0 || (Math.abs(r) < Float.MIN_NORMAL && Math.abs(w) >= Float.MIN_NORMAL))) {
      underflows++;
    } else {
      return false;
    }
    return overflows + underflows == 1;
  }

  /** Names the first offending weight or bias: "{@code where} w -&gt; r{@code after}". */
  void first(String where, float w, float r, String after) {
    first = where + " " + sci(w) + " -> " + sci(r) + after;
  }

  /**
   * The verification of the counts so far and of the outputs {@code fa} of the original and {@code fb} of the
   * rescaled network on the same B rows: d = max |fa − fb| (NaN if any difference is) must satisfy d ≤ {@link
   * Rescaling#RELATIVE_TOLERANCE}·m + ulp(m), m = max |fa|, ulp float32's at m. The problem names the counts and the
   * first offending weight or bias if there are any, else the difference and the tolerance if d fails; either ends
   * with {@code largest}, the phrase of the largest factor.
   */
  Rescaling.Verification verification(float[] fa, float[] fb, int B, String largest) {
    double m = 0;
    double d = 0;
    for (int i = 0; i < fa.length; i++) {
      m = Math.max(m, Math.abs((double) fa[i]));
      double e = Math.abs((double) fa[i] - fb[i]);
      d = Double.isNaN(e) || Double.isNaN(d) ? Double.NaN : Math.max(d, e);
    }
    double tol = Rescaling.RELATIVE_TOLERANCE * m + Math.ulp((float) m);

    String problem = null;
    if (overflows > 0 || underflows > 0) {
      String counts = overflows > 0 ? overflows + " weights/biases overflow to infinity"
          + (underflows > 0 ? ", " + underflows + " underflow to zero or a subnormal float" : "")
          : underflows + " weights/biases underflow to zero or a subnormal float";
      problem = counts + " (first: " + first + "); " + largest;
    } else if (!(d <= tol)) {
      problem = "the outputs on " + B + " random inputs differ by " + sci(d) + ", beyond the tolerance " + sci(tol)
          + " (" + Rescaling.RELATIVE_TOLERANCE + " of the largest |output| " + sci(m) + "); " + largest;
    }
    return new Rescaling.Verification(overflows, underflows, d, tol, layer, unit, factor, problem);
  }

  /** Refuses two networks of different shapes (their layouts {@code a} and {@code b}) before comparing them. */
  static void sameShape(Object a, Object b) {
    if (!a.equals(b)) {
      throw new IllegalArgumentException("networks of different shapes: " + a + " vs " + b);
    }
  }

  /** Whether a factor, or a product of factors, is a positive finite double and so can be applied. */
  static boolean positiveFinite(double c) {
    return c > 0 && !Double.isInfinite(c);
  }

  /** Refuses a factor that is not positive and finite. */
  static void checkFactor(double c) {
    if (!positiveFinite(c)) {
      throw new IllegalArgumentException("rescaling factor must be positive and finite, got " + c);
    }
  }

  /** The start of every refusal of an unbalanced initialization: "unbalanced rescaling (options) refused: ". */
  static String refused(Unbalance opts) {
    return "unbalanced rescaling (" + opts.describe() + ") refused: ";
  }

  /** The refusal of an unbalanced initialization whose result failed {@code v}: its problem and its largest factor. */
  static Rescaling.Refused refused(Unbalance opts, Rescaling.Verification v) {
    return new Rescaling.Refused(refused(opts) + v.problem(), v.layer(), v.unit(), v.largestFactor());
  }

  /** A number in messages: three significant digits, {@code %.3g}. */
  static String sci(double v) {
    return String.format(java.util.Locale.ROOT, "%.3g", v);
  }
}
