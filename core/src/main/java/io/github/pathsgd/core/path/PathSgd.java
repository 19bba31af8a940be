package io.github.pathsgd.core.path;

import io.github.pathsgd.core.nn.ParamLayout;
import io.github.pathsgd.core.optim.GradientTransform;
import io.github.pathsgd.core.optim.OptState;
import io.github.pathsgd.core.tensor.Tensor;
import java.nio.FloatBuffer;

/**
 * Path-SGD's path normalization as a {@link GradientTransform} (Neyshabur, Salakhutdinov and Srebro, "Path-SGD:
 * Path-Normalized Optimization in Deep Neural Networks", NIPS 2015, §4, Algorithm 1; chapter arXiv:1705.03071).
 *
 * <p>The update divides every coordinate by its path scale, computed from the current parameters:
 *
 * <pre>
 *   u_e ← u_e / κ_e,   κ_{u→v} = ( γ_in(u) · γ_out(v) )^{2/p},   κ(b_v) = γ_out(v)^{2/p}   (κ = 1 on output biases)
 * </pre>
 *
 * with γ_in, γ_out the path quantities of {@link PathNorms} computed with |w|^p (one forward and one backward
 * matrix-vector sweep with an all-ones vector). Followed by {@code scale(-η)} this is w ← w − η·∇L ⊘ κ, the
 * coordinate-wise steepest descent step w.r.t. the ℓp path regularizer; for p = 2, κ is exactly the diagonal of the
 * Hessian of ½φ_2(w)². The step is exactly invariant under node-wise rescaling (paper-spec §2.8), also with momentum
 * after it.
 *
 * <p>Implementation: κ of a weight matrix has rank one, κ(W_l) = outer(κ_out(l), κ_in(l)) with κ_in = γ_in^{2/p} of
 * the layer's inputs and κ_out = γ_out^{2/p} of its outputs, so u ⊘ κ is a row scale and a column scale; κ is never
 * materialized.
 *
 * <p>Range. Under a node-wise rescaling by c_v, γ_in(v) scales by c_v^p and γ_out(v) by c_v^{-p}, so a rescaled network
 * whose weights are all finite float32 numbers can still have γ and κ far outside the float range (a unit rescaled by
 * 1e20 has κ_in = 1e40 for p = 2). Every γ is therefore kept in double; the factors are stored in the state as a float
 * mantissa and an integer exponent ({@link #KAPPA_IN} with {@link #KAPPA_IN_EXP}, {@link #KAPPA_OUT} with {@link
 * #KAPPA_OUT_EXP}: κ = m·2^e), and the update is formed in double, g·(1/κ_out)·(1/κ_in), so that only the update
 * itself, a number of the size of the weights, is rounded to float. The p = 2 pass reads the weights in float (SIMD
 * when available) with γ_in and γ_out scaled by a power of two into the float range; a layer whose γ span more than
 * the float range, whose squared weights overflow or underflow, or whose sums come out too small to be trusted is
 * recomputed in double ({@code squaredPass}), so κ is right to float rounding for every network whose weights float32
 * can hold. {@link PathSgdOptions.Sweep#DOUBLE} runs every layer in double. A power-of-two rescaling changes nothing
 * but exponents, so it gives bit-identical steps whenever both networks take the same kernel.
 *
 * <p>Scratch is allocated in {@link #init}, so {@code update} does not allocate, except a small job object per pass over
 * a large layer, which several threads share (see {@code squaredPass}: the result is bit-identical for any number of
 * threads). See {@link PathSgdOptions} for the κ floor (state scalar {@code clamped}, which also counts the
 * coordinates whose κ or update cannot be represented) and the "ratio" option. The state scalar {@code
 * kappa_double_layers} is the number of layers whose p = 2 pass ran in double at the last recomputation. An instance
 * may serve several states, but a state must be updated by one thread at a time.
 */
public final class PathSgd implements GradientTransform {
  /**
   * State buffer with the mantissas of κ_in = γ_in^{2/p} of each layer's inputs (layer l at {@link #kappaInOffset});
   * κ_in = mantissa · 2^exponent with the exponents in {@link #KAPPA_IN_EXP}. Read a value with {@link #kappaValue}.
   */
  public static final String KAPPA_IN = "kappa_in";
  /** State buffer with the binary exponents of κ_in (integers, stored as floats); see {@link #KAPPA_IN}. */
  public static final String KAPPA_IN_EXP = "kappa_in_exp";
  /** State buffer with the mantissas of κ_out = γ_out^{2/p} of each layer's outputs (at {@link #kappaOutOffset}). */
  public static final String KAPPA_OUT = "kappa_out";
  /** State buffer with the binary exponents of κ_out; see {@link #KAPPA_OUT}. */
  public static final String KAPPA_OUT_EXP = "kappa_out_exp";

