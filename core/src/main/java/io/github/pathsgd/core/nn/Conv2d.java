package io.github.pathsgd.core.nn;

import io.github.pathsgd.core.tensor.Blas;
import io.github.pathsgd.core.tensor.Tensor;
import io.github.pathsgd.core.util.Rng;
import java.nio.FloatBuffer;
import java.util.List;

/**
 * A 2-D convolution with bias (cross-correlation, as in PyTorch's {@code Conv2d}), followed by ReLU and inverted
 * dropout when it is a hidden layer: {@code out[f, y, x] = relu(b_f + Σ_{c,i,j} W[f, c, i, j] · inp[c, y·s + i − pad,
 * x·s + j − pad])}, zero padding. Forward and backward go through im2col and OpenBLAS GEMMs over chunks of images (as
 * many as keep the column buffer within 4 MiB: one GEMM per chunk and pass instead of one per image), on the buffers of
 * the step scratch ({@link #scratch}), which the graph's workspace makes once (allocation-free in steady state); the γ
 * sweeps and κ run on the sweep scratch ({@link #sweepScratch}) of the path sweep. The layer holds shapes only.
 *
 * <pre>
 * inp is (B, C, H, W) flattened CHW per row; out is (B, F, Ho, Wo), Ho = (H + 2·pad − kh)/s + 1, Wo likewise
 * W is (F, C, kh, kw) row-major at paramOffset, b is (F) right after it
 * cols is (C·kh·kw, nb·Ho·Wo) for a chunk of nb images: cols[(c, i, j), (b, y, x)] = inp[b, c, y·s + i − pad,
 *   x·s + j − pad] (0 outside); rows is (F, nb·Ho·Wo), the GEMM's side of out or dout
 * </pre>
 *
 * <p>Path geometry. A node is one channel at one position; the edge (c, y·s + i − pad, x·s + j − pad) → (f, y, x) has
 * the weight W[f, c, i, j], so every weight is shared by the Ho·Wo (fewer at the border) edges it labels, and the bias
 * b_f by the Ho·Wo edges from the constant unit to channel f. The γ sweeps run over these unrolled edges, and κ of a
 * shared weight sums over its tied edges (the coordinate-wise Path-SGD step for shared weights of Neyshabur, Wu,
 * Salakhutdinov and Srebro, "Path-Normalized Optimization of Recurrent Neural Networks with ReLU Activations", NIPS
 * 2016): κ(w) = (Σ_{e tied to w} γ_in(u_e)·γ_out(v_e))^{2/p}. No path crosses two edges tied to the same weight
 * (every path crosses this layer once), so for p = 2 this κ is the Hessian diagonal of ½φ₂². See docs/conv-geometry.md.
 */
public final class Conv2d implements Layer {
  private final int c;
  private final int h;
  private final int w;
  private final int f;
  private final int kh;
  private final int kw;
  private final int stride;
  private final int pad;
  private final int ho;
  private final int wo;
  private final int wOff;
  private final int bOff;
  private final boolean relu;
  /** Floats of the column buffer of one chunk at most (4 MiB), unless one image needs more. */
  static final int COLS_BUDGET = 1 << 20;

  /** Images per chunk when positive (tests: 1 gives the per-image GEMMs); 0: from {@link #COLS_BUDGET}. */
  int chunkOverride;

  /**
   * The step scratch of one workspace ({@link #scratch}): cols and rows in direct memory for the GEMMs, heap copies of
   * them and of a chunk's input, output and activations, on which the element-wise passes run (loops the JIT
   * vectorizes; the direct buffers are filled and read by bulk copies), and the bias gradient's sums in double.
   */
  private static final class StepBuffers implements Scratch {
    final double[] biasSum;
    Tensor cols;
    Tensor rows;
    float[] colsA;
    float[] rowsA;
    float[] inA;
    float[] outA;
    float[] actA;

