package io.github.pathsgd.core.nn;

import io.github.pathsgd.core.tensor.Tensor;
import java.nio.FloatBuffer;

/**
 * Row and column scaling of the matrices of a {@link DenseChain}: a rank-one scale diag(r)·M·diag(c), and the
 * division of the weights' coordinates by a rank-one matrix κ(W_l) = outer(κ_out(l), κ_in(l)) with a floor (the form
 * of Path-SGD's κ, Neyshabur, Salakhutdinov and Srebro, NIPS 2015, Algorithm 1), llm.c style on flat buffers.
 */
public final class RankOne {
  private RankOne() {}

  /** Whether the SIMD row scaling ({@link VectorScale}) is used: the JVM has the incubating Vector API module. */
  static final boolean VECTOR = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();

  /** Whether s[0..n) are all exactly 1. */
  public static boolean allOnes(double[] s, int n) {
    for (int i = 0; i < n; i++) {
      if (s[i] != 1.0) {
        return false;
      }
    }
    return true;
  }

  /**
   * Scales every row by a vector: {@code out[b, n] = x[b, n] · s[n]}, the product in double and rounded to float
   * once; {@code out} may be {@code x}. s need not be representable in float. The result is exactly scaled under a
   * power-of-two scaling of x or s (unless it falls below the normal float range), whatever the range of s: one
   * rounding rule for every range, so that two networks that differ by a power-of-two rescaling take bit-identical
   * steps. A SIMD pass on the direct buffers when the JVM has the Vector API ({@link VectorScale}); otherwise the
   * matrix goes through {@code tmp} by bulk copies, so the loop runs on arrays; both compute the same values.
   *
   * <pre>
   * x, out are (B, N); s is (N); tmp is scratch of at least B·N floats
   * </pre>
   */
  public static void scaleRowsBy(Tensor x, int B, int N, double[] s, Tensor out, float[] tmp) {
    if (VECTOR && VectorScale.doubleKernel()) {
      VectorScale.scaleRowsDouble(x.bytes(), out.bytes(), B, N, s); // one SIMD pass on the direct buffers
      return;
    }
    FloatBuffer xb = x.buffer();
    FloatBuffer ob = out.buffer();
    int n = B * N;
    xb.get(0, tmp, 0, n); // one bulk copy each way: per-row copies of short rows cost more than the arithmetic
    for (int row = 0; row < n; row += N) {
      scaleRow(tmp, row, s, N);
    }
    ob.put(0, tmp, 0, n);
  }

  private static void scaleRow(float[] t, int off, double[] s, int n) {
    for (int i = 0; i < n; i++) {
      t[off + i] = (float) (t[off + i] * s[i]);
    }
  }

  /**
   * u ← u ⊘ max(κ, floor) with κ(W_l)[o, i] = kout[o]·kin[i] and κ(b_l)[o] = kout[o] (the factors of layer l at the
   * running offsets Σ_{j&lt;l} in(j) and Σ_{j&lt;l} out(j)), the products formed in double and rounded once. A layer
   * marked {@code regular[l]} (no coordinate needs the floor, every factor representable) takes the fast path
   * u[o, i] · ((1/κ_out[o]) · (1/κ_in[i])) with the inverses {@code koutInv}, {@code kinInv}.
   *
   * @param row scratch of at least the widest in(l) floats
   * @param col scratch of at least the widest in(l) doubles
   * @return the number of coordinates that were clamped (κ below the floor), that have κ = 0 after the floor (their
   *     update is set to 0: κ = 0 means a unit with no path through it, whose gradient is 0 too), or whose κ or
   *     update cannot be represented (not finite)
   */
  public static long divide(DenseChain lay, FloatBuffer ub, double[] kout, double[] kin, double[] koutInv,
      double[] kinInv, boolean[] regular, double floor, float[] row, double[] col) {
    long clamped = 0;
    int io = 0;
    int oo = 0;
    for (int l = 0, L = lay.layers(); l < L; l++) {
      int in = lay.in(l);
      int out = lay.out(l);
      int wOff = lay.weightOffset(l);
      int bOff = lay.biasOffset(l);
      if (regular[l]) {
        // fast path, nothing clamped: u[o, i] *= (1/κ_out[o]) · (1/κ_in[i]), the product in double
        System.arraycopy(kinInv, io, col, 0, in);
        for (int o = 0; o < out; o++) {
          double r = koutInv[oo + o];
          int off = wOff + o * in;
          ub.get(off, row, 0, in);
          long bad = 0;
          for (int i = 0; i < in; i++) {
            float v = (float) (row[i] * (r * col[i]));
            bad += Float.isInfinite(v) && Float.isFinite(row[i]) ? 1 : 0;
            row[i] = v;
          }
          clamped += bad;
          ub.put(off, row, 0, in);
        }
      } else {
        for (int o = 0; o < out; o++) {
          double ko = kout[oo + o];
          int off = wOff + o * in;
          ub.get(off, row, 0, in);
          for (int i = 0; i < in; i++) {
            double k = ko * kin[io + i];
            float g = row[i];
            row[i] = divideOne(g, k, floor);
            clamped += clamped(g, k, floor, row[i]);
          }
          ub.put(off, row, 0, in);
        }
      }
      for (int o = 0; o < out; o++) {
        float g = ub.get(bOff + o);
        float v = divideOne(g, kout[oo + o], floor);
        ub.put(bOff + o, v);
        clamped += clamped(g, kout[oo + o], floor, v);
      }
      io += in;
      oo += out;
    }
    return clamped;
  }

  /** g / max(κ, floor) rounded to float; 0 when that κ is 0 or not finite (no path through the coordinate). */
  private static float divideOne(float g, double k, double floor) {
    double f = Math.max(k, floor);
    return f > 0 && f < Double.POSITIVE_INFINITY ? (float) (g / f) : 0f; // NaN κ: 0 too
  }

  /** 1 when {@link #divideOne}(g, k, floor) = v clamped κ, set the update to 0, or overflowed to infinity; else 0. */
  private static int clamped(float g, double k, double floor, float v) {
    double f = Math.max(k, floor);
    boolean c = !(k >= floor) || !(f > 0 && f < Double.POSITIVE_INFINITY) || Float.isInfinite(v) && Float.isFinite(g);
    return c ? 1 : 0;
  }
}