  private final PathSgdOptions opt;

  private PathSgd(PathSgdOptions opt) {
    this.opt = opt;
  }

  /** The Path-SGD normalization u ← u ⊘ κ(params). */
  public static PathSgd normalize(PathSgdOptions options) {
    return new PathSgd(options);
  }

  /** The Path-SGD normalization with the defaults of {@link PathSgdOptions#DEFAULT} and exponent p. */
  public static PathSgd normalize(double p) {
    return new PathSgd(PathSgdOptions.ofP(p));
  }

  public PathSgdOptions options() {
    return opt;
  }

  /** Offset of layer l's input factors in {@link #KAPPA_IN}: Σ_{j&lt;l} n_j. */
  public static int kappaInOffset(ParamLayout layout, int l) {
    int s = 0;
    for (int j = 0; j < l; j++) {
      s += layout.width(j);
    }
    return s;
  }

  /** Offset of layer l's output factors in {@link #KAPPA_OUT}: Σ_{j&lt;l} n_{j+1}. */
  public static int kappaOutOffset(ParamLayout layout, int l) {
    int s = 0;
    for (int j = 0; j < l; j++) {
      s += layout.width(j + 1);
    }
    return s;
  }

  @Override
  public OptState init(ParamLayout layout) {
    OptState s = new OptState(layout);
    int L = layout.layers();
    Tensor mIn = s.addBuffer(KAPPA_IN, new Tensor(kappaInOffset(layout, L)));
    for (int i = 0; i < layout.inputs(); i++) {
      mIn.set(i, 1f); // κ_in of an input unit is 1^{2/p} = 1 (mantissa 1, exponent 0), and stays 1
    }
    s.addBuffer(KAPPA_IN_EXP, new Tensor(kappaInOffset(layout, L)));
    s.addBuffer(KAPPA_OUT, new Tensor(kappaOutOffset(layout, L)));
    s.addBuffer(KAPPA_OUT_EXP, new Tensor(kappaOutOffset(layout, L)));
    s.setScalar("clamped", 0);
    s.setScratch(new Scratch(layout));
    return s;
  }

  @Override
  public void update(Tensor updates, OptState state, Tensor params) {
    ParamLayout lay = state.layout();
    if (updates.size() != lay.size() || params.size() != lay.size()) {
      throw new IllegalArgumentException("Path-SGD: updates/params of " + updates.size() + "/" + params.size()
          + " floats do not match layout " + lay);
    }
    Scratch sc = refreshKappa(lay, params, state);
    FloatBuffer ub = updates.buffer();
    double sumG2 = 0;
    boolean firstRatio = opt.ratio() && Double.isNaN(state.scalar("ratio", Double.NaN));
    if (firstRatio) {
      sumG2 = sumSquares(ub, updates.size());
    }
    long clamped = divide(lay, ub, state, sc);
    state.setScalar("clamped", clamped);
    if (opt.ratio()) {
      if (firstRatio) {
        double d2 = sumSquares(ub, updates.size());
        state.setScalar("ratio", d2 > 0 ? Math.sqrt(sumG2 / d2) : 1.0);
      }
      float r = (float) state.scalar("ratio", 1.0);
      for (int i = 0, n = updates.size(); i < n; i++) {
        ub.put(i, ub.get(i) * r);
      }
    }
    state.incrementCount();
  }

  /**
   * Prepares a fused Path-SGD step ({@code Mlp.fusedStep}): brings κ up to date exactly as {@link #update} would and
   * writes the inverse factors 1/κ_out (per layer, length out(l)) into {@code rowInv[l]} and 1/κ_in (length in(l))
   * into {@code colInv[l]}, in double (they need not be representable in float; their product for every weight is);
   * advances the state's count as {@link #update} does. Returns false, with the count not advanced, when the fused
   * form would differ from {@link #update}: some coordinate needs the κ floor or cannot be represented, or the ratio
   * option is on. The caller then takes the unfused path.
   */
  public boolean fusedFactors(OptState state, Tensor params, double[][] rowInv, double[][] colInv) {
    if (opt.ratio()) {
      return false;
    }
    ParamLayout lay = state.layout();
    Scratch sc = refreshKappa(lay, params, state);
    double floor = state.scalar("kappa_floor", 0);
    for (int l = 0, L = lay.layers(); l < L; l++) {
      if (!regular(sc, lay, l, floor)) {
        return false;
      }
    }
    for (int l = 0, L = lay.layers(); l < L; l++) {
      System.arraycopy(sc.kinInv, kappaInOffset(lay, l), colInv[l], 0, lay.in(l));
      System.arraycopy(sc.koutInv, kappaOutOffset(lay, l), rowInv[l], 0, lay.out(l));
    }
    state.setScalar("clamped", 0);
    state.incrementCount();
    return true;
  }