    StepBuffers(int filters) {
      biasSum = new double[filters];
    }
  }

  /**
   * The scratch of one path sweep ({@link #sweepScratch}), each array made at its first use: |W|^p of the forward and
   * the backward sweep, the im2col of a γ map for each, and the direct buffers of the double GEMMs.
   */
  private static final class SweepBuffers implements Scratch {
    double[] wp;
    double[] wpBack;
    double[] gammaColsBack;
    double[] gammaCols;
    java.nio.DoubleBuffer gW;
    java.nio.DoubleBuffer gG;
    java.nio.DoubleBuffer gO;
  }

  /**
   * A convolution of {@code channels × height × width} inputs with {@code filters} kernels of {@code kh × kw}, stride
   * and zero padding as given, its parameters at {@code paramOffset}; ReLU and dropout when {@code hidden}.
   */
  public Conv2d(int channels, int height, int width, int filters, int kh, int kw, int stride, int pad,
      int paramOffset, boolean hidden) {
    if (channels < 1 || height < 1 || width < 1 || filters < 1 || kh < 1 || kw < 1 || stride < 1 || pad < 0
        || paramOffset < 0) {
      throw new IllegalArgumentException("Conv2d: channels, size, filters, kernel and stride must be positive, pad and"
          + " offset non-negative; got " + channels + "x" + height + "x" + width + ", " + filters + " filters "
          + kh + "x" + kw + ", stride " + stride + ", pad " + pad + ", offset " + paramOffset);
    }
    if (height + 2 * pad < kh || width + 2 * pad < kw) {
      throw new IllegalArgumentException("Conv2d: kernel " + kh + "x" + kw + " is larger than the padded input "
          + (height + 2 * pad) + "x" + (width + 2 * pad));
    }
    this.c = channels;
    this.h = height;
    this.w = width;
    this.f = filters;
    this.kh = kh;
    this.kw = kw;
    this.stride = stride;
    this.pad = pad;
    this.ho = (height + 2 * pad - kh) / stride + 1;
    this.wo = (width + 2 * pad - kw) / stride + 1;
    this.wOff = paramOffset;
    this.bOff = Math.addExact(paramOffset, Math.multiplyExact(Math.multiplyExact(filters, channels), kh * kw));
    this.relu = hidden;
  }

  public int outHeight() {
    return ho;
  }

  public int outWidth() {
    return wo;
  }

  public int filters() {
    return f;
  }

  /** Input channels C. */
  public int channels() {
    return c;
  }

  /** Input height H. */
  public int inHeight() {
    return h;
  }

  /** Input width W. */
  public int inWidth() {
    return w;
  }

  /** Kernel height kh. */
  public int kernelHeight() {
    return kh;
  }

  /** Kernel width kw. */
  public int kernelWidth() {
    return kw;
  }

  public int stride() {
    return stride;
  }

  public int pad() {
    return pad;
  }

  /** Whether ReLU and dropout follow the convolution (a hidden layer). */
  @Override
  public boolean relu() {
    return relu;
  }

  @Override
  public String kind() {
    return "conv";
  }

  /** W [filters, channels, kh, kw] (fan-in channels·kh·kw), then b [filters], as PyTorch's {@code nn.Conv2d}. */
  @Override
  public List<ParamSlice> paramSlices() {
    return List.of(ParamSlice.weight(wOff, c * kh * kw, f, c, kh, kw), ParamSlice.bias(bOff, f));
  }

  /** The operator norm on this layer's input size ({@link ConvOperator}). */
  @Override
  public double spectralNorm(FloatBuffer params) {
    return io.github.pathsgd.core.tensor.SpectralNorm.of(new ConvOperator(this, params));
  }

  /** Input channel ch is read by the kh·kw weights W[f, ch, ·, ·] of every filter f. */
  @Override
  public void inputChannelRanges(int ch, int channels, Ranges ranges) {
    if (channels != c) {
      throw new IllegalArgumentException("conv reads " + c + " channels, not " + channels);
    }
    int kk = kh * kw;
    for (int fi = 0; fi < f; fi++) {
      ranges.accept(wOff + (fi * c + ch) * kk, kk);
    }
  }

