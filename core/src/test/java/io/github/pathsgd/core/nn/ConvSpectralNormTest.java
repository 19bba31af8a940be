package io.github.pathsgd.core.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.github.pathsgd.core.geometry.ModelNorms;
import io.github.pathsgd.core.tensor.SpectralNorm;
import io.github.pathsgd.core.util.Rng;
import java.nio.FloatBuffer;
import org.junit.jupiter.api.Test;

/**
 * {@code spectral_norm_product} of a conv model uses each convolution's operator norm on the layer's input size (stride
 * and padding included), checked against a brute force: the convolution's dense matrix built from its definition, and
 * the square root of the largest eigenvalue of its Gram matrix by cyclic Jacobi rotations, in double. Before, the
 * filters reshaped to an (F, C·kh·kw) matrix were used (issue 23: 2.02 where the operator norm is 1.32).
 */
class ConvSpectralNormTest {
  @Test
  void convolutionOperatorNormMatchesItsDenseMatrix() {
    // {channels, height, width, filters, kh, kw, stride, pad}
    int[][] cases = {
      {1, 5, 5, 1, 3, 3, 1, 1}, // the case: 3x3 kernel, stride 1, pad 1
      {2, 6, 7, 3, 3, 3, 2, 1},
      {3, 5, 4, 2, 2, 3, 1, 0},
      {1, 4, 4, 2, 3, 3, 1, 2},
      {2, 7, 5, 2, 1, 1, 1, 0}, // 1x1 kernels: the operator norm is the reshaped matrix's
    };
    Rng r = new Rng(23);
    for (int[] cs : cases) {
      Conv2d conv = new Conv2d(cs[0], cs[1], cs[2], cs[3], cs[4], cs[5], cs[6], cs[7], 0, true);
      FloatBuffer w = FloatBuffer.allocate(conv.paramSize());
      for (int i = 0; i < conv.paramSize(); i++) {
        w.put(i, (float) r.nextGaussian());
      }
      double brute = Math.sqrt(largestEigenvalue(gram(denseMatrix(conv, w))));
      double fast = SpectralNorm.of(new ConvOperator(conv, w));
      assertThat(fast).as("conv %s", java.util.Arrays.toString(cs)).isCloseTo(brute, within(1e-9 * brute));
      double reshaped = SpectralNorm.of(w, 0, conv.filters(), conv.paramSize() / conv.filters() - 1);
      if (cs[4] * cs[5] > 1) {
        assertThat(Math.abs(reshaped - brute)).as("reshaped %s vs %s", reshaped, brute).isGreaterThan(1e-3 * brute);
      } else {
        assertThat(reshaped).isCloseTo(brute, within(1e-9 * brute));
      }
    }
  }

  @Test
  void operatorNormDependsOnTheInputSize() {
    // one 3x3 filter of ones, stride 1, pad 1: the operator norm grows with the image towards 9 (the reshaped: 3)
    double last = 0;
    for (int n : new int[] {1, 2, 4, 8}) {
      Conv2d conv = new Conv2d(1, n, n, 1, 3, 3, 1, 1, 0, true);
      FloatBuffer w = FloatBuffer.allocate(conv.paramSize());
      for (int i = 0; i < 9; i++) {
        w.put(i, 1f);
      }
      double v = SpectralNorm.of(new ConvOperator(conv, w));
      assertThat(v).as("n=%d", n).isCloseTo(Math.sqrt(largestEigenvalue(gram(denseMatrix(conv, w)))), within(1e-9 * v));
      assertThat(v).isGreaterThan(last).isLessThan(9);
      last = v;
    }
    // 8x8: the 1-D factor [1 1 1] with zero padding is tridiagonal Toeplitz, largest eigenvalue 1 + 2cos(π/9)
    assertThat(last).isCloseTo(Math.pow(1 + 2 * Math.cos(Math.PI / 9), 2), within(1e-9)).isCloseTo(8.29, within(5e-3));
  }