  /**
   * Whether layer l needs no floor and every factor of it can be represented: κ_in·κ_out ≥ floor and κ_out ≥ floor
   * (κ of a bias), all κ positive and finite, and 1/κ_in, 1/κ_out and their products finite and non-zero in double.
   */
  private static boolean regular(Scratch sc, ParamLayout lay, int l, double floor) {
    double minIn = sc.kinMin[l];
    double maxIn = sc.kinMax[l];
    double minOut = sc.koutMin[l];
    double maxOut = sc.koutMax[l];
    // NaN fails every comparison
    return minIn * minOut >= floor && minOut >= floor && minIn > 0 && minOut > 0 && maxIn < Double.POSITIVE_INFINITY
        && maxOut < Double.POSITIVE_INFINITY && (1 / minIn) * (1 / minOut) < Double.POSITIVE_INFINITY
        && (1 / maxIn) * (1 / maxOut) > 0;
  }

  /** The value m·2^e of entry {@code index} of a κ factor buffer ({@link #KAPPA_IN} or {@link #KAPPA_OUT}). */
  public static double kappaValue(OptState state, String buffer, int index) {
    return decode(state.buffer(buffer).buffer(), state.buffer(exponents(buffer)).buffer(), index);
  }

  /**
   * Multiplies entry {@code index} of a κ factor buffer ({@link #KAPPA_IN} or {@link #KAPPA_OUT}) by {@code factor},
   * in double, keeping the mantissa-exponent form ({@link Rescaling} uses it for κ_in·c² and κ_out/c²).
   */
  public static void scaleKappa(OptState state, String buffer, int index, double factor) {
    FloatBuffer m = state.buffer(buffer).buffer();
    FloatBuffer e = state.buffer(exponents(buffer)).buffer();
    encode(decode(m, e, index) * factor, m, e, index);
  }

  private static String exponents(String buffer) {
    return switch (buffer) {
      case KAPPA_IN -> KAPPA_IN_EXP;
      case KAPPA_OUT -> KAPPA_OUT_EXP;
      default -> throw new IllegalArgumentException("not a κ factor buffer: '" + buffer + "'");
    };
  }