  public int weightOffset() {
    return wOff;
  }

  public int biasOffset() {
    return bOff;
  }

  @Override
  public int in() {
    return c * h * w;
  }

  @Override
  public int out() {
    return f * ho * wo;
  }

  @Override
  public int paramOffset() {
    return wOff;
  }

  @Override
  public int paramSize() {
    return f * c * kh * kw + f;
  }

  /** The images of one chunk: as many as keep the column buffer within {@link #COLS_BUDGET} floats, at least one. */
  int chunkImages() {
    return chunkOverride > 0 ? chunkOverride : Math.max(1, COLS_BUDGET / (c * kh * kw * ho * wo));
  }

  /** The step scratch for batches of up to {@code maxBatch} rows: the buffers of a chunk of that many images at most. */
  @Override
  public Scratch scratch(int maxBatch) {
    StepBuffers b = new StepBuffers(f);
    ensure(b, Math.min(Math.max(1, maxBatch), chunkImages()));
    return b;
  }

  /** The sweep scratch: its arrays are made at their first use. */
  @Override
  public Scratch sweepScratch() {
    return new SweepBuffers();
  }

  /** {@code s} ({@link #scratch}; null: new buffers for this call) with room for chunks of {@code nb} images. */
  private StepBuffers buffers(Scratch s, int nb) {
    StepBuffers b = s == null ? new StepBuffers(f) : (StepBuffers) s;
    ensure(b, nb);
    return b;
  }

  /** The buffers of {@code b} for chunks of {@code nb} images, made again only when a larger chunk comes. */
  private void ensure(StepBuffers b, int nb) {
    int n = ho * wo;
    if (b.cols == null || b.cols.size() < (long) c * kh * kw * n * nb) {
      b.cols = new Tensor(Math.multiplyExact(Math.multiplyExact(c * kh * kw, n), nb));
      b.rows = new Tensor(Math.multiplyExact(Math.multiplyExact(f, n), nb));
      b.colsA = new float[b.cols.size()];
      b.rowsA = new float[b.rows.size()];
      b.inA = new float[Math.multiplyExact(nb, in())];
      b.outA = new float[Math.multiplyExact(nb, out())];
      b.actA = new float[b.outA.length];
    }
  }

  /**
   * im2col of the chunk's images {@code xs} (nb, C, H, W) into {@code cs}: for every column entry (c, i, j; image, y,
   * x) of cols (row (c, i, j), column image·Ho·Wo + y·Wo + x, leading dimension nb·Ho·Wo), the input value at (c, y·s
   * + i − pad, x·s + j − pad) when it lies inside the image, else 0.
   */
  private void im2col(float[] xs, float[] cs, int nb) {
    int n = ho * wo;
    int ld = nb * n;
    int plane = h * w;
    for (int ch = 0; ch < c; ch++) {
      for (int i = 0; i < kh; i++) {
        for (int j = 0; j < kw; j++) {
          // the x with 0 <= x·s + j − pad < w: [x0, x1)
          int x0 = Math.min(wo, Math.max(0, ceilDiv(pad - j, stride)));
          int x1 = Math.max(x0, Math.min(wo, ceilDiv(w + pad - j, stride)));
          int row = ((ch * kh + i) * kw + j) * ld;
          for (int bl = 0; bl < nb; bl++) {
            int img = (bl * c + ch) * plane;
            for (int y = 0; y < ho; y++) {
              int iy = y * stride + i - pad;
              int q = row + bl * n + y * wo;
              if (iy < 0 || iy >= h) {
                java.util.Arrays.fill(cs, q, q + wo, 0f);
                continue;
              }
              int src = img + iy * w + j - pad; // input index of x = 0 (outside when x < x0)
              java.util.Arrays.fill(cs, q, q + x0, 0f);
              if (stride == 1) {
                System.arraycopy(xs, src + x0, cs, q + x0, x1 - x0);
              } else {
                for (int xx = x0; xx < x1; xx++) {
                  cs[q + xx] = xs[src + xx * stride];
                }
              }
              java.util.Arrays.fill(cs, q + x1, q + wo, 0f);
            }
          }
        }
      }
    }
  }

