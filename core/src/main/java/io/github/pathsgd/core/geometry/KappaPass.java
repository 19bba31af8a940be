package io.github.pathsgd.core.geometry;

import io.github.pathsgd.core.nn.ParamLayout;
import java.nio.FloatBuffer;

/**
 * The p = 2 pass of {@link Kappa} over one dense layer (Path-SGD's κ sweeps, Neyshabur, Salakhutdinov and Srebro, NIPS
 * 2015, Algorithm 1): γ_in(l+1) = W_l² γ_in(l) and γ_out(l) = (W_l²)ᵀ γ_out(l+1) in one read of W_l, in float (SIMD
 * with {@link VectorKappa} when available, several threads on large layers through {@link ChunkJob}) on γ scaled into
 * the float range by a power of two, checked, and recomputed in double where float cannot hold it. The double
 * reference it is tested against is {@link Kappa#materialize}.
 */
final class KappaPass {
  private KappaPass() {}

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
   * the same read. With {@code auto} (the default sweep) it runs in float ({@link #floatPass}, SIMD when available,
   * several threads on large layers) on γ scaled into the float range by a power of two, and the sums are checked;
   * when the γ do not fit the float range or a check fails the layer is recomputed in double ({@link #doublePass}).
   * The biases' |b|² are added in double afterwards.
   */
  static void squaredPass(ParamLayout lay, FloatBuffer w, int l, KappaWorkspace sc, double[] gOut,
      boolean auto, boolean includeBiases) {
    int in = lay.in(l);
    int out = lay.out(l);
    int wOff = lay.weightOffset(l);
    int bOff = lay.biasOffset(l);
    double[] a = sc.gin[l];
    double[] next = sc.gin[l + 1];
    double[] prev = gOut == null ? null : sc.gout[l];
    // γ_in and γ_out into the float range by a power of two each (exact); a layer whose γ do not fit runs in double
    boolean inputs = l == 0; // γ_in of the inputs is 1 (computeKappa): no scaling, the float ones
    int ea = !auto ? NO_SCALE : inputs ? 0 : floatScale(a, in);
    int eg = gOut == null || ea == NO_SCALE ? 0 : floatScale(gOut, out);
    boolean fast = ea != NO_SCALE && eg != NO_SCALE;
    if (fast) {
      float[] af = inputs ? sc.ones : sc.aF;
      if (!inputs) {
        double sa = Kappa.pow2(-ea); // exact scalings: the scaled values are normal floats or 0 (floatScale)
        for (int i = 0; i < in; i++) {
          af[i] = (float) (a[i] * sa);
        }
      }
      double[] gs = null;
      if (gOut != null) {
        gs = sc.gS;
        double sg = Kappa.pow2(-eg);
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
      double ua = Kappa.pow2(ea);
      for (int o = 0; o < out; o++) {
        next[o] *= ua;
      }
      double ug = Kappa.pow2(eg);
      for (int i = 0; prev != null && i < in; i++) {
        prev[i] *= ug;
      }
    } else {
      sc.doubleLayers++;
      doublePass(w, wOff, in, out, sc.row, a, gOut, next, prev);
    }
    if (includeBiases) {
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
    return minPos < Float.MIN_NORMAL * Kappa.pow2(e) ? NO_SCALE : e;
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
  private static void floatPass(FloatBuffer w, int wOff, int in, int out, KappaWorkspace sc, float[] af, double[] gs,
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
      double[] gOut, double[] next, KappaWorkspace sc) {
    int from = c * rows;
    int to = Math.min(out, from + rows);
    float[] acc = null;
    if (gOut != null) {
      acc = sc.accC[c];
      java.util.Arrays.fill(acc, 0, in, 0f);
    }
    rowsSq(w, wOff, in, from, to, af, gOut, next, sc, slot, acc);
  }
  /**
   * Rows [from, to) of a float p = 2 pass: next[o] = Σ_i w[o,i]² a[i] and, when {@code g} is not null,
   * acc[i] += Σ_o w[o,i]² g[o] over these rows.
   */
  private static void rowsSq(FloatBuffer w, int wOff, int in, int from, int to, float[] af, double[] g,
      double[] next, KappaWorkspace sc, int slot, float[] acc) {
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

  /** y_i += w_i² s in double. */
  static void axpySq(float[] w, double s, double[] y, int n) {
    for (int i = 0; i < n; i++) {
      double x = w[i];
      y[i] += x * x * s;
    }
  }

}