  /**
   * Stores k ≥ 0 as a float mantissa in [1, 2] and an integer exponent (k = m·2^e); 0, infinity and NaN are stored as
   * the mantissa with exponent 0. Exact under power-of-two scaling of k: only the mantissa is rounded.
   */
  static void encode(double k, FloatBuffer m, FloatBuffer e, int i) {
    int x = exponentOf(k);
    m.put(i, mantissaOf(k, x));
    e.put(i, x);
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

  static double decode(FloatBuffer m, FloatBuffer e, int i) {
    return m.get(i) * pow2((int) e.get(i));
  }

  /** 2^e for e in [−1022, 1023], exactly. */
  static double pow2(int e) {
    return Double.longBitsToDouble((long) (e + Double.MAX_EXPONENT) << 52);
  }

  @Override
  public String describe() {
    return "path_normalize(" + opt.describe() + ")";
  }

  /**
   * κ of every coordinate, materialized (parameter layout), in double precision via {@link PathNorms}. For inspection
   * and tests only; the transform itself never builds this tensor. No floor is applied.
   */
  public static double[] kappa(ParamLayout layout, Tensor params, double p, boolean includeBiases) {
    double[][] gin = PathNorms.gammaIn(layout, params, p, includeBiases);
    double[][] gout = PathNorms.gammaOut(layout, params, p);
    double e = 2.0 / p;
    double[] k = new double[layout.size()];
    for (int l = 0; l < layout.layers(); l++) {
      int in = layout.in(l);
      for (int o = 0; o < layout.out(l); o++) {
        double go = gout[l + 1][o];
        for (int i = 0; i < in; i++) {
          k[layout.weightOffset(l) + o * in + i] = Math.pow(gin[l][i] * go, e);
        }
        k[layout.biasOffset(l) + o] = Math.pow(go, e);
      }
    }
    return k;
  }

  private static double sumSquares(FloatBuffer b, int n) {
    double s = 0;
    for (int i = 0; i < n; i++) {
      double v = b.get(i);
      s += v * v;
    }
    return s;
  }

  /** Preallocated working memory of one state. */
  static final class Scratch {
    final ParamLayout layout;
    final double[][] gin; // gin[i], i = 0..L-1: γ_in of width index i
    final double[][] gout; // gout[i], i = 1..L: γ_out of width index i (gout[0] unused)
    final float[] row;
    final float[] aF; // γ_in of the layer's inputs, in float
    java.nio.ByteBuffer wBytes; // the parameters' bytes, for the SIMD kernel (set by computeKappa)
    final float[][] rowT; // per thread slot: one row of weights (scalar kernel)
    final float[][] sqT; // per thread slot: its squares (scalar kernel)
    final float[][] accC; // per row chunk: the chunk's γ_out accumulator over the layer's inputs, in float
    final double[] colD; // 1/κ_in of one layer
    final double[] gS; // γ_out of the layer's outputs, scaled by a power of two into the float range
    final double[] kin; // κ_in as stored in the state (KAPPA_IN layout)
    final double[] kout; // κ_out as stored in the state (KAPPA_OUT layout)
    final float[] mIn; // mantissas and exponents of κ_in, κ_out on their way to and from the state
    final float[] eIn;
    final float[] mOut;
    final float[] eOut;
    final double[] stat = new double[2];
    final float[] ones; // γ_in of the network's inputs, in float
    final double[] kinInv; // 1/κ_in
    final double[] koutInv; // 1/κ_out
    final double[] kinMin; // per layer: the least κ_in of its inputs (kinMax: the largest)
    final double[] kinMax;
    final double[] koutMin; // per layer: the least κ_out of its outputs (koutMax: the largest)
    final double[] koutMax;
    int doubleLayers; // layers whose p = 2 pass ran in double at the last recomputation

    Scratch(ParamLayout layout) {
      this.layout = layout;
      int L = layout.layers();
      gin = new double[L][];
      gout = new double[L + 1][];
      int maxIn = 1;
      for (int i = 0; i <= L; i++) {
        if (i < L) {
          gin[i] = new double[layout.width(i)];
          maxIn = Math.max(maxIn, layout.width(i));
        }
        if (i > 0) {
          gout[i] = new double[layout.width(i)];
        }
      }
      row = new float[maxIn];
      aF = new float[maxIn];
      int slots = maxThreads();
      rowT = new float[slots][maxIn];
      sqT = new float[slots][maxIn];
      accC = new float[MAX_CHUNKS][maxIn];
      int widest = 1;
      for (int l = 0; l < L; l++) {
        widest = Math.max(widest, layout.out(l));
      }
      gS = new double[widest];
      colD = new double[maxIn];
      kin = new double[kappaInOffset(layout, L)];
      kout = new double[kappaOutOffset(layout, L)];
      kinInv = new double[kin.length];
      mIn = new float[kin.length];
      eIn = new float[kin.length];
      mOut = new float[kout.length];
      eOut = new float[kout.length];
      ones = new float[layout.width(0)];
      java.util.Arrays.fill(ones, 1f);
      koutInv = new double[kout.length];
      kinMin = new double[L];
      kinMax = new double[L];
      koutMin = new double[L];
      koutMax = new double[L];
      java.util.Arrays.fill(kin, 0, layout.width(0), 1.0);
      java.util.Arrays.fill(kinInv, 0, layout.width(0), 1.0);
      kinMin[0] = 1.0;
      kinMax[0] = 1.0;
    }
  }

  /**
   * The state's scratch (made on first use), after recomputing κ when this step is due: every {@code recomputeEvery}
   * steps, and always before the first.
   */
  private Scratch refreshKappa(ParamLayout lay, Tensor params, OptState state) {
    Scratch sc = state.scratch() instanceof Scratch x && x.layout.equals(lay) ? x : null;
    if (sc == null) {
      sc = new Scratch(lay);
      state.setScratch(sc);
    }
    if (state.count() % opt.recomputeEvery() == 0 || Double.isNaN(state.scalar("kappa_floor", Double.NaN))) {
      computeKappa(lay, params, state, sc); // also sets sc.kin, sc.kout to the stored values
    } else {
      // the stored factors, which a restore or a rescaling of the state may have changed since the last step
      decodeAll(state.buffer(KAPPA_IN).buffer(), state.buffer(KAPPA_IN_EXP).buffer(), sc.mIn, sc.eIn, sc.kin,
          lay.inputs());
      decodeAll(state.buffer(KAPPA_OUT).buffer(), state.buffer(KAPPA_OUT_EXP).buffer(), sc.mOut, sc.eOut, sc.kout, 0);
    }
    int io = 0;
    int oo = 0;
    for (int l = 0, L = lay.layers(); l < L; l++) {
      int in = lay.in(l);
      int out = lay.out(l);
      if (l > 0) { // layer 0: the inputs' κ_in = 1, set when the scratch was made
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
    return sc;
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

  /** Recomputes κ_in, κ_out into the state buffers and the floor into scalar {@code kappa_floor}. */
  private void computeKappa(ParamLayout lay, Tensor params, OptState state, Scratch sc) {
    sc.doubleLayers = 0;
    sc.wBytes = params.bytes();
    FloatBuffer w = params.buffer();
    int L = lay.layers();
    double p = opt.p();
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
      int io = kappaInOffset(lay, l);
      double maxIn = 0;
      double[] g = sc.gin[l];
      for (int i = l == 0 ? n0 : 0, n = lay.in(l); i < n; i++) { // κ_in of the inputs is 1, set once
        double k = mode == 2 ? g[i] : Math.pow(g[i], e);
        sc.kin[io + i] = encode(k, sc.mIn, sc.eIn, io + i);
        maxIn = Math.max(maxIn, k);
      }
      int oo = kappaOutOffset(lay, l);
      double maxOut = 0;
      double[] h = sc.gout[l + 1];
      for (int o = 0, n = lay.out(l); o < n; o++) {
        double k = mode == 2 ? h[o] : Math.pow(h[o], e);
        sc.kout[oo + o] = encode(k, sc.mOut, sc.eOut, oo + o);
        maxOut = Math.max(maxOut, k);
      }
      kmax = Math.max(kmax, Math.max(maxOut * maxIn, maxOut));
    }
    state.buffer(KAPPA_IN).buffer().put(n0, sc.mIn, n0, sc.mIn.length - n0);
    state.buffer(KAPPA_IN_EXP).buffer().put(n0, sc.eIn, n0, sc.eIn.length - n0);
    state.buffer(KAPPA_OUT).buffer().put(0, sc.mOut);
    state.buffer(KAPPA_OUT_EXP).buffer().put(0, sc.eOut);
    state.setScalar("kappa_floor", Math.max(opt.absoluteFloor(), opt.relativeFloor() * kmax));
    state.setScalar("kappa_double_layers", sc.doubleLayers);
  }

  /**
   * u ← u ⊘ max(κ, floor) as a row and a column scale, the products formed in double and rounded once; returns the
   * number of coordinates that were clamped (κ below the floor), that have κ = 0 after the floor (their update is set
   * to 0: κ = 0 means a unit with no path through it, whose gradient is 0 too), or whose κ or update cannot be
   * represented (not finite).
   */
  private static long divide(ParamLayout lay, FloatBuffer ub, OptState state, Scratch sc) {
    double floor = state.scalar("kappa_floor", 0);
    float[] row = sc.row;
    double[] col = sc.colD;
    long clamped = 0;
    for (int l = 0, L = lay.layers(); l < L; l++) {
      int in = lay.in(l);
      int out = lay.out(l);
      int wOff = lay.weightOffset(l);
      int bOff = lay.biasOffset(l);
      int io = kappaInOffset(lay, l);
      int oo = kappaOutOffset(lay, l);
      double[] kin = sc.kin;
      double[] kout = sc.kout;
      if (regular(sc, lay, l, floor)) {
        // fast path, nothing clamped: u[o, i] *= (1/κ_out[o]) · (1/κ_in[i]), the product in double
        System.arraycopy(sc.kinInv, io, col, 0, in);
        for (int o = 0; o < out; o++) {
          double r = sc.koutInv[oo + o];
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

  /** γ_in(l+1) = |W_l|^p γ_in(l) (+ |b_l|^p); for p = 2 in float, on several threads for large layers. */
  private void forwardLayer(ParamLayout lay, FloatBuffer w, int l, Scratch sc, double p, int mode) {
    if (mode == 2) {
      squaredPass(lay, w, l, sc, null);
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
      if (opt.includeBiases()) {
        acc += PathNorms.powAbs(w.get(bOff + o), p);
      }
      next[o] = acc;
    }
  }

  /** γ_out(l) = |W_l|^pᵀ γ_out(l+1). */
  private static void backwardLayer(ParamLayout lay, FloatBuffer w, int l, Scratch sc, double p, int mode) {
    int in = lay.in(l);
    int wOff = lay.weightOffset(l);
    double[] g = sc.gout[l + 1];
    double[] prev = sc.gout[l];
    float[] row = sc.row;
    java.util.Arrays.fill(prev, 0.0);
    for (int o = 0, out = lay.out(l); o < out; o++) {
      w.get(wOff + o * in, row, 0, in);
      if (mode == 2) {
        axpySq(row, g[o], prev, in);
      } else {
        axpyPow(row, g[o], prev, in, p, mode);
      }
    }
  }

  /**
   * Both sweeps of layer l in one read of W_l: γ_in(l+1) and γ_out(l). For p = 2 see {@link #squaredPass} (float
   * accumulation, SIMD when available; relative error of κ about 1e-6, and κ only sets step sizes); other p run in
   * double.
   */
  private void bothLayer(ParamLayout lay, FloatBuffer w, int l, Scratch sc, double p, int mode) {
    double[] g = sc.gout[l + 1];
    if (mode == 2) {
      squaredPass(lay, w, l, sc, g);
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
        double sq = PathNorms.powAbs(row[i], p);
        acc += sq * a[i];
        prev[i] += sq * go;
      }
      if (opt.includeBiases()) {
        acc += PathNorms.powAbs(w.get(bOff + o), p);
      }
      next[o] = acc;
    }
  }

  /** Whether the SIMD row kernel ({@link VectorKappa}) is used: the JVM has the incubating Vector API module. */
  static final boolean VECTOR = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();

  /** Layers at least this large (weights) run the p = 2 pass on several threads. */
  static final long PARALLEL_THRESHOLD = 1L << 20;

  /** The rows of a layer are cut into at most this many chunks, of at least {@link #MIN_CHUNK_ROWS} rows. */
  static final int MAX_CHUNKS = 32;

  static final int MIN_CHUNK_ROWS = 16;

  /** Threads the p = 2 pass may use at most: the cores, and the common fork-join pool's workers plus the caller. */
  static int maxThreads() {
    int pool = java.util.concurrent.ForkJoinPool.getCommonPoolParallelism() + 1;
    return Math.max(1, Math.min(64, Math.min(Runtime.getRuntime().availableProcessors(), pool)));
  }

  /** Rows per chunk of a layer with {@code out} rows; the partition depends on {@code out} only. */
  static int chunkRows(int out) {
    return Math.max(MIN_CHUNK_ROWS, (out + MAX_CHUNKS - 1) / MAX_CHUNKS);
  }

  /**
   * The p = 2 pass over W_l: γ_in(l+1) from γ_in(l), and, when {@code gOut} (γ_out(l+1)) is not null, γ_out(l) in
   * the same read. With {@link PathSgdOptions.Sweep#AUTO} it runs in float ({@link #floatPass}, SIMD when available,
   * several threads on large layers) on γ scaled into the float range by a power of two, and the sums are checked;
   * when the γ do not fit the float range or a check fails the layer is recomputed in double ({@link #doublePass}).
   * The biases' |b|² are added in double afterwards.
   */
  private void squaredPass(ParamLayout lay, FloatBuffer w, int l, Scratch sc, double[] gOut) {
    int in = lay.in(l);
    int out = lay.out(l);
    int wOff = lay.weightOffset(l);
    int bOff = lay.biasOffset(l);
    double[] a = sc.gin[l];
    double[] next = sc.gin[l + 1];
    double[] prev = gOut == null ? null : sc.gout[l];
    // γ_in and γ_out into the float range by a power of two each (exact); a layer whose γ do not fit runs in double
    boolean inputs = l == 0; // γ_in of the inputs is 1 (computeKappa): no scaling, the float ones
    int ea = opt.sweep() != PathSgdOptions.Sweep.AUTO ? NO_SCALE : inputs ? 0 : floatScale(a, in);
    int eg = gOut == null || ea == NO_SCALE ? 0 : floatScale(gOut, out);
    boolean fast = ea != NO_SCALE && eg != NO_SCALE;
    if (fast) {
      float[] af = inputs ? sc.ones : sc.aF;
      if (!inputs) {
        double sa = pow2(-ea); // exact scalings: the scaled values are normal floats or 0 (floatScale)
        for (int i = 0; i < in; i++) {
          af[i] = (float) (a[i] * sa);
        }
      }
      double[] gs = null;
      if (gOut != null) {
        gs = sc.gS;
        double sg = pow2(-eg);
        for (int o = 0; o < out; o++) {
          gs[o] = gOut[o] * sg;
        }
      }
      floatPass(w, wOff, in, out, sc, af, gs, next, prev);
      // trust the float sums only where no float overflow can hide in them (they are finite) and where what float
      // underflow can lose, at most about 2^-148 per term, is below 2^-28 of the sum (they are not too small)
      double minNext = in * 0x1p-120;
      for (int o = 0; o < out && fast; o++) {
        fast = next[o] >= minNext && next[o] <= Float.MAX_VALUE;
      }
      double minPrev = out * 0x1p-120;
      for (int i = 0; prev != null && i < in && fast; i++) {
        fast = prev[i] >= minPrev && prev[i] < Double.POSITIVE_INFINITY;
      }
    }
    if (fast) {
      double ua = pow2(ea);
      for (int o = 0; o < out; o++) {
        next[o] *= ua;
      }
      double ug = pow2(eg);
      for (int i = 0; prev != null && i < in; i++) {
        prev[i] *= ug;
      }
    } else {
      sc.doubleLayers++;
      doublePass(w, wOff, in, out, sc.row, a, gOut, next, prev);
    }
    if (opt.includeBiases()) {
      for (int o = 0; o < out; o++) {
        double b = w.get(bOff + o);
        next[o] += b * b;
      }
    }
  }

  /** {@link #floatScale}'s answer for values the float pass cannot hold. */
  private static final int NO_SCALE = Integer.MIN_VALUE;

  /**
   * The binary exponent e of max(v[0..n)), so that every v·2^-e is below 2 and the float pass can take it, or {@link
   * #NO_SCALE} when some non-zero v·2^-e would fall below the normal float range (the values span more than about 2^126)
   * or some v is not finite. All zeros: 0.
   */
  private static int floatScale(double[] v, int n) {
    double max = 0;
    double minPos = Double.POSITIVE_INFINITY;
    boolean finite = true;
    for (int i = 0; i < n; i++) {
      double x = v[i];
      finite &= x >= 0 && x < Double.POSITIVE_INFINITY;
      max = Math.max(max, x);
      minPos = x > 0 ? Math.min(minPos, x) : minPos;
    }
    if (!finite) {
      return NO_SCALE;
    }
    if (max == 0) {
      return 0;
    }
    int e = Math.max(Double.MIN_EXPONENT + 126, Math.min(Double.MAX_EXPONENT - 1, Math.getExponent(max)));
    return minPos < Float.MIN_NORMAL * pow2(e) ? NO_SCALE : e;
  }

  /**
   * The float p = 2 pass over W_l on scaled γ: next[o] = Σ_i w[o,i]² af[i] and, when {@code gs} is not null, prev[i] =
   * Σ_o w[o,i]² gs[o] (no biases).
   *
   * <p>The rows are cut into fixed chunks ({@link #chunkRows}); each chunk has its own γ_out accumulator, and the
   * accumulators are summed in chunk order, so the result does not depend on how many threads ran or which thread
   * took which chunk: κ, and so training, is bit-reproducible. Large layers ({@link #PARALLEL_THRESHOLD}) are run by
   * the calling thread and up to {@code Blas.threads() − 1} workers of the common fork-join pool, which take chunks
   * from a shared counter: a worker that starts late only takes fewer chunks, the caller never waits for it to
   * start. The pass streams the weights once and is bound by memory bandwidth (docs/performance.md).
   */
  private static void floatPass(FloatBuffer w, int wOff, int in, int out, Scratch sc, float[] af, double[] gs,
      double[] next, double[] prev) {
    int rows = chunkRows(out);
    int chunks = (out + rows - 1) / rows;
    int threads = (long) out * in >= PARALLEL_THRESHOLD
        ? Math.min(Math.min(chunks, sc.rowT.length), Math.max(1, io.github.pathsgd.core.tensor.Blas.threads())) : 1;
    if (threads > 1) {
      new ChunkJob(chunks, (c, slot) -> chunkSq(w, wOff, in, out, rows, c, slot, af, gs, next, sc)).run(threads);
    } else {
      // small layers: this thread, no lambda, nothing allocated
      for (int c = 0; c < chunks; c++) {
        chunkSq(w, wOff, in, out, rows, c, 0, af, gs, next, sc);
      }
    }
    if (prev != null) {
      java.util.Arrays.fill(prev, 0, in, 0.0);
      for (int c = 0; c < chunks; c++) {
        float[] acc = sc.accC[c];
        for (int i = 0; i < in; i++) {
          prev[i] += acc[i];
        }
      }
    }
  }

  /**
   * The p = 2 pass over W_l in double on unscaled γ: next[o] = Σ_i w[o,i]² a[i] and, when g is not null, prev[i] =
   * Σ_o w[o,i]² g[o] (no biases). Every weight is finite in float, so w² and the sums stay far inside the double range.
   */
  private static void doublePass(FloatBuffer w, int wOff, int in, int out, float[] row, double[] a, double[] g,
      double[] next, double[] prev) {
    if (prev != null) {
      java.util.Arrays.fill(prev, 0, in, 0.0);
    }
    for (int o = 0; o < out; o++) {
      w.get(wOff + o * in, row, 0, in);
      double acc = 0;
      for (int i = 0; i < in; i++) {
        double x = row[i];
        acc += x * x * a[i];
      }
      next[o] = acc;
      if (prev != null) {
        axpySq(row, g[o], prev, in);
      }
    }
  }

  /** Chunk c (rows [c·rows, (c+1)·rows) ∩ [0, out)) of a p = 2 pass, with its own γ_out accumulator. */
  private static void chunkSq(FloatBuffer w, int wOff, int in, int out, int rows, int c, int slot, float[] af,
      double[] gOut, double[] next, Scratch sc) {
    int from = c * rows;
    int to = Math.min(out, from + rows);
    float[] acc = null;
    if (gOut != null) {
      acc = sc.accC[c];
      java.util.Arrays.fill(acc, 0, in, 0f);
    }
    rowsSq(w, wOff, in, from, to, af, gOut, next, sc, slot, acc);
  }

  /** Chunk {@code c} of a pass, run by thread slot {@code slot} (which selects the thread's scratch rows). */
  @FunctionalInterface
  interface ChunkTask {
    void run(int chunk, int slot);
  }

  /**
   * Chunks [0, n) of one pass shared by the calling thread (slot 0) and fork-join workers (slots 1..), which claim
   * chunks from a counter. {@link #run} returns when every chunk is done; a worker that starts after that finds no
   * chunk and ends without touching anything.
   */
  static final class ChunkJob {
    private final int n;
    private final ChunkTask task;
    private final java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger();
    private final java.util.concurrent.atomic.AtomicInteger done = new java.util.concurrent.atomic.AtomicInteger();
    private volatile Throwable failure;

    ChunkJob(int n, ChunkTask task) {
      this.n = n;
      this.task = task;
    }

    void run(int threads) {
      for (int s = 1; s < threads; s++) {
        int slot = s;
        java.util.concurrent.ForkJoinPool.commonPool().execute(() -> work(slot));
      }
      work(0);
      int spins = 0;
      while (done.get() < n) {
        if (++spins < 1 << 12) {
          Thread.onSpinWait();
        } else {
          Thread.yield();
        }
      }
      Throwable t = failure;
      if (t instanceof RuntimeException e) {
        throw e;
      } else if (t instanceof Error e) {
        throw e;
      } else if (t != null) {
        throw new IllegalStateException("κ computation failed: " + t, t);
      }
    }

    private void work(int slot) {
      for (int c; (c = next.getAndIncrement()) < n; ) {
        try {
          task.run(c, slot);
        } catch (Throwable t) {
          failure = t;
        } finally {
          done.incrementAndGet();
        }
      }
    }
  }

  /**
   * Rows [from, to) of a float p = 2 pass: next[o] = Σ_i w[o,i]² a[i] and, when {@code g} is not null,
   * acc[i] += Σ_o w[o,i]² g[o] over these rows.
   */
  private static void rowsSq(FloatBuffer w, int wOff, int in, int from, int to, float[] af, double[] g,
      double[] next, Scratch sc, int slot, float[] acc) {
    if (VECTOR) {
      VectorKappa.rows(sc.wBytes, wOff, in, from, to, af, g, next, acc);
    } else {
      float[] row = sc.rowT[slot];
      float[] sq = sc.sqT[slot];
      for (int o = from; o < to; o++) {
        w.get(wOff + o * in, row, 0, in);
        for (int i = 0; i < in; i++) {
          float x = row[i];
          sq[i] = x * x;
        }
        if (g != null) {
          float go = (float) g[o];
          for (int i = 0; i < in; i++) {
            acc[i] += sq[i] * go;
          }
        }
        next[o] = dot8(sq, af, in);
      }
    }
  }

  /** Σ_i x_i y_i with eight independent float accumulators, summed in double. */
  private static double dot8(float[] x, float[] y, int n) {
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
    int i = 0;
    for (; i + 7 < n; i += 8) {
      s0 += x[i] * y[i];
      s1 += x[i + 1] * y[i + 1];
      s2 += x[i + 2] * y[i + 2];
      s3 += x[i + 3] * y[i + 3];
      s4 += x[i + 4] * y[i + 4];
      s5 += x[i + 5] * y[i + 5];
      s6 += x[i + 6] * y[i + 6];
      s7 += x[i + 7] * y[i + 7];
    }
    double s = (double) s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7;
    for (; i < n; i++) {
      s += (double) x[i] * y[i];
    }
    return s;
  }

  private static double dotPow(float[] w, double[] g, int n, double p, int mode) {
    double a = 0;
    for (int i = 0; i < n; i++) {
      double x = Math.abs((double) w[i]);
      a += (mode == 1 ? x : PathNorms.powAbs(x, p)) * g[i];
    }
    return a;
  }

  /** y_i += w_i² s in double. */
  private static void axpySq(float[] w, double s, double[] y, int n) {
    for (int i = 0; i < n; i++) {
      double x = w[i];
      y[i] += x * x * s;
    }
  }

  private static void axpyPow(float[] w, double s, double[] y, int n, double p, int mode) {
    for (int i = 0; i < n; i++) {
      double x = Math.abs((double) w[i]);
      y[i] += (mode == 1 ? x : PathNorms.powAbs(x, p)) * s;
    }
  }
}
