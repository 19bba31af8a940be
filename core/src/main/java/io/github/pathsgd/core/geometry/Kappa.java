package io.github.pathsgd.core.geometry;

import io.github.pathsgd.core.nn.Dense;
import io.github.pathsgd.core.nn.DenseChain;
import io.github.pathsgd.core.nn.Layer;
import io.github.pathsgd.core.tensor.Tensor;
import java.nio.FloatBuffer;
import java.util.List;

/**
 * Path-SGD's path scale κ as rank-one factors, and the sweep schedule that computes them (Neyshabur, Salakhutdinov and
 * Srebro, "Path-SGD: Path-Normalized Optimization in Deep Neural Networks", NIPS 2015, §4, Algorithm 1; chapter
 * arXiv:1705.03071; docs/paper-spec.md §2.8). This is the one statement of κ's formula, which every other class links
 * to:
 *
 * <pre>
 *   κ_{u→v} = ( γ_in(u) · γ_out(v) )^{2/p},   κ(b_v) = γ_out(v)^{2/p},   κ(W_l) = outer(κ_out(l), κ_in(l))
 *   κ(w)    = ( Σ_{(u→v) tied to w} γ_in(u) · γ_out(v) )^{2/p}   for a weight shared by several edges (a convolution)
 * </pre>
 *
 * (the shared-weight form: Neyshabur, Wu, Salakhutdinov and Srebro, NIPS 2016). On a graph the γ are those of the
 * nodes at the two ends of the edge ({@link PathSweep}); a fixed edge (a residual skip, a ReLU) has no κ. For p = 2, κ
 * is the diagonal of the Hessian of ½φ₂².
 *
 * with γ_in, γ_out the path quantities of {@link PathNorms} over |w|^p (one forward and one backward sweep). κ_in of
 * layer l's inputs sits at {@link #inOffset} in a vector of Σ_{l&lt;L} n_l entries, κ_out of its outputs at {@link
 * #outOffset} in one of Σ_{l&lt;L} n_{l+1}; κ_in of a network input is 1.
 *
 * <p>Range. Under a node-wise rescaling by c_v, γ_in(v) scales by c_v^p and γ_out(v) by c_v^{-p}, so a rescaled network
 * whose weights are all finite float32 numbers can still have γ and κ far outside the float range. Every γ is
 * therefore kept in double, and the factors are stored as a float mantissa and an integer exponent ({@link #encode}:
 * κ = m·2^e). Every pass runs in double: the p = 2 pass ({@link KappaPass}) widens each float weight to double (its
 * square is exact) and accumulates in double, with SIMD when available ({@code auto = true}, the default) or in the
 * scalar reference loop ({@code auto = false}); other p run in double loops. No precision is chosen by range, so a
 * power-of-two rescaling of units (factors 2^k, as long as no double overflows or underflows: |k| up to several
 * hundred for networks of ordinary depth) changes nothing but exponents, bit for bit, on every path: together with
 * the fused step's row and column scales ({@link io.github.pathsgd.core.nn.RankOne#scaleRowsBy}, formed in double and
 * rounded once), a Path-SGD step from a rescaled network, mapped back, is bit-identical to the step from the original
 * (p = 1, 2, 3, momentum or not, fused or not; {@code PowerOfTwoRescalingBitExactTest}), unless an update falls below
 * the normal float range. {@link #materialize} is the double reference (the oracle of the tests), through the layers'
 * own κ ({@link Layer#kappa}).
 *
 * <p>The largest middle layer is read once for both sweeps: the forward sweep stops below it, the backward sweep above
 * it, that layer computes γ_in(m+1) and γ_out(m) in one pass, and both sweeps continue. An instance may serve several
 * workspaces; a workspace is used by one thread at a time.
 */
public final class Kappa {
  private final double p;
  private final boolean includeBiases;
  private final boolean auto;
  private final double absoluteFloor;
  private final double relativeFloor;