  /** col2im: {@code ds} (nb, C, H, W) ← 0, then every entry of {@code cs} inside the image added onto its input. */
  private void col2im(float[] cs, float[] ds, int nb) {
    int n = ho * wo;
    int ld = nb * n;
    int plane = h * w;
    java.util.Arrays.fill(ds, 0, nb * c * plane, 0f);
    for (int ch = 0; ch < c; ch++) {
      for (int i = 0; i < kh; i++) {
        for (int j = 0; j < kw; j++) {
          int x0 = Math.min(wo, Math.max(0, ceilDiv(pad - j, stride)));
          int x1 = Math.max(x0, Math.min(wo, ceilDiv(w + pad - j, stride)));
          int row = ((ch * kh + i) * kw + j) * ld;
          for (int bl = 0; bl < nb; bl++) {
            int img = (bl * c + ch) * plane;
            for (int y = 0; y < ho; y++) {
              int iy = y * stride + i - pad;
              if (iy < 0 || iy >= h) {
                continue;
              }
              int q = row + bl * n + y * wo;
              int dst = img + iy * w + j - pad;
              if (stride == 1) {
                for (int xx = x0; xx < x1; xx++) {
                  ds[dst + xx] += cs[q + xx];
                }
              } else {
                for (int xx = x0; xx < x1; xx++) {
                  ds[dst + xx * stride] += cs[q + xx];
                }
              }
            }
          }
        }
      }
    }
  }

  private static int ceilDiv(int a, int b) {
    return -Math.floorDiv(-a, b);
  }

  /**
   * Forward in chunks of images: cols ← im2col of the chunk, then one GEMM {@code rows (F, nb·Ho·Wo) = W (F,
   * C·kh·kw) · cols}, then bias, ReLU and dropout on the way from rows to {@code out} (B, F, Ho·Wo), in the order b,
   * f, position (the order of the dropout draws).
   */
  @Override
  public void forward(Tensor out, Tensor inp, Tensor params, int B, float retain, Rng rng) {
    forward(out, inp, params, B, retain, rng, null);
  }

  /** {@link #forward(Tensor, Tensor, Tensor, int, float, Rng)} on the step scratch {@code s} ({@link #scratch}). */
  @Override
  public void forward(Tensor out, Tensor inp, Tensor params, int B, float retain, Rng rng, Scratch s) {
    int n = ho * wo;
    int k = c * kh * kw;
    int chunk = Math.min(B, chunkImages());
    StepBuffers sb = buffers(s, chunk);
    FloatBuffer pb = params.buffer();
    int inSize = in();
    int outSize = out();
    float scale = retain >= 1f ? 1f : 1f / retain;
    float[] cs = sb.colsA;
    float[] rs = sb.rowsA;
    float[] os = sb.outA;
    for (int b0 = 0; b0 < B; b0 += chunk) {
      int nb = Math.min(chunk, B - b0);
      int ld = nb * n;
      inp.buffer().get(b0 * inSize, sb.inA, 0, nb * inSize);
      im2col(sb.inA, cs, nb);
      sb.cols.buffer().put(0, cs, 0, k * ld);
      Blas.sgemm(false, false, f, ld, k, 1f, params, wOff, k, sb.cols, 0, ld, 0f, sb.rows, 0, ld);
      sb.rows.buffer().get(0, rs, 0, f * ld);
      for (int bl = 0; bl < nb; bl++) {
        for (int fi = 0; fi < f; fi++) {
          float bias = pb.get(bOff + fi);
          int src = fi * ld + bl * n;
          int dst = bl * outSize + fi * n;
          if (!relu) {
            for (int q = 0; q < n; q++) {
              os[dst + q] = rs[src + q] + bias;
            }
          } else if (retain >= 1f) {
            for (int q = 0; q < n; q++) {
              os[dst + q] = Math.max(rs[src + q] + bias, 0f);
            }
          } else {
            for (int q = 0; q < n; q++) {
              float keep = rng.nextFloat() < retain ? scale : 0f;
              os[dst + q] = Math.max(rs[src + q] + bias, 0f) * keep;
            }
          }
        }
      }
      out.buffer().put(b0 * outSize, os, 0, nb * outSize);
    }
  }

