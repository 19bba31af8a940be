package io.github.pathsgd.core.nn;

import io.github.pathsgd.core.tensor.Blas;
import io.github.pathsgd.core.tensor.Tensor;
import io.github.pathsgd.core.util.Rng;
import java.nio.FloatBuffer;

/**
 * A 2-D convolution with bias (cross-correlation, as in PyTorch's {@code Conv2d}), followed by ReLU and inverted
 * dropout when it is a hidden layer: {@code out[f, y, x] = relu(b_f + Σ_{c,i,j} W[f, c, i, j] · inp[c, y·s + i − pad,
 * x·s + j − pad])}, zero padding. Forward and backward go through im2col and one OpenBLAS GEMM per image, on a column
 * buffer made once (allocation-free in steady state).
 *
 * <pre>
 * inp is (B, C, H, W) flattened CHW per row; out is (B, F, Ho, Wo), Ho = (H + 2·pad − kh)/s + 1, Wo likewise
 * W is (F, C, kh, kw) row-major at paramOffset, b is (F) right after it
 * cols is (C·kh·kw, Ho·Wo): cols[(c, i, j), (y, x)] = inp[c, y·s + i − pad, x·s + j − pad] (0 outside)
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
  private final Tensor cols;

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
    this.cols = new Tensor(Math.multiplyExact(channels * kh * kw, ho * wo));
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
  public boolean relu() {
    return relu;
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

  /** cols ← im2col of image {@code b} of {@code x}. */
  private void im2col(Tensor x, int b) {
    unroll(x, b, true);
  }

  /** dinp[b] += col2im(cols). */
  private void col2imAdd(Tensor dinp, int b) {
    unroll(dinp, b, false);
  }

  /**
   * The one traversal of the unrolled edges: for every column entry (c, i, j; y, x) whose input position lies inside
   * the image, {@code gather} copies the input value into cols (0 outside), else the entry is added back onto its
   * input position.
   */
  private void unroll(Tensor t, int b, boolean gather) {
    FloatBuffer x = t.buffer();
    FloatBuffer cb = cols.buffer();
    int base = b * in();
    int n = ho * wo;
    for (int ch = 0; ch < c; ch++) {
      for (int i = 0; i < kh; i++) {
        for (int j = 0; j < kw; j++) {
          int row = ((ch * kh + i) * kw + j) * n;
          for (int y = 0; y < ho; y++) {
            int iy = y * stride + i - pad;
            for (int xx = 0; xx < wo; xx++) {
              int ix = xx * stride + j - pad;
              boolean inside = iy >= 0 && iy < h && ix >= 0 && ix < w;
              int q = row + y * wo + xx;
              if (gather) {
                cb.put(q, inside ? x.get(base + (ch * h + iy) * w + ix) : 0f);
              } else if (inside) {
                int at = base + (ch * h + iy) * w + ix;
                x.put(at, x.get(at) + cb.get(q));
              }
            }
          }
        }
      }
    }
  }

  @Override
  public void forward(Tensor out, Tensor inp, Tensor params, int B, float retain, Rng rng) {
    int n = ho * wo;
    int k = c * kh * kw;
    FloatBuffer o = out.buffer();
    FloatBuffer pb = params.buffer();
    float scale = retain >= 1f ? 1f : 1f / retain;
    for (int b = 0; b < B; b++) {
      im2col(inp, b);
      // out[b] (F, Ho·Wo) = W (F, C·kh·kw) · cols (C·kh·kw, Ho·Wo)
      Blas.sgemm(false, false, f, n, k, 1f, params, wOff, k, cols, 0, n, 0f, out, b * out(), n);
      for (int fi = 0; fi < f; fi++) {
        float bias = pb.get(bOff + fi);
        int row = b * out() + fi * n;
        for (int q = 0; q < n; q++) {
          float z = o.get(row + q) + bias;
          if (relu) {
            float keep = retain >= 1f ? 1f : rng.nextFloat() < retain ? scale : 0f;
            z = Math.max(z, 0f) * keep;
          }
          o.put(row + q, z);
        }
      }
    }
  }

  @Override
  public void backward(Tensor dinp, Tensor grads, Tensor dout, Tensor a, Tensor inp, Tensor params, int B,
      float retain) {
    if (relu) {
      Layers.reluDropoutBackward(dout, a, B, out(), retain);
    }
    int n = ho * wo;
    int k = c * kh * kw;
    FloatBuffer g = grads.buffer();
    FloatBuffer d = dout.buffer();
    if (dinp != null) {
      FloatBuffer di = dinp.buffer();
      for (int i = 0, m = B * in(); i < m; i++) {
        di.put(i, 0f);
      }
    }
    for (int fi = 0; fi < f; fi++) {
      g.put(bOff + fi, 0f);
    }
    for (int b = 0; b < B; b++) {
      im2col(inp, b);
      // dW (F, C·kh·kw) (+)= dout[b] (F, Ho·Wo) · colsᵀ
      Blas.sgemm(false, true, f, k, n, 1f, dout, b * out(), n, cols, 0, n, b == 0 ? 0f : 1f, grads, wOff, k);
      for (int fi = 0; fi < f; fi++) {
        double s = 0;
        int row = b * out() + fi * n;
        for (int q = 0; q < n; q++) {
          s += d.get(row + q);
        }
        g.put(bOff + fi, (float) (g.get(bOff + fi) + s));
      }
      if (dinp != null) {
        // cols (C·kh·kw, Ho·Wo) = Wᵀ · dout[b], then scattered back onto the input positions
        Blas.sgemm(true, false, k, n, f, 1f, params, wOff, k, dout, b * out(), n, 0f, cols, 0, n);
        col2imAdd(dinp, b);
      }
    }
  }

  private double weight(FloatBuffer p, int fi, int ch, int i, int j, double pw) {
    return Dense.powAbs(p.get(wOff + ((fi * c + ch) * kh + i) * kw + j), pw);
  }

  @Override
  public void gammaForward(FloatBuffer params, double[] gIn, double[] gOut, double p, boolean includeBiases) {
    boolean inf = Double.isInfinite(p);
    for (int fi = 0; fi < f; fi++) {
      double bias = includeBiases ? Dense.powAbs(params.get(bOff + fi), p) : 0;
      for (int y = 0; y < ho; y++) {
        for (int x = 0; x < wo; x++) {
          double acc = bias;
          for (int ch = 0; ch < c; ch++) {
            for (int i = 0; i < kh; i++) {
              int iy = y * stride + i - pad;
              if (iy < 0 || iy >= h) {
                continue;
              }
              for (int j = 0; j < kw; j++) {
                int ix = x * stride + j - pad;
                if (ix >= 0 && ix < w) {
                  double t = weight(params, fi, ch, i, j, p) * gIn[(ch * h + iy) * w + ix];
                  acc = inf ? Math.max(acc, t) : acc + t;
                }
              }
            }
          }
          gOut[(fi * ho + y) * wo + x] = acc;
        }
      }
    }
  }

  @Override
  public void gammaBackward(FloatBuffer params, double[] gOut, double[] gIn, double p) {
    boolean inf = Double.isInfinite(p);
    java.util.Arrays.fill(gIn, 0, in(), 0.0);
    for (int fi = 0; fi < f; fi++) {
      for (int y = 0; y < ho; y++) {
        for (int x = 0; x < wo; x++) {
          double go = gOut[(fi * ho + y) * wo + x];
          for (int ch = 0; ch < c; ch++) {
            for (int i = 0; i < kh; i++) {
              int iy = y * stride + i - pad;
              if (iy < 0 || iy >= h) {
                continue;
              }
              for (int j = 0; j < kw; j++) {
                int ix = x * stride + j - pad;
                if (ix >= 0 && ix < w) {
                  int at = (ch * h + iy) * w + ix;
                  double t = weight(params, fi, ch, i, j, p) * go;
                  gIn[at] = inf ? Math.max(gIn[at], t) : gIn[at] + t;
                }
              }
            }
          }
        }
      }
    }
  }

  /**
   * κ(W[f, c, i, j]) = (Σ_{y, x} γ_in(c, y·s + i − pad, x·s + j − pad)·γ_out(f, y, x))^{2/p}, the sum over the
   * positions where the input lies inside the image: a weight-gradient-like correlation of the γ_in map with the
   * γ_out map (a batch of one); κ(b_f) = (Σ_{y, x} γ_out(f, y, x))^{2/p}.
   */
  @Override
  public void kappa(double[] gIn, double[] gOut, double p, double[] kappa) {
    double e = 2.0 / p;
    for (int fi = 0; fi < f; fi++) {
      double sb = 0;
      for (int q = 0; q < ho * wo; q++) {
        sb += gOut[fi * ho * wo + q];
      }
      kappa[bOff + fi] = Math.pow(sb, e);
      for (int ch = 0; ch < c; ch++) {
        for (int i = 0; i < kh; i++) {
          for (int j = 0; j < kw; j++) {
            double s = 0;
            for (int y = 0; y < ho; y++) {
              int iy = y * stride + i - pad;
              if (iy < 0 || iy >= h) {
                continue;
              }
              for (int x = 0; x < wo; x++) {
                int ix = x * stride + j - pad;
                if (ix >= 0 && ix < w) {
                  s += gIn[(ch * h + iy) * w + ix] * gOut[(fi * ho + y) * wo + x];
                }
              }
            }
            kappa[wOff + ((fi * c + ch) * kh + i) * kw + j] = Math.pow(s, e);
          }
        }
      }
    }
  }
}