  /**
   * @param p the path-norm exponent, ≥ 1
   * @param includeBiases whether γ_in(v) includes |b_v|^p
   * @param auto the p = 2 pass with SIMD (true), or in the scalar reference loop (false); both in double
   * @param absoluteFloor the floor is max(absoluteFloor, relativeFloor·κ_max)
   * @param relativeFloor see {@code absoluteFloor}
   */
  public Kappa(double p, boolean includeBiases, boolean auto, double absoluteFloor, double relativeFloor) {
    this.p = p;
    this.includeBiases = includeBiases;
    this.auto = auto;
    this.absoluteFloor = absoluteFloor;
    this.relativeFloor = relativeFloor;
  }

  /** Working memory for networks of this layout. */
  public KappaWorkspace workspace(DenseChain layout) {
    return new KappaWorkspace(layout);
  }

  /** Offset of layer l's input factors: Σ_{j&lt;l} n_j. */
  public static int inOffset(DenseChain layout, int l) {
    int s = 0;
    for (int j = 0; j < l; j++) {
      s += layout.width(j);
    }
    return s;
  }

  /** Offset of layer l's output factors: Σ_{j&lt;l} n_{j+1}. */
  public static int outOffset(DenseChain layout, int l) {
    int s = 0;
    for (int j = 0; j < l; j++) {
      s += layout.width(j + 1);
    }
    return s;
  }

  /**
   * Recomputes κ_in and κ_out of {@code params} into the workspace (in double, and as mantissas and exponents, see
   * {@link KappaWorkspace#mantissasIn}) and returns the floor max(absoluteFloor, relativeFloor·κ_max), κ_max being the
   * largest κ of any coordinate (weights and biases).
   */
  public double compute(DenseChain lay, Tensor params, KappaWorkspace sc) {
    sc.doubleLayers = 0;
    sc.wBytes = params.bytes();
    FloatBuffer w = params.buffer();
    int L = lay.layers();
    int mode = p == 2 ? 2 : p == 1 ? 1 : 0;
    // γ_in flows forward (layers 0..L-2), γ_out backward (layers L-1..1). Every middle layer is needed by both
    // sweeps; the largest one (m) is read once for both: the forward sweep stops below m, the backward sweep stops
    // above m, layer m computes γ_in(m+1) and γ_out(m) in one pass, and then both sweeps continue.
    int m = -1;
    for (int l = 1; l < L - 1; l++) {
      if (m < 0 || lay.weightSize(l) > lay.weightSize(m)) {
        m = l;
      }
    }
    java.util.Arrays.fill(sc.gin[0], 1.0);
    java.util.Arrays.fill(sc.gout[L], 1.0);
    int fwdStop = m < 0 ? L - 1 : m;
    for (int l = 0; l < fwdStop; l++) {
      forwardLayer(lay, w, l, sc, p, mode);
    }
    for (int l = L - 1; l >= 1 && (m < 0 || l > m); l--) {
      backwardLayer(lay, w, l, sc, p, mode);
    }
    if (m >= 0) {
      bothLayer(lay, w, m, sc, p, mode);
      for (int l = m + 1; l < L - 1; l++) {
        forwardLayer(lay, w, l, sc, p, mode);
      }
      for (int l = m - 1; l >= 1; l--) {
        backwardLayer(lay, w, l, sc, p, mode);
      }
    }
    // factors γ^{2/p} in double, stored as mantissa and exponent (bulk copies), and the floor
    double e = 2.0 / p;
    double kmax = 0;
    int n0 = lay.inputs();
    for (int l = 0; l < L; l++) {
      int io = inOffset(lay, l);
      double maxIn = 0;
      double[] g = sc.gin[l];
      for (int i = l == 0 ? n0 : 0, n = lay.in(l); i < n; i++) { // κ_in of the inputs is 1, set once
        double k = mode == 2 ? g[i] : Math.pow(g[i], e);
        sc.kin[io + i] = encode(k, sc.mIn, sc.eIn, io + i);
        maxIn = Math.max(maxIn, k);
      }
      int oo = outOffset(lay, l);
      double maxOut = 0;
      double[] h = sc.gout[l + 1];
      for (int o = 0, n = lay.out(l); o < n; o++) {
        double k = mode == 2 ? h[o] : Math.pow(h[o], e);
        sc.kout[oo + o] = encode(k, sc.mOut, sc.eOut, oo + o);
        maxOut = Math.max(maxOut, k);
      }
      kmax = Math.max(kmax, Math.max(maxOut * maxIn, maxOut));
    }
    return Math.max(absoluteFloor, relativeFloor * kmax);
  }

