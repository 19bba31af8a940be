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
 * materialized. The γ sweeps read each weight with double accumulation; the factors are kept in float state buffers
 * {@code kappa_in} (layers packed, Σ_{l&lt;L} n_l floats) and {@code kappa_out} (Σ_{l≥1} n_l floats), which is what
 * {@link PathSgdOptions#recomputeEvery()} &gt; 1 reuses. Scratch is allocated in {@link #init}, so {@code update} does
 * not allocate, except a small job object per pass over a large layer, which several threads share (see {@code
 * squaredPass}: the result is bit-identical for any number of threads). See {@link PathSgdOptions} for the κ floor
 * (state scalar {@code clamped}) and the "ratio" option. An instance may serve several states, but a state must be
 * updated by one thread at a time.
 */
public final class PathSgd implements GradientTransform {
  /** State buffer with κ_in = γ_in^{2/p} of each layer's inputs (layer l at {@link #kappaInOffset}). */
  public static final String KAPPA_IN = "kappa_in";
  /** State buffer with κ_out = γ_out^{2/p} of each layer's outputs (layer l at {@link #kappaOutOffset}). */
  public static final String KAPPA_OUT = "kappa_out";

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
    s.addBuffer(KAPPA_IN, new Tensor(kappaInOffset(layout, L)));
    s.addBuffer(KAPPA_OUT, new Tensor(kappaOutOffset(layout, L)));
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
   * into {@code colInv[l]}; advances the state's count as {@link #update} does. Returns false, with the count not
   * advanced, when the fused form would differ from {@link #update}: some coordinate needs the κ floor, or the ratio
   * option is on. The caller then takes the unfused path.
   */
  public boolean fusedFactors(OptState state, Tensor params, Tensor[] rowInv, Tensor[] colInv) {
    if (opt.ratio()) {
      return false;
    }
    ParamLayout lay = state.layout();
    refreshKappa(lay, params, state);
    FloatBuffer kin = state.buffer(KAPPA_IN).buffer();
    FloatBuffer kout = state.buffer(KAPPA_OUT).buffer();
    double floor = state.scalar("kappa_floor", 0);
    for (int l = 0, L = lay.layers(); l < L; l++) {
      int io = kappaInOffset(lay, l);
      int oo = kappaOutOffset(lay, l);
      double minIn = Double.POSITIVE_INFINITY;
      for (int i = 0, n = lay.in(l); i < n; i++) {
        minIn = Math.min(minIn, kin.get(io + i));
      }
      double minOut = Double.POSITIVE_INFINITY;
      for (int o = 0, n = lay.out(l); o < n; o++) {
        minOut = Math.min(minOut, kout.get(oo + o));
      }
      // weights need κ_in·κ_out >= floor; biases κ_out >= floor (κ_in of the constant unit is 1)
      if (!(minIn * minOut >= floor && minIn * minOut > 0 && minOut >= floor)) {
        return false;
      }
    }
    for (int l = 0, L = lay.layers(); l < L; l++) {
      int io = kappaInOffset(lay, l);
      int oo = kappaOutOffset(lay, l);
      FloatBuffer cb = colInv[l].buffer();
      for (int i = 0, n = lay.in(l); i < n; i++) {
        cb.put(i, (float) (1.0 / kin.get(io + i)));
      }
      FloatBuffer rb = rowInv[l].buffer();
      for (int o = 0, n = lay.out(l); o < n; o++) {
        rb.put(o, (float) (1.0 / kout.get(oo + o)));
      }
    }
    state.setScalar("clamped", 0);
    state.incrementCount();
    return true;
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
    final float[] col;
    final float[] aF; // γ_in of the layer's inputs, in float
    java.nio.ByteBuffer wBytes; // the parameters' bytes, for the SIMD kernel (set by computeKappa)
    final float[][] rowT; // per thread slot: one row of weights (scalar kernel)
    final float[][] sqT; // per thread slot: its squares (scalar kernel)
    final float[][] accC; // per row chunk: the chunk's γ_out accumulator over the layer's inputs, in float

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
      col = new float[maxIn];
      aF = new float[maxIn];
      int slots = maxThreads();
      rowT = new float[slots][maxIn];
      sqT = new float[slots][maxIn];
      accC = new float[MAX_CHUNKS][maxIn];
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
      computeKappa(lay, params, state, sc);
    }
    return sc;
  }

  /** Recomputes κ_in, κ_out into the state buffers and the floor into scalar {@code kappa_floor}. */
  private void computeKappa(ParamLayout lay, Tensor params, OptState state, Scratch sc) {
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
    // factors γ^{2/p} in float, and the floor
    FloatBuffer kin = state.buffer(KAPPA_IN).buffer();
    FloatBuffer kout = state.buffer(KAPPA_OUT).buffer();
    double e = 2.0 / p;
    double kmax = 0;
    for (int l = 0; l < L; l++) {
      int io = kappaInOffset(lay, l);
      double maxIn = 0;
      for (int i = 0, n = lay.in(l); i < n; i++) {
        float f = (float) (mode == 2 ? sc.gin[l][i] : Math.pow(sc.gin[l][i], e));
        kin.put(io + i, f);
        maxIn = Math.max(maxIn, f);
      }
      int oo = kappaOutOffset(lay, l);
      double maxOut = 0;
      for (int o = 0, n = lay.out(l); o < n; o++) {
        float f = (float) (mode == 2 ? sc.gout[l + 1][o] : Math.pow(sc.gout[l + 1][o], e));
        kout.put(oo + o, f);
        maxOut = Math.max(maxOut, f);
      }
      kmax = Math.max(kmax, Math.max(maxOut * maxIn, maxOut));
    }
    state.setScalar("kappa_floor", Math.max(opt.absoluteFloor(), opt.relativeFloor() * kmax));
  }

  /** u ← u ⊘ max(κ, floor), row and column scales; returns the number of clamped coordinates. */
  private static long divide(ParamLayout lay, FloatBuffer ub, OptState state, Scratch sc) {
    FloatBuffer kin = state.buffer(KAPPA_IN).buffer();
    FloatBuffer kout = state.buffer(KAPPA_OUT).buffer();
    double floor = state.scalar("kappa_floor", 0);
    float[] row = sc.row;
    float[] col = sc.col;
    long clamped = 0;
    for (int l = 0, L = lay.layers(); l < L; l++) {
      int in = lay.in(l);
      int out = lay.out(l);
      int wOff = lay.weightOffset(l);
      int bOff = lay.biasOffset(l);
      int io = kappaInOffset(lay, l);
      int oo = kappaOutOffset(lay, l);
      double minIn = Double.POSITIVE_INFINITY;
      for (int i = 0; i < in; i++) {
        float k = kin.get(io + i);
        col[i] = k;
        minIn = Math.min(minIn, k);
      }
      double minOut = Double.POSITIVE_INFINITY;
      for (int o = 0; o < out; o++) {
        minOut = Math.min(minOut, kout.get(oo + o));
      }
      if (minIn * minOut >= floor && minIn * minOut > 0) {
        // fast path, no clamping possible: u[o, :] *= (1/κ_out[o]) · (1/κ_in[:])
        for (int i = 0; i < in; i++) {
          col[i] = (float) (1.0 / col[i]);
        }
        for (int o = 0; o < out; o++) {
          float r = (float) (1.0 / kout.get(oo + o));
          int off = wOff + o * in;
          ub.get(off, row, 0, in);
          for (int i = 0; i < in; i++) {
            row[i] = row[i] * r * col[i];
          }
          ub.put(off, row, 0, in);
        }
      } else {
        for (int o = 0; o < out; o++) {
          double ko = kout.get(oo + o);
          int off = wOff + o * in;
          ub.get(off, row, 0, in);
          for (int i = 0; i < in; i++) {
            double k = ko * col[i];
            if (k < floor) {
              k = floor;
              clamped++;
            }
            row[i] = (float) (row[i] / k);
          }
          ub.put(off, row, 0, in);
        }
      }
      for (int o = 0; o < out; o++) {
        double k = kout.get(oo + o);
        if (k < floor) {
          k = floor;
          clamped++;
        }
        ub.put(bOff + o, (float) (ub.get(bOff + o) / k));
      }
    }
    return clamped;
  }

  /** γ_in(l+1) = |W_l|^p γ_in(l) (+ |b_l|^p); for p = 2 in float, on several threads for large layers. */
  private void forwardLayer(ParamLayout lay, FloatBuffer w, int l, Scratch sc, double p, int mode) {
    if (mode == 2) {
      squaredPass(lay, w, l, sc, p, null);
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
      squaredPass(lay, w, l, sc, p, g);
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
   * the same read.
   *
   * <p>The rows are cut into fixed chunks ({@link #chunkRows}); each chunk has its own γ_out accumulator, and the
   * accumulators are summed in chunk order, so the result does not depend on how many threads ran or which thread
   * took which chunk: κ, and so training, is bit-reproducible. Large layers ({@link #PARALLEL_THRESHOLD}) are run by
   * the calling thread and up to {@code Blas.threads() − 1} workers of the common fork-join pool, which take chunks
   * from a shared counter: a worker that starts late only takes fewer chunks, the caller never waits for it to
   * start. The pass streams the weights once and is bound by memory bandwidth (docs/performance.md).
   */
  private void squaredPass(ParamLayout lay, FloatBuffer w, int l, Scratch sc, double p, double[] gOut) {
    int in = lay.in(l);
    int out = lay.out(l);
    int wOff = lay.weightOffset(l);
    int bOff = lay.biasOffset(l);
    double[] a = sc.gin[l];
    double[] next = sc.gin[l + 1];
    float[] af = sc.aF;
    for (int i = 0; i < in; i++) {
      af[i] = (float) a[i];
    }
    int rows = chunkRows(out);
    int chunks = (out + rows - 1) / rows;
    int threads = (long) out * in >= PARALLEL_THRESHOLD
        ? Math.min(Math.min(chunks, sc.rowT.length), Math.max(1, io.github.pathsgd.core.tensor.Blas.threads())) : 1;
    if (threads > 1) {
      new ChunkJob(chunks, (c, slot) -> chunkSq(w, wOff, bOff, in, out, rows, c, slot, af, gOut, next, sc, p))
          .run(threads);
    } else {
      // small layers: this thread, no lambda, nothing allocated
      for (int c = 0; c < chunks; c++) {
        chunkSq(w, wOff, bOff, in, out, rows, c, 0, af, gOut, next, sc, p);
      }
    }
    if (gOut != null) {
      double[] prev = sc.gout[l];
      java.util.Arrays.fill(prev, 0, in, 0.0);
      for (int c = 0; c < chunks; c++) {
        float[] acc = sc.accC[c];
        for (int i = 0; i < in; i++) {
          prev[i] += acc[i];
        }
      }
    }
  }

  /** Chunk c (rows [c·rows, (c+1)·rows) ∩ [0, out)) of a p = 2 pass, with its own γ_out accumulator. */
  private void chunkSq(FloatBuffer w, int wOff, int bOff, int in, int out, int rows, int c, int slot, float[] af,
      double[] gOut, double[] next, Scratch sc, double p) {
    int from = c * rows;
    int to = Math.min(out, from + rows);
    float[] acc = null;
    if (gOut != null) {
      acc = sc.accC[c];
      java.util.Arrays.fill(acc, 0, in, 0f);
    }
    rowsSq(w, wOff, bOff, in, from, to, af, gOut, next, sc, slot, acc, p);
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
   * Rows [from, to) of a p = 2 pass: next[o] = Σ_i w[o,i]² a[i] (+ b[o]²) and, when {@code g} is not null,
   * acc[i] += Σ_o w[o,i]² g[o] over these rows.
   */
  private void rowsSq(FloatBuffer w, int wOff, int bOff, int in, int from, int to, float[] af, double[] g,
      double[] next, Scratch sc, int slot, float[] acc, double p) {
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
    if (opt.includeBiases()) {
      for (int o = from; o < to; o++) {
        next[o] += PathNorms.powAbs(w.get(bOff + o), p);
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
