package io.github.pathsgd.core.geometry;

import io.github.pathsgd.core.nn.DenseChain;
import java.nio.FloatBuffer;

/**
 * The p = 2 pass of {@link Kappa} over one dense layer (Path-SGD's κ sweeps, Neyshabur, Salakhutdinov and Srebro, NIPS
 * 2015, Algorithm 1): γ_in(l+1) = W_l² γ_in(l) and γ_out(l) = (W_l²)ᵀ γ_out(l+1) in one read of W_l, in double (SIMD
 * with {@link VectorKappa} when available, several threads on large layers through {@link ChunkJob}). The double
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

  /**
   * Threads the p = 2 pass may use at most: the cores, and the common fork-join pool's workers plus the caller, or,
   * for a caller that is a worker of a fork-join pool of its own ({@link ChunkJob}), that pool's parallelism.
   */
  static int maxThreads() {
    java.util.concurrent.ForkJoinPool own = java.util.concurrent.ForkJoinTask.getPool();
    int pool = own != null ? own.getParallelism() : java.util.concurrent.ForkJoinPool.getCommonPoolParallelism() + 1;
    return Math.max(1, Math.min(64, Math.min(Runtime.getRuntime().availableProcessors(), pool)));
  }

  /** Rows per chunk of a layer with {@code out} rows; the partition depends on {@code out} only. */
  static int chunkRows(int out) {
    return Math.max(MIN_CHUNK_ROWS, (out + MAX_CHUNKS - 1) / MAX_CHUNKS);
  }

  /**
   * The p = 2 pass over W_l: γ_in(l+1) from γ_in(l), and, when {@code gOut} (γ_out(l+1)) is not null, γ_out(l) in
   * the same read. With {@code auto} (the default sweep) it runs {@link #vectorPass} (SIMD when available, several
   * threads on large layers); otherwise the scalar reference {@link #doublePass}. Both are in double throughout: a
   * weight widened to double squares exactly, and every product and sum is scaled exactly by a power-of-two rescaling
   * of the network as long as no double overflows or underflows (a γ of a network of ordinary depth whose weights
   * float32 holds stays far inside the double range), so equivalent networks get bit-identical κ up to that scaling.
   * The biases' |b|² are added afterwards.
   */
  static void squaredPass(DenseChain lay, FloatBuffer w, int l, KappaWorkspace sc, double[] gOut,
      boolean auto, boolean includeBiases) {
    int in = lay.in(l);
    int out = lay.out(l);
    int wOff = lay.weightOffset(l);
    int bOff = lay.biasOffset(l);
    double[] a = sc.gin[l];
    double[] next = sc.gin[l + 1];
    double[] prev = gOut == null ? null : sc.gout[l];
    if (auto) {
      vectorPass(w, wOff, in, out, sc, a, gOut, next, prev);
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

  /**
   * The default p = 2 pass over W_l in double: next[o] = Σ_i w[o,i]² a[i] and, when {@code g} is not null, prev[i] =
   * Σ_o w[o,i]² g[o] (no biases).
   *
   * <p>The rows are cut into fixed chunks ({@link #chunkRows}); each chunk has its own γ_out accumulator, and the
   * accumulators are summed in chunk order, so the result does not depend on how many threads ran or which thread
   * took which chunk: κ, and so training, is bit-reproducible. Large layers ({@link #PARALLEL_THRESHOLD}) are run by
   * the calling thread and up to {@code Blas.threads() − 1} workers of the common fork-join pool, which take chunks
   * from a shared counter: a worker that starts late only takes fewer chunks, the caller never waits for it to
   * start. The pass streams the weights once (docs/performance.md).
   */
  private static void vectorPass(FloatBuffer w, int wOff, int in, int out, KappaWorkspace sc, double[] a, double[] g,
      double[] next, double[] prev) {
    int rows = chunkRows(out);
    int chunks = (out + rows - 1) / rows;
    int threads = (long) out * in >= PARALLEL_THRESHOLD
        ? Math.min(Math.min(chunks, sc.rowT.length), Math.max(1, io.github.pathsgd.core.tensor.Blas.threads())) : 1;
    if (threads > 1) {
      new ChunkJob(chunks, (c, slot) -> chunk(w, wOff, in, out, rows, c, slot, a, g, next, sc)).run(threads);
    } else {
      // small layers: this thread, no lambda, nothing allocated
      for (int c = 0; c < chunks; c++) {
        chunk(w, wOff, in, out, rows, c, 0, a, g, next, sc);
      }
    }
    if (prev != null) {
      java.util.Arrays.fill(prev, 0, in, 0.0);
      for (int c = 0; c < chunks; c++) {
        double[] acc = sc.accC[c];
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
  private static void chunk(FloatBuffer w, int wOff, int in, int out, int rows, int c, int slot, double[] a,
      double[] g, double[] next, KappaWorkspace sc) {
    int from = c * rows;
    int to = Math.min(out, from + rows);
    double[] acc = null;
    if (g != null) {
      acc = sc.accC[c];
      java.util.Arrays.fill(acc, 0, in, 0.0);
    }
    if (VECTOR && VectorKappa.doubleKernel()) {
      VectorKappa.rowsDouble(sc.wBytes, wOff, in, from, to, a, g, next, acc);
      return;
    }
    float[] row = sc.rowT[slot];
    for (int o = from; o < to; o++) {
      w.get(wOff + o * in, row, 0, in);
      double d = 0;
      double go = g == null ? 0 : g[o];
      for (int i = 0; i < in; i++) {
        double x = row[i];
        double sq = x * x;
        d = Math.fma(sq, a[i], d);
        if (acc != null) {
          acc[i] = Math.fma(sq, go, acc[i]);
        }
      }
      next[o] = d;
    }
  }

  /** y_i += w_i² s in double. */
  static void axpySq(float[] w, double s, double[] y, int n) {
    for (int i = 0; i < n; i++) {
      double x = w[i];
      y[i] += x * x * s;
    }
  }

}