  /**
   * Backward in chunks of images: the error of the chunk, through ReLU and dropout, into rows (F, nb·Ho·Wo) (its row
   * sums, in double, are the bias gradient); then {@code dW (+)= rows · colsᵀ} with cols the im2col of the chunk's
   * input, and, when {@code dinp} is wanted, {@code cols = Wᵀ · rows} scattered back onto the input positions. {@code
   * dout} is left as it came.
   */
  @Override
  public void backward(Tensor dinp, Tensor grads, Tensor dout, Tensor a, Tensor inp, Tensor params, int B,
      float retain) {
    backward(dinp, grads, dout, a, inp, params, B, retain, null);
  }

  /** {@link #backward(Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, int, float)} on the step scratch {@code s}. */
  @Override
  public void backward(Tensor dinp, Tensor grads, Tensor dout, Tensor a, Tensor inp, Tensor params, int B,
      float retain, Scratch s) {
    int n = ho * wo;
    int k = c * kh * kw;
    int chunk = Math.min(B, chunkImages());
    StepBuffers sb = buffers(s, chunk);
    double[] biasSum = sb.biasSum;
    int inSize = in();
    int outSize = out();
    float scale = retain >= 1f ? 1f : 1f / retain;
    float[] cs = sb.colsA;
    float[] rs = sb.rowsA;
    float[] ds = sb.outA;
    float[] as = sb.actA;
    java.util.Arrays.fill(biasSum, 0.0);
    for (int b0 = 0; b0 < B; b0 += chunk) {
      int nb = Math.min(chunk, B - b0);
      int ld = nb * n;
      dout.buffer().get(b0 * outSize, ds, 0, nb * outSize);
      if (relu) {
        a.buffer().get(b0 * outSize, as, 0, nb * outSize);
      }
      for (int bl = 0; bl < nb; bl++) {
        for (int fi = 0; fi < f; fi++) {
          int src = bl * outSize + fi * n;
          int dst = fi * ld + bl * n;
          if (relu) {
            for (int q = 0; q < n; q++) {
              // the error passes where the output is > 0 (it is never negative): a mask from the sign of a − 1's bits
              int keep = ~((Float.floatToRawIntBits(as[src + q]) - 1) >> 31);
              rs[dst + q] = Float.intBitsToFloat(Float.floatToRawIntBits(ds[src + q] * scale) & keep);
            }
          } else {
            System.arraycopy(ds, src, rs, dst, n);
          }
          biasSum[fi] += sum(rs, dst, n);
        }
      }
      sb.rows.buffer().put(0, rs, 0, f * ld);
      inp.buffer().get(b0 * inSize, sb.inA, 0, nb * inSize);
      im2col(sb.inA, cs, nb);
      sb.cols.buffer().put(0, cs, 0, k * ld);
      // dW (F, C·kh·kw) (+)= rows (F, nb·Ho·Wo) · colsᵀ
      Blas.sgemm(false, true, f, k, ld, 1f, sb.rows, 0, ld, sb.cols, 0, ld, b0 == 0 ? 0f : 1f, grads, wOff, k);
      if (dinp != null) {
        // cols (C·kh·kw, nb·Ho·Wo) = Wᵀ · rows, then scattered back onto the input positions
        Blas.sgemm(true, false, k, ld, f, 1f, params, wOff, k, sb.rows, 0, ld, 0f, sb.cols, 0, ld);
        sb.cols.buffer().get(0, cs, 0, k * ld);
        col2im(cs, sb.inA, nb);
        dinp.buffer().put(b0 * inSize, sb.inA, 0, nb * inSize);
      }
    }
    FloatBuffer g = grads.buffer();
    for (int fi = 0; fi < f; fi++) {
      g.put(bOff + fi, (float) biasSum[fi]);
    }
  }

