package io.github.pathsgd.core.geometry;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The p = 2 row kernel of Path-SGD's κ with SIMD (the JDK's incubating Vector API), in double: it reads the weights
 * straight from their direct buffer (no copy), widens each to double (so its square is exact), and does the squares,
 * the γ_out accumulation and the γ_in dot product in one pass of vector instructions, every sum in double. Double is
 * what makes κ commute bit for bit with a power-of-two rescaling of the network (docs/paper-spec.md §2.8): a float
 * pass cannot hold the squared weights of a unit rescaled by 2^±61 or more, and a pass whose precision depended on
 * the range gave equivalent networks κ that differed in the last bit.
 *
 * <p>Rows are taken two at a time: each load of {@code a} and each load and store of {@code acc} then serves two
 * rows, and every row keeps two independent dot accumulators, so the loop is not bound by the FMA latency.
 *
 * <p>Used only when the JVM runs with {@code --add-modules jdk.incubator.vector} (the {@code pathsgd} launcher and the
 * test runner do); otherwise {@link KappaPass} uses its scalar loop, which computes the same values up to double
 * rounding. Nothing outside {@link KappaPass} touches this class, so without the module it is never loaded.
 */
final class VectorKappa {
  private static final ByteOrder NATIVE = ByteOrder.nativeOrder();
  /** Doubles of the preferred shape, and floats of half that shape: as many float lanes as double lanes. */
  private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
  private static final VectorSpecies<Float> H = VectorSpecies.of(float.class,
      VectorShape.forBitSize(Math.max(64, D.vectorBitSize() / 2)));

  private VectorKappa() {}

  /** Whether the double kernel has its vector form (a float lane per double lane); else {@link KappaPass} loops. */
  static boolean doubleKernel() {
    return H.length() == D.length();
  }

  /**
   * The double p = 2 kernel over rows [from, to) of W (row-major, {@code in} floats per row, at float {@code wOff} of
   * {@code w}): {@code dot[o] = Σ_i w[o,i]² a[i]} and, when {@code g} is not null, {@code acc[i] += Σ_o w[o,i]² g[o]},
   * each w widened to double (w² is exact) and every sum in double, in a fixed order. Two rows at a time, two dot
   * accumulators per row, as {@link #rows}.
   */
  static void rowsDouble(ByteBuffer w, int wOff, int in, int from, int to, double[] a, double[] g, double[] dot,
      double[] acc) {
    int lanes = D.length();
    int bound = in - in % lanes;
    int bound2 = in - in % (2 * lanes);
    int o = from;
    for (; o + 1 < to; o += 2) {
      int r0 = 4 * (wOff + o * in);
      int r1 = r0 + 4 * in;
      double go0 = g == null ? 0 : g[o];
      double go1 = g == null ? 0 : g[o + 1];
      DoubleVector g0 = DoubleVector.broadcast(D, go0);
      DoubleVector g1 = DoubleVector.broadcast(D, go1);
      DoubleVector s0 = DoubleVector.zero(D);
      DoubleVector s1 = s0;
      DoubleVector t0 = s0;
      DoubleVector t1 = s0;
      int i = 0;
      for (; i < bound2; i += 2 * lanes) {
        DoubleVector x0 = widen(w, r0 + 4 * i);
        DoubleVector x1 = widen(w, r1 + 4 * i);
        DoubleVector y0 = widen(w, r0 + 4 * (i + lanes));
        DoubleVector y1 = widen(w, r1 + 4 * (i + lanes));
        x0 = x0.mul(x0);
        x1 = x1.mul(x1);
        y0 = y0.mul(y0);
        y1 = y1.mul(y1);
        DoubleVector av = DoubleVector.fromArray(D, a, i);
        DoubleVector bv = DoubleVector.fromArray(D, a, i + lanes);
        s0 = x0.fma(av, s0);
        t0 = x1.fma(av, t0);
        s1 = y0.fma(bv, s1);
        t1 = y1.fma(bv, t1);
        if (g != null) {
          x1.fma(g1, x0.fma(g0, DoubleVector.fromArray(D, acc, i))).intoArray(acc, i);
          y1.fma(g1, y0.fma(g0, DoubleVector.fromArray(D, acc, i + lanes))).intoArray(acc, i + lanes);
        }
      }
      for (; i < bound; i += lanes) {
        DoubleVector x0 = widen(w, r0 + 4 * i);
        DoubleVector x1 = widen(w, r1 + 4 * i);
        x0 = x0.mul(x0);
        x1 = x1.mul(x1);
        DoubleVector av = DoubleVector.fromArray(D, a, i);
        s0 = x0.fma(av, s0);
        t0 = x1.fma(av, t0);
        if (g != null) {
          x1.fma(g1, x0.fma(g0, DoubleVector.fromArray(D, acc, i))).intoArray(acc, i);
        }
      }
      double d0 = s0.add(s1).reduceLanes(VectorOperators.ADD);
      double d1 = t0.add(t1).reduceLanes(VectorOperators.ADD);
      for (; i < in; i++) {
        double q0 = w.getFloat(r0 + 4 * i);
        double q1 = w.getFloat(r1 + 4 * i);
        q0 *= q0;
        q1 *= q1;
        d0 = Math.fma(q0, a[i], d0);
        d1 = Math.fma(q1, a[i], d1);
        if (g != null) {
          acc[i] = Math.fma(q1, go1, Math.fma(q0, go0, acc[i]));
        }
      }
      dot[o] = d0;
      dot[o + 1] = d1;
    }
    if (o < to) {
      int r0 = 4 * (wOff + o * in);
      double go = g == null ? 0 : g[o];
      DoubleVector gov = DoubleVector.broadcast(D, go);
      DoubleVector sum = DoubleVector.zero(D);
      int i = 0;
      for (; i < bound; i += lanes) {
        DoubleVector x = widen(w, r0 + 4 * i);
        DoubleVector sq = x.mul(x);
        sum = sq.fma(DoubleVector.fromArray(D, a, i), sum);
        if (g != null) {
          sq.fma(gov, DoubleVector.fromArray(D, acc, i)).intoArray(acc, i);
        }
      }
      double d = sum.reduceLanes(VectorOperators.ADD);
      for (; i < in; i++) {
        double x = w.getFloat(r0 + 4 * i);
        double sq = x * x;
        d = Math.fma(sq, a[i], d);
        if (g != null) {
          acc[i] = Math.fma(sq, go, acc[i]);
        }
      }
      dot[o] = d;
    }
  }

  /** {@code D.length()} floats from byte {@code at} of {@code w}, widened to doubles (exactly). */
  private static DoubleVector widen(ByteBuffer w, int at) {
    return (DoubleVector) FloatVector.fromByteBuffer(H, w, at, NATIVE).convertShape(VectorOperators.F2D, D, 0);
  }
}