  /**
   * Loads stored factors (mantissas {@code mIn}, {@code mOut} and exponents {@code eIn}, {@code eOut}) into the
   * workspace's double factors: the factors a restore or a rescaling may have changed since the last recomputation.
   */
  public static void load(FloatBuffer mIn, FloatBuffer eIn, FloatBuffer mOut, FloatBuffer eOut, KappaWorkspace sc) {
    decodeAll(mIn, eIn, sc.mIn, sc.eIn, sc.kin, sc.layout.inputs());
    decodeAll(mOut, eOut, sc.mOut, sc.eOut, sc.kout, 0);
  }

  /**
   * The inverses 1/κ_in, 1/κ_out and each layer's least and largest factors, from the workspace's double factors; and
   * {@link #regular} of every layer for {@code floor}.
   */
  public static void ranges(KappaWorkspace sc, double floor) {
    DenseChain lay = sc.layout;
    int io = 0;
    int oo = 0;
    for (int l = 0, L = lay.layers(); l < L; l++) {
      int in = lay.in(l);
      int out = lay.out(l);
      if (l > 0) { // layer 0: the inputs' κ_in = 1, set when the workspace was made
        stats(sc.kin, sc.kinInv, io, io + in, sc.stat);
        sc.kinMin[l] = sc.stat[0];
        sc.kinMax[l] = sc.stat[1];
      }
      stats(sc.kout, sc.koutInv, oo, oo + out, sc.stat);
      sc.koutMin[l] = sc.stat[0];
      sc.koutMax[l] = sc.stat[1];
      io += in;
      oo += out;
    }
    for (int l = 0, L = lay.layers(); l < L; l++) {
      sc.regular[l] = regular(sc, l, floor);
    }
  }

  /** Whether {@link #regular} holds for every layer (as of the last {@link #ranges}). */
  public static boolean allRegular(KappaWorkspace sc) {
    for (boolean r : sc.regular) {
      if (!r) {
        return false;
      }
    }
    return true;
  }

  /** 1/κ_out of layer l's outputs into {@code row} (out(l)), 1/κ_in of its inputs into {@code col} (in(l)). */
  public static void inverses(KappaWorkspace sc, int l, double[] row, double[] col) {
    DenseChain lay = sc.layout;
    System.arraycopy(sc.kinInv, inOffset(lay, l), col, 0, lay.in(l));
    System.arraycopy(sc.koutInv, outOffset(lay, l), row, 0, lay.out(l));
  }

  /**
   * u ← u ⊘ max(κ, floor) with the workspace's factors ({@link io.github.pathsgd.core.nn.RankOne#divide}); returns
   * the number of clamped or unrepresentable coordinates.
   */
  public static long divide(KappaWorkspace sc, FloatBuffer u, double floor) {
    return io.github.pathsgd.core.nn.RankOne.divide(sc.layout, u, sc.kout, sc.kin, sc.koutInv, sc.kinInv, sc.regular,
        floor, sc.row, sc.colD);
  }