  /** Σ v[off, off + n) in double, four running sums. */
  private static double sum(float[] v, int off, int n) {
    double s0 = 0;
    double s1 = 0;
    double s2 = 0;
    double s3 = 0;
    int q = 0;
    for (; q + 3 < n; q += 4) {
      s0 += v[off + q];
      s1 += v[off + q + 1];
      s2 += v[off + q + 2];
      s3 += v[off + q + 3];
    }
    for (; q < n; q++) {
      s0 += v[off + q];
    }
    return (s0 + s1) + (s2 + s3);
  }

  /** |W|^p, in double, (F, C·kh·kw), into the forward sweep's or the backward sweep's own array. */
  private static double[] powWeights(SweepBuffers sw, FloatBuffer params, double p, boolean back, int n, int wOff) {
    double[] wq = back ? sw.wpBack : sw.wp;
    if (wq == null) {
      wq = new double[n];
      if (back) {
        sw.wpBack = wq;
      } else {
        sw.wp = wq;
      }
    }
    for (int t = 0; t < n; t++) {
      wq[t] = Dense.powAbs(params.get(wOff + t), p);
    }
    return wq;
  }

  /** G (C·kh·kw, Ho·Wo) ← im2col of the γ map {@code g} (one image, 0 outside), in double. */
  private double[] gammaCols(SweepBuffers sw, double[] g) {
    int n = ho * wo;
    if (sw.gammaCols == null) {
      sw.gammaCols = new double[c * kh * kw * n];
    }
    double[] gc = sw.gammaCols;
    for (int ch = 0; ch < c; ch++) {
      for (int i = 0; i < kh; i++) {
        for (int j = 0; j < kw; j++) {
          int x0 = Math.min(wo, Math.max(0, ceilDiv(pad - j, stride)));
          int x1 = Math.max(x0, Math.min(wo, ceilDiv(w + pad - j, stride)));
          int row = ((ch * kh + i) * kw + j) * n;
          for (int y = 0; y < ho; y++) {
            int iy = y * stride + i - pad;
            int q = row + y * wo;
            if (iy < 0 || iy >= h) {
              java.util.Arrays.fill(gc, q, q + wo, 0.0);
              continue;
            }
            int src = (ch * h + iy) * w + j - pad;
            java.util.Arrays.fill(gc, q, q + x0, 0.0);
            for (int x = x0; x < x1; x++) {
              gc[q + x] = g[src + x * stride];
            }
            java.util.Arrays.fill(gc, q + x1, q + wo, 0.0);
          }
        }
      }
    }
    return gc;
  }

  /** A direct buffer of {@code n} doubles (native order), for the double GEMMs of the γ sweeps. */
  private static java.nio.DoubleBuffer direct(int n) {
    return java.nio.ByteBuffer.allocateDirect(n * Double.BYTES).order(java.nio.ByteOrder.nativeOrder())
        .asDoubleBuffer();
  }

  /** The direct buffers of the γ sweeps' GEMMs: |W|^p or κ (F, K), G (K, Ho·Wo), γ_out (F, Ho·Wo). */
  private void ensureGamma(SweepBuffers sw) {
    if (sw.gW == null) {
      int n = ho * wo;
      int k = c * kh * kw;
      sw.gW = direct(f * k);
      sw.gG = direct(k * n);
      sw.gO = direct(f * n);
    }
  }