  @Test
  void modelNormsOfAConvNetUseTheOperatorNorms() {
    LayerNet net = LayerSpec.parse("conv(3,3,pad=1),maxpool(2),conv(2,3,stride=2),dense(4)").build(2, 6, 6, 3);
    io.github.pathsgd.core.nn.Init.balanced(net, new Rng(5));
    FloatBuffer w = net.params().buffer();
    double expected = 1;
    int convs = 0;
    for (Layer l : net.layers()) {
      if (l.paramSize() == 0) {
        continue;
      }
      double[][] m;
      if (l instanceof Conv2d c) {
        m = denseMatrix(c, w.duplicate().position(c.paramOffset()).slice());
        convs++;
      } else { // dense: [out, in] weights, then the biases
        int rows = l.paramSize() / (l.in() + 1);
        int cols = l.in();
        m = new double[rows][cols];
        for (int i = 0; i < rows; i++) {
          for (int j = 0; j < cols; j++) {
            m[i][j] = w.get(l.paramOffset() + i * cols + j);
          }
        }
      }
      expected *= Math.sqrt(largestEigenvalue(gram(m)));
    }
    assertThat(convs).isEqualTo(2);
    double got = ModelNorms.of((Network) net).spectralNormProduct();
    assertThat(got).isCloseTo(expected, within(1e-9 * expected));
  }

  /** The convolution's matrix (F·Ho·Wo, C·H·W) from its definition, weights (F, C, kh, kw) at float 0 of {@code w}. */
  static double[][] denseMatrix(Conv2d conv, FloatBuffer w) {
    int c = conv.channels();
    int h = conv.inHeight();
    int wd = conv.inWidth();
    int f = conv.filters();
    int kh = conv.kernelHeight();
    int kw = conv.kernelWidth();
    int ho = conv.outHeight();
    int wo = conv.outWidth();
    double[][] m = new double[f * ho * wo][c * h * wd];
    for (int fi = 0; fi < f; fi++) {
      for (int oy = 0; oy < ho; oy++) {
        for (int ox = 0; ox < wo; ox++) {
          for (int ci = 0; ci < c; ci++) {
            for (int i = 0; i < kh; i++) {
              for (int j = 0; j < kw; j++) {
                int iy = oy * conv.stride() + i - conv.pad();
                int ix = ox * conv.stride() + j - conv.pad();
                if (iy >= 0 && iy < h && ix >= 0 && ix < wd) {
                  m[(fi * ho + oy) * wo + ox][(ci * h + iy) * wd + ix] += w.get(((fi * c + ci) * kh + i) * kw + j);
                }
              }
            }
          }
        }
      }
    }
    return m;
  }

  static double[][] gram(double[][] m) {
    int n = m[0].length;
    double[][] g = new double[n][n];
    for (double[] row : m) {
      for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) {
          g[i][j] += row[i] * row[j];
        }
      }
    }
    return g;
  }

  /** The largest eigenvalue of a symmetric matrix by cyclic Jacobi rotations (to double rounding). */
  static double largestEigenvalue(double[][] s) {
    int n = s.length;
    double[][] a = new double[n][];
    for (int i = 0; i < n; i++) {
      a[i] = s[i].clone();
    }
    for (int sweep = 0; sweep < 100; sweep++) {
      double off = 0;
      double diag = 0;
      for (int i = 0; i < n; i++) {
        diag += a[i][i] * a[i][i];
        for (int j = i + 1; j < n; j++) {
          off += a[i][j] * a[i][j];
        }
      }
      if (off <= 1e-30 * diag) {
        break;
      }
      for (int p = 0; p < n; p++) {
        for (int q = p + 1; q < n; q++) {
          if (a[p][q] == 0) {
            continue;
          }
          double theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
          double t = Math.signum(theta) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
          if (theta == 0) {
            t = 1;
          }
          double c = 1 / Math.sqrt(t * t + 1);
          double sn = t * c;
          for (int k = 0; k < n; k++) { // columns p, q
            double akp = a[k][p];
            double akq = a[k][q];
            a[k][p] = c * akp - sn * akq;
            a[k][q] = sn * akp + c * akq;
          }
          for (int k = 0; k < n; k++) { // rows p, q
            double apk = a[p][k];
            double aqk = a[q][k];
            a[p][k] = c * apk - sn * aqk;
            a[q][k] = sn * apk + c * aqk;
          }
        }
      }
    }
    double max = Double.NEGATIVE_INFINITY;
    for (int i = 0; i < n; i++) {
      max = Math.max(max, a[i][i]);
    }
    return max;
  }
}
