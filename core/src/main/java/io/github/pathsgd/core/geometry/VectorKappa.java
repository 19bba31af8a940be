package io.github.pathsgd.core.geometry;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The p = 2 row kernel of Path-SGD's κ with SIMD (the JDK's incubating Vector API). It reads the weights straight
 * from their direct buffer (no copy) and does the squares, the γ_out accumulation and the γ_in dot product in one
 * pass of vector instructions.
 *
 * <p>Rows are taken two at a time: each load of {@code a} and each load and store of {@code acc} then serves two
 * rows, and every row keeps two independent dot accumulators, so the loop is not bound by the FMA latency. On the
 * project's 2-vCPU AMD EPYC this runs at about 4.8·10⁹ weights/s per thread on cached data (the single-row loop:
 * 3.7·10⁹), which puts the two-thread pass at the memory bandwidth (docs/performance.md).
 *
 * <p>Used only when the JVM runs with {@code --add-modules jdk.incubator.vector} (the {@code pathsgd} launcher and the
 * test runner do); otherwise {@link PathSgd} uses its scalar loops, which compute the same values up to float
 * rounding. Nothing outside {@link PathSgd} touches this class, so without the module it is never loaded.
 */
final class VectorKappa {
  private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
  private static final ByteOrder NATIVE = ByteOrder.nativeOrder();

  private VectorKappa() {}

  /**
   * Rows [from, to) of W (row-major, {@code in} floats per row, starting at float {@code wOff} of {@code w}):
   * {@code dot[o] = Σ_i w[o,i]² a[i]} and, when {@code g} is not null, {@code acc[i] += Σ_o w[o,i]² g[o]}.
   */
  static void rows(ByteBuffer w, int wOff, int in, int from, int to, float[] a, double[] g, double[] dot,
      float[] acc) {
    int o = from;
    for (; o + 1 < to; o += 2) {
      rowPair(w, wOff, in, o, a, g, dot, acc);
    }
    if (o < to) {
      row(w, wOff, in, o, a, g, dot, acc);
    }
  }

  /** Rows o and o + 1. */
  private static void rowPair(ByteBuffer w, int wOff, int in, int o, float[] a, double[] g, double[] dot,
      float[] acc) {
    int lanes = S.length();
    int bound = S.loopBound(in);
    int bound2 = in - in % (2 * lanes);
    int r0 = 4 * (wOff + o * in);
    int r1 = r0 + 4 * in;
    float go0 = g == null ? 0f : (float) g[o];
    float go1 = g == null ? 0f : (float) g[o + 1];
    FloatVector g0 = FloatVector.broadcast(S, go0);
    FloatVector g1 = FloatVector.broadcast(S, go1);
    FloatVector s0 = FloatVector.zero(S);
    FloatVector s1 = s0;
    FloatVector t0 = s0;
    FloatVector t1 = s0;
    int i = 0;
    for (; i < bound2; i += 2 * lanes) {
      FloatVector x0 = FloatVector.fromByteBuffer(S, w, r0 + 4 * i, NATIVE);
      FloatVector x1 = FloatVector.fromByteBuffer(S, w, r1 + 4 * i, NATIVE);
      FloatVector y0 = FloatVector.fromByteBuffer(S, w, r0 + 4 * (i + lanes), NATIVE);
      FloatVector y1 = FloatVector.fromByteBuffer(S, w, r1 + 4 * (i + lanes), NATIVE);
      x0 = x0.mul(x0);
      x1 = x1.mul(x1);
      y0 = y0.mul(y0);
      y1 = y1.mul(y1);
      FloatVector av = FloatVector.fromArray(S, a, i);
      FloatVector bv = FloatVector.fromArray(S, a, i + lanes);
      s0 = x0.fma(av, s0);
      t0 = x1.fma(av, t0);
      s1 = y0.fma(bv, s1);
      t1 = y1.fma(bv, t1);
      if (g != null) {
        x1.fma(g1, x0.fma(g0, FloatVector.fromArray(S, acc, i))).intoArray(acc, i);
        y1.fma(g1, y0.fma(g0, FloatVector.fromArray(S, acc, i + lanes))).intoArray(acc, i + lanes);
      }
    }
    for (; i < bound; i += lanes) {
      FloatVector x0 = FloatVector.fromByteBuffer(S, w, r0 + 4 * i, NATIVE);
      FloatVector x1 = FloatVector.fromByteBuffer(S, w, r1 + 4 * i, NATIVE);
      x0 = x0.mul(x0);
      x1 = x1.mul(x1);
      FloatVector av = FloatVector.fromArray(S, a, i);
      s0 = x0.fma(av, s0);
      t0 = x1.fma(av, t0);
      if (g != null) {
        x1.fma(g1, x0.fma(g0, FloatVector.fromArray(S, acc, i))).intoArray(acc, i);
      }
    }
    double d0 = s0.add(s1).reduceLanes(VectorOperators.ADD);
    double d1 = t0.add(t1).reduceLanes(VectorOperators.ADD);
    for (; i < in; i++) {
      float q0 = w.getFloat(r0 + 4 * i);
      float q1 = w.getFloat(r1 + 4 * i);
      q0 *= q0;
      q1 *= q1;
      d0 += (double) q0 * a[i];
      d1 += (double) q1 * a[i];
      if (g != null) {
        acc[i] += q0 * go0 + q1 * go1;
      }
    }
    dot[o] = d0;
    dot[o + 1] = d1;
  }

  /** A single row o. */
  private static void row(ByteBuffer w, int wOff, int in, int o, float[] a, double[] g, double[] dot,
      float[] acc) {
    int lanes = S.length();
    int bound = S.loopBound(in);
    int r0 = 4 * (wOff + o * in);
    float go = g == null ? 0f : (float) g[o];
    FloatVector gov = FloatVector.broadcast(S, go);
    FloatVector sum = FloatVector.zero(S);
    int i = 0;
    for (; i < bound; i += lanes) {
      FloatVector x = FloatVector.fromByteBuffer(S, w, r0 + 4 * i, NATIVE);
      FloatVector sq = x.mul(x);
      sum = sq.fma(FloatVector.fromArray(S, a, i), sum);
      if (g != null) {
        sq.fma(gov, FloatVector.fromArray(S, acc, i)).intoArray(acc, i);
      }
    }
    double d = sum.reduceLanes(VectorOperators.ADD);
    for (; i < in; i++) {
      float x = w.getFloat(r0 + 4 * i);
      float sq = x * x;
      d += (double) sq * a[i];
      if (g != null) {
        acc[i] += sq * go;
      }
    }
    dot[o] = d;
  }
}