  /**
   * γ forward over the unrolled edges: {@code gOut[f, y, x] = |b_f|^p + Σ_{c,i,j} |W[f, c, i, j]|^p · gIn[c, y·s + i −
   * pad, x·s + j − pad]} (inside positions only): one double GEMM {@code |W|^p (F, C·kh·kw) · G} with G the im2col of
   * γ_in, then the bias. For p = ∞ max-plus loops over the same G, in the order (c, i, j).
   */
  @Override
  public void gammaForward(FloatBuffer params, double[] gIn, double[] gOut, double p, boolean includeBiases) {
    gammaForward(params, gIn, gOut, p, includeBiases, null);
  }

  /** {@link #gammaForward(FloatBuffer, double[], double[], double, boolean)} on the sweep scratch {@code s}. */
  @Override
  public void gammaForward(FloatBuffer params, double[] gIn, double[] gOut, double p, boolean includeBiases,
      Scratch s) {
    SweepBuffers sw = s == null ? new SweepBuffers() : (SweepBuffers) s;
    double[] wq = powWeights(sw, params, p, false, f * c * kh * kw, wOff);
    double[] gc = gammaCols(sw, gIn);
    int n = ho * wo;
    int k = c * kh * kw;
    if (Double.isInfinite(p)) {
      for (int fi = 0; fi < f; fi++) {
        double bias = includeBiases ? Dense.powAbs(params.get(bOff + fi), p) : 0;
        int o = fi * n;
        java.util.Arrays.fill(gOut, o, o + n, bias);
        for (int t = 0; t < k; t++) {
          double wt = wq[fi * k + t];
          int row = t * n;
          for (int q = 0; q < n; q++) {
            gOut[o + q] = Math.max(gOut[o + q], wt * gc[row + q]);
          }
        }
      }
      return;
    }
    ensureGamma(sw);
    sw.gW.put(0, wq, 0, f * k);
    sw.gG.put(0, gc, 0, k * n);
    Blas.dgemm(false, false, f, n, k, 1.0, sw.gW, k, sw.gG, n, 0.0, sw.gO, n);
    sw.gO.get(0, gOut, 0, f * n);
    if (includeBiases) {
      for (int fi = 0; fi < f; fi++) {
        double bias = Dense.powAbs(params.get(bOff + fi), p);
        for (int q = fi * n; q < fi * n + n; q++) {
          gOut[q] += bias;
        }
      }
    }
  }

  /**
   * γ backward over the unrolled edges: {@code gIn[c, u, v] = Σ |W[f, c, i, j]|^p · gOut[f, y, x]} over the edges
   * (c, u, v) → (f, y, x) (max for p = ∞): G (C·kh·kw, Ho·Wo) = |W|^pᵀ · γ_out (one double GEMM; max-plus loops for
   * p = ∞), then col2im.
   */
  @Override
  public void gammaBackward(FloatBuffer params, double[] gOut, double[] gIn, double p) {
    gammaBackward(params, gOut, gIn, p, null);
  }