  /**
   * Whether layer l needs no floor and every factor of it can be represented: κ_in·κ_out ≥ floor and κ_out ≥ floor
   * (κ of a bias), all κ positive and finite, and 1/κ_in, 1/κ_out and their products finite and non-zero in double.
   */
  public static boolean regular(KappaWorkspace sc, int l, double floor) {
    double minIn = sc.kinMin[l];
    double maxIn = sc.kinMax[l];
    double minOut = sc.koutMin[l];
    double maxOut = sc.koutMax[l];
    // NaN fails every comparison
    return minIn * minOut >= floor && minOut >= floor && minIn > 0 && minOut > 0 && maxIn < Double.POSITIVE_INFINITY
        && maxOut < Double.POSITIVE_INFINITY && (1 / minIn) * (1 / minOut) < Double.POSITIVE_INFINITY
        && (1 / maxIn) * (1 / maxOut) > 0;
  }

  /** k[i] = m[i]·2^e[i] for i in [from, k.length), read from the state's buffers. */
  private static void decodeAll(FloatBuffer mb, FloatBuffer eb, float[] m, float[] e, double[] k, int from) {
    mb.get(from, m, from, k.length - from);
    eb.get(from, e, from, k.length - from);
    for (int i = from; i < k.length; i++) {
      k[i] = m[i] * pow2((int) e[i]);
    }
  }

  /** inv[i] = 1/k[i] over [from, to); out[0], out[1] = the least and the largest k there (NaN if any k is NaN). */
  private static void stats(double[] k, double[] inv, int from, int to, double[] out) {
    double mn = Double.POSITIVE_INFINITY;
    double mx = 0;
    for (int i = from; i < to; i++) {
      double x = k[i];
      inv[i] = 1.0 / x;
      mn = Math.min(mn, x);
      mx = Math.max(mx, x);
    }
    out[0] = mn;
    out[1] = mx;
  }

  /** Multiplies entry {@code i} of a stored factor (m·2^e) by {@code factor} in double, keeping the form. */
  public static void scale(FloatBuffer m, FloatBuffer e, int i, double factor) {
    encode(decode(m, e, i) * factor, m, e, i);
  }

  /**
   * Stores k ≥ 0 as a float mantissa in [1, 2] and an integer exponent (k = m·2^e); 0, infinity and NaN are stored as
   * the mantissa with exponent 0. Exact under power-of-two scaling of k: only the mantissa is rounded. Returns the
   * stored value m·2^e.
   */
  public static double encode(double k, FloatBuffer m, FloatBuffer e, int i) {
    int x = exponentOf(k);
    float mf = mantissaOf(k, x);
    m.put(i, mf);
    e.put(i, x);
    return mf * pow2(x);
  }

  /** {@link #encode(double, FloatBuffer, FloatBuffer, int)} into arrays; returns the stored value m·2^e. */
  static double encode(double k, float[] m, float[] e, int i) {
    int x = exponentOf(k);
    float mf = mantissaOf(k, x);
    m[i] = mf;
    e[i] = x;
    return mf * pow2(x);
  }

  /** The stored binary exponent of k: that of a normal or subnormal double, 0 for 0, infinity and NaN. */
  private static int exponentOf(double k) {
    return k == 0 || !Double.isFinite(k) ? 0 : Math.max(Double.MIN_EXPONENT, Math.getExponent(k));
  }

  /** k·2^-x rounded once to float: exact scaling (by {@code scalb} for x = 1023, where 2^-x is subnormal). */
  private static float mantissaOf(double k, int x) {
    return (float) (x > 1022 ? Math.scalb(k, -x) : k * pow2(-x));
  }

  public static double decode(FloatBuffer m, FloatBuffer e, int i) {
    return m.get(i) * pow2((int) e.get(i));
  }

  /** 2^e for e in [−1022, 1023], exactly. */
  public static double pow2(int e) {
    return Double.longBitsToDouble((long) (e + Double.MAX_EXPONENT) << 52);
  }

  /**
   * κ of every coordinate, materialized (parameter layout), in double precision via {@link PathNorms} and each layer's
   * {@link Layer#kappa}: the reference the fast factors are tested against. For inspection and tests only; the
   * optimizer never builds this vector. No floor is applied.
   */
  public static double[] materialize(DenseChain layout, Tensor params, double p, boolean includeBiases) {
    double[][] gin = PathNorms.gammaIn(layout, params, p, includeBiases);
    double[][] gout = PathNorms.gammaOut(layout, params, p);
    double[] k = new double[layout.size()];
    List<Dense> layers = List.of(Dense.of(layout));
    for (int l = 0; l < layers.size(); l++) {
      layers.get(l).kappa(gin[l], gout[l + 1], p, k);
    }
    return k;
  }

