package io.github.pathsgd.core.nn;

import io.github.pathsgd.core.tensor.Blas;
import io.github.pathsgd.core.tensor.SpectralNorm;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;

/**
 * The linear map of a {@link Conv2d} layer's weights (no bias, no ReLU), on the layer's own input size: x (C, H, W) ↦
 * y (F, Ho, Wo), {@code y[f, oy, ox] = Σ_{c,i,j} W[f, c, i, j] · x[c, oy·s + i − pad, ox·s + j − pad]} with zero
 * padding, and its transpose, in double (im2col and a double GEMM, as {@link Conv2d}'s γ sweeps). Its largest
 * singular value ({@link SpectralNorm#of(SpectralNorm.Operator)}) is the convolution's operator norm ‖conv_W‖₂,
 * which depends on the stride, the padding and the input size, and is not the norm of the filters reshaped to an (F,
 * C·kh·kw) matrix, which can be larger or smaller (one 3x3 filter of ones on an 8x8 image: 8.29 against 3).
 */
final class ConvOperator implements SpectralNorm.Operator {
  private final int c;
  private final int h;
  private final int w;
  private final int f;
  private final int kh;
  private final int kw;
  private final int s;
  private final int pad;
  private final int ho;
  private final int wo;
  private final int n; // Ho·Wo
  private final int kk; // C·kh·kw
  private final DoubleBuffer wB; // W (F, C·kh·kw) in double, for the GEMMs
  private final DoubleBuffer cB; // the im2col matrix (C·kh·kw, Ho·Wo)
  private final DoubleBuffer yB; // an output (F, Ho·Wo)
  private final double[] cols;

  ConvOperator(Conv2d layer, FloatBuffer params) {
    c = layer.channels();
    h = layer.inHeight();
    w = layer.inWidth();
    f = layer.filters();
    kh = layer.kernelHeight();
    kw = layer.kernelWidth();
    s = layer.stride();
    pad = layer.pad();
    ho = layer.outHeight();
    wo = layer.outWidth();
    n = ho * wo;
    kk = c * kh * kw;
    wB = direct((long) f * kk);
    for (int i = 0; i < f * kk; i++) {
      wB.put(i, params.get(layer.weightOffset() + i));
    }
    cB = direct((long) kk * n);
    yB = direct((long) f * n);
    cols = new double[kk * n];
  }

  private static DoubleBuffer direct(long doubles) {
    return ByteBuffer.allocateDirect(Math.toIntExact(doubles * Double.BYTES)).order(ByteOrder.nativeOrder())
        .asDoubleBuffer();
  }

  @Override
  public int rows() {
    return f * ho * wo;
  }

  @Override
  public int cols() {
    return c * h * w;
  }

  @Override
  public void apply(double[] x, double[] y) {
    im2col(x);
    cB.put(0, cols, 0, cols.length);
    Blas.dgemm(false, false, f, n, kk, 1.0, wB, kk, cB, n, 0.0, yB, n);
    yB.get(0, y, 0, f * n);
  }

  @Override
  public void applyTransposed(double[] y, double[] x) {
    yB.put(0, y, 0, f * n);
    Blas.dgemm(true, false, kk, n, f, 1.0, wB, kk, yB, n, 0.0, cB, n);
    cB.get(0, cols, 0, cols.length);
    java.util.Arrays.fill(x, 0, cols(), 0.0);
    col2im(x);
  }

  /** cols[(c, i, j), (oy, ox)] = x[c, oy·s + i − pad, ox·s + j − pad], 0 outside. */
  private void im2col(double[] x) {
    java.util.Arrays.fill(cols, 0.0);
    for (int ci = 0; ci < c; ci++) {
      for (int i = 0; i < kh; i++) {
        for (int j = 0; j < kw; j++) {
          int row = ((ci * kh + i) * kw + j) * n;
          for (int oy = 0; oy < ho; oy++) {
            int iy = oy * s + i - pad;
            if (iy < 0 || iy >= h) {
              continue;
            }
            for (int ox = 0; ox < wo; ox++) {
              int ix = ox * s + j - pad;
              if (ix >= 0 && ix < w) {
                cols[row + oy * wo + ox] = x[(ci * h + iy) * w + ix];
              }
            }
          }
        }
      }
    }
  }

  /** x[c, oy·s + i − pad, ox·s + j − pad] += cols[(c, i, j), (oy, ox)] over the inside positions. */
  private void col2im(double[] x) {
    for (int ci = 0; ci < c; ci++) {
      for (int i = 0; i < kh; i++) {
        for (int j = 0; j < kw; j++) {
          int row = ((ci * kh + i) * kw + j) * n;
          for (int oy = 0; oy < ho; oy++) {
            int iy = oy * s + i - pad;
            if (iy < 0 || iy >= h) {
              continue;
            }
            for (int ox = 0; ox < wo; ox++) {
              int ix = ox * s + j - pad;
              if (ix >= 0 && ix < w) {
                x[(ci * h + iy) * w + ix] += cols[row + oy * wo + ox];
              }
            }
          }
        }
      }
    }
  }
}