  /** {@link #gammaBackward(FloatBuffer, double[], double[], double)} on the sweep scratch {@code s}. */
  @Override
  public void gammaBackward(FloatBuffer params, double[] gOut, double[] gIn, double p, Scratch s) {
    SweepBuffers sw = s == null ? new SweepBuffers() : (SweepBuffers) s;
    boolean inf = Double.isInfinite(p);
    double[] wq = powWeights(sw, params, p, true, f * c * kh * kw, wOff);
    int n = ho * wo;
    int k = c * kh * kw;
    if (sw.gammaColsBack == null) {
      sw.gammaColsBack = new double[k * n];
    }
    double[] gc = sw.gammaColsBack;
    if (!inf) {
      // G (C·kh·kw, Ho·Wo) = |W|^pᵀ · γ_out, one double GEMM
      ensureGamma(sw);
      sw.gW.put(0, wq, 0, f * k);
      sw.gO.put(0, gOut, 0, f * n);
      Blas.dgemm(true, false, k, n, f, 1.0, sw.gW, k, sw.gO, n, 0.0, sw.gG, n);
      sw.gG.get(0, gc, 0, k * n);
    }
    if (inf) { // max-plus: G[(c, i, j), q] = max_f |W[f, c, i, j]| · γ_out[f, q]
      java.util.Arrays.fill(gc, 0.0);
      for (int t = 0; t < k; t++) {
        int row = t * n;
        for (int fi = 0; fi < f; fi++) {
          double wt = wq[fi * k + t];
          int o = fi * n;
          for (int q = 0; q < n; q++) {
            gc[row + q] = Math.max(gc[row + q], wt * gOut[o + q]);
          }
        }
      }
    }
    java.util.Arrays.fill(gIn, 0, in(), 0.0);
    for (int ch = 0; ch < c; ch++) {
      for (int i = 0; i < kh; i++) {
        for (int j = 0; j < kw; j++) {
          int x0 = Math.min(wo, Math.max(0, ceilDiv(pad - j, stride)));
          int x1 = Math.max(x0, Math.min(wo, ceilDiv(w + pad - j, stride)));
          int row = ((ch * kh + i) * kw + j) * n;
          for (int y = 0; y < ho; y++) {
            int iy = y * stride + i - pad;
            if (iy < 0 || iy >= h) {
              continue;
            }
            int q = row + y * wo;
            int dst = (ch * h + iy) * w + j - pad;
            for (int x = x0; x < x1; x++) {
              int at = dst + x * stride;
              gIn[at] = inf ? Math.max(gIn[at], gc[q + x]) : gIn[at] + gc[q + x];
            }
          }
        }
      }
    }
  }

  /**
   * κ(W[f, c, i, j]) = (Σ_{y, x} γ_in(c, y·s + i − pad, x·s + j − pad)·γ_out(f, y, x))^{2/p}, the sum over the
   * positions where the input lies inside the image: a weight-gradient-like correlation of the γ_in map with the
   * γ_out map (a batch of one), one double GEMM {@code γ_out (F, Ho·Wo) · Gᵀ} with G the im2col of γ_in; κ(b_f) =
   * (Σ_{y, x} γ_out(f, y, x))^{2/p}.
   */
  @Override
  public void kappa(double[] gIn, double[] gOut, double p, double[] kappa) {
    kappa(null, gIn, gOut, p, kappa, null);
  }

  /** {@link #kappa(double[], double[], double, double[])} on the sweep scratch {@code s}. */
  @Override
  public void kappa(FloatBuffer params, double[] gIn, double[] gOut, double p, double[] kappa, Scratch s) {
    SweepBuffers sw = s == null ? new SweepBuffers() : (SweepBuffers) s;
    double e = 2.0 / p;
    int n = ho * wo;
    int k = c * kh * kw;
    double[] gc = gammaCols(sw, gIn);
    ensureGamma(sw);
    sw.gG.put(0, gc, 0, k * n);
    sw.gO.put(0, gOut, 0, f * n);
    Blas.dgemm(false, true, f, k, n, 1.0, sw.gO, n, sw.gG, n, 0.0, sw.gW, k);
    sw.gW.get(0, kappa, wOff, f * k);
    if (e != 1) {
      for (int t = wOff; t < wOff + f * k; t++) {
        kappa[t] = Math.pow(kappa[t], e);
      }
    }
    for (int fi = 0; fi < f; fi++) {
      double sb = 0;
      for (int q = 0; q < n; q++) {
        sb += gOut[fi * n + q];
      }
      kappa[bOff + fi] = e == 1 ? sb : Math.pow(sb, e);
    }
  }
}