  /** γ_in(l+1) = |W_l|^p γ_in(l) (+ |b_l|^p); for p = 2 with SIMD, on several threads for large layers. */
  private void forwardLayer(DenseChain lay, FloatBuffer w, int l, KappaWorkspace sc, double p, int mode) {
    if (mode == 2) {
      KappaPass.squaredPass(lay, w, l, sc, null, auto, includeBiases);
      return;
    }
    int in = lay.in(l);
    int wOff = lay.weightOffset(l);
    int bOff = lay.biasOffset(l);
    double[] g = sc.gin[l];
    double[] next = sc.gin[l + 1];
    int out = lay.out(l);
    float[] row = sc.row;
    for (int o = 0; o < out; o++) {
      w.get(wOff + o * in, row, 0, in);
      double acc = dotPow(row, g, in, p, mode);
      if (includeBiases) {
        acc += Dense.powAbs(w.get(bOff + o), p);
      }
      next[o] = acc;
    }
  }

  /** γ_out(l) = |W_l|^pᵀ γ_out(l+1). */
  private static void backwardLayer(DenseChain lay, FloatBuffer w, int l, KappaWorkspace sc, double p, int mode) {
    int in = lay.in(l);
    int wOff = lay.weightOffset(l);
    double[] g = sc.gout[l + 1];
    double[] prev = sc.gout[l];
    float[] row = sc.row;
    java.util.Arrays.fill(prev, 0.0);
    for (int o = 0, out = lay.out(l); o < out; o++) {
      w.get(wOff + o * in, row, 0, in);
      if (mode == 2) {
        KappaPass.axpySq(row, g[o], prev, in);
      } else {
        axpyPow(row, g[o], prev, in, p, mode);
      }
    }
  }

  /**
   * Both sweeps of layer l in one read of W_l: γ_in(l+1) and γ_out(l). For p = 2 see {@link KappaPass#squaredPass}
   * (double, SIMD when available); other p run in double loops.
   */
  private void bothLayer(DenseChain lay, FloatBuffer w, int l, KappaWorkspace sc, double p, int mode) {
    double[] g = sc.gout[l + 1];
    if (mode == 2) {
      KappaPass.squaredPass(lay, w, l, sc, g, auto, includeBiases);
      return;
    }
    int in = lay.in(l);
    int wOff = lay.weightOffset(l);
    int bOff = lay.biasOffset(l);
    double[] a = sc.gin[l];
    double[] next = sc.gin[l + 1];
    double[] prev = sc.gout[l];
    float[] row = sc.row;
    java.util.Arrays.fill(prev, 0.0);
    for (int o = 0, out = lay.out(l); o < out; o++) {
      w.get(wOff + o * in, row, 0, in);
      double go = g[o];
      double acc = 0;
      for (int i = 0; i < in; i++) {
        double sq = Dense.powAbs(row[i], p);
        acc += sq * a[i];
        prev[i] += sq * go;
      }
      if (includeBiases) {
        acc += Dense.powAbs(w.get(bOff + o), p);
      }
      next[o] = acc;
    }
  }

  private static double dotPow(float[] w, double[] g, int n, double p, int mode) {
    double a = 0;
    for (int i = 0; i < n; i++) {
      double x = Math.abs((double) w[i]);
      a += (mode == 1 ? x : Dense.powAbs(x, p)) * g[i];
    }
    return a;
  }

  private static void axpyPow(float[] w, double s, double[] y, int n, double p, int mode) {
    for (int i = 0; i < n; i++) {
      double x = Math.abs((double) w[i]);
      y[i] += (mode == 1 ? x : Dense.powAbs(x, p)) * s;
    }
  }
}
