package io.github.pathsgd.core.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.github.pathsgd.core.tensor.Tensor;
import java.nio.FloatBuffer;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Conv2d against oracles: a direct convolution loop, central differences of a loss, a brute-force path enumerator for
 * φ_p, and the finite-difference Hessian diagonal of ½φ₂² for κ.
 */
class Conv2dTest {
  private static Tensor random(int n, Random r, double scale) {
    Tensor t = new Tensor(n);
    for (int i = 0; i < n; i++) {
      t.set(i, (float) (r.nextGaussian() * scale));
    }
    return t;
  }

  /** Values that are multiples of 1/64 in [-2, 2): w ± 1/8 is exact in float. */
  private static Tensor dyadic(int n, Random r) {
    Tensor t = new Tensor(n);
    for (int i = 0; i < n; i++) {
      int v = r.nextInt(256) - 128;
      t.set(i, v == 0 ? 1f / 64 : v / 64f);
    }
    return t;
  }

  /** The direct definition, in double. */
  private static double direct(Tensor x, Tensor p, int b, int C, int H, int W, int F, int kh, int kw, int s,
      int pad, int wOff, int fi, int y, int xx) {
    int bOff = wOff + F * C * kh * kw;
    double acc = p.get(bOff + fi);
    for (int c = 0; c < C; c++) {
      for (int i = 0; i < kh; i++) {
        for (int j = 0; j < kw; j++) {
          int iy = y * s + i - pad;
          int ix = xx * s + j - pad;
          if (iy >= 0 && iy < H && ix >= 0 && ix < W) {
            acc += (double) p.get(wOff + ((fi * C + c) * kh + i) * kw + j) * x.get(b * C * H * W + (c * H + iy) * W
                + ix);
          }
        }
      }
    }
    return acc;
  }

  @Test
  void forwardMatchesTheDirectDefinitionWithStridePaddingAndANonSquareKernel() {
    Random r = new Random(1);
    int C = 3, H = 7, W = 6, F = 4, kh = 3, kw = 2, s = 2, pad = 1, off = 5, B = 2;
    Conv2d conv = new Conv2d(C, H, W, F, kh, kw, s, pad, off, true);
    assertThat(conv.outHeight()).isEqualTo(4); // (7 + 2 - 3)/2 + 1
    assertThat(conv.outWidth()).isEqualTo(4); // (6 + 2 - 2)/2 + 1
    Tensor x = random(B * conv.in(), r, 1);
    Tensor p = random(off + conv.paramSize(), r, 0.5);
    Tensor out = new Tensor(B * conv.out());
    conv.forward(out, x, p, B, 1f, null);
    for (int b = 0; b < B; b++) {
      for (int fi = 0; fi < F; fi++) {
        for (int y = 0; y < 4; y++) {
          for (int xx = 0; xx < 4; xx++) {
            double want = Math.max(0, direct(x, p, b, C, H, W, F, kh, kw, s, pad, off, fi, y, xx));
            assertThat((double) out.get(b * conv.out() + (fi * 4 + y) * 4 + xx)).isCloseTo(want, within(1e-5));
          }
        }
      }
    }
  }

  /** L = Σ out ⊙ R for the linear (output) convolution, in double from the float forward. */
  private static double loss(Conv2d conv, Tensor x, Tensor p, Tensor rw, int B) {
    Tensor out = new Tensor(B * conv.out());
    conv.forward(out, x, p, B, 1f, null);
    double l = 0;
    for (int i = 0; i < out.size(); i++) {
      l += (double) out.get(i) * rw.get(i);
    }
    return l;
  }

  @Test
  void backwardMatchesCentralDifferences() {
    Random r = new Random(2);
    int C = 2, H = 5, W = 5, F = 3, kh = 3, kw = 3, s = 2, pad = 1, B = 2;
    Conv2d conv = new Conv2d(C, H, W, F, kh, kw, s, pad, 0, false);
    Tensor x = random(B * conv.in(), r, 1);
    Tensor p = random(conv.paramSize(), r, 0.5);
    Tensor rw = random(B * conv.out(), r, 1);
    Tensor out = new Tensor(B * conv.out());
    conv.forward(out, x, p, B, 1f, null);
    Tensor dout = new Tensor(B * conv.out());
    for (int i = 0; i < dout.size(); i++) {
      dout.set(i, rw.get(i));
    }
    Tensor grads = new Tensor(conv.paramSize());
    grads.set(0, 123f); // overwritten, not accumulated
    Tensor dinp = new Tensor(B * conv.in());
    conv.backward(dinp, grads, dout, out, x, p, B, 1f);
    float eps = 1e-2f;
    for (int t = 0; t < conv.paramSize(); t++) {
      float v = p.get(t);
      p.set(t, v + eps);
      double lp = loss(conv, x, p, rw, B);
      p.set(t, v - eps);
      double lm = loss(conv, x, p, rw, B);
      p.set(t, v);
      assertThat((double) grads.get(t)).as("param %d", t).isCloseTo((lp - lm) / (2 * eps), within(2e-3));
    }
    for (int t = 0; t < x.size(); t++) {
      float v = x.get(t);
      x.set(t, v + eps);
      double lp = loss(conv, x, p, rw, B);
      x.set(t, v - eps);
      double lm = loss(conv, x, p, rw, B);
      x.set(t, v);
      assertThat((double) dinp.get(t)).as("input %d", t).isCloseTo((lp - lm) / (2 * eps), within(2e-3));
    }
  }

  @Test
  void hiddenBackwardMasksByTheReluOutput() {
    Random r = new Random(3);
    Conv2d conv = new Conv2d(1, 4, 4, 2, 2, 2, 1, 0, 0, true);
    Tensor x = random(conv.in(), r, 1);
    Tensor p = random(conv.paramSize(), r, 1);
    Tensor out = new Tensor(conv.out());
    conv.forward(out, x, p, 1, 1f, null);
    Tensor dout = new Tensor(conv.out());
    Tensor masked = new Tensor(conv.out());
    for (int i = 0; i < conv.out(); i++) {
      dout.set(i, 1f + i);
      masked.set(i, out.get(i) > 0 ? 1f + i : 0f);
    }
    assertThat(masked.toArray()).contains(0f); // some units are off: the mask is exercised
    Conv2d lin = new Conv2d(1, 4, 4, 2, 2, 2, 1, 0, 0, false);
    Tensor g1 = new Tensor(conv.paramSize());
    Tensor g2 = new Tensor(conv.paramSize());
    conv.backward(null, g1, dout, out, x, p, 1, 1f);
    lin.backward(null, g2, masked, out, x, p, 1, 1f);
    assertThat(g1.toArray()).containsExactly(g2.toArray());
  }

  /** A two-layer conv chain 1×4×4 → (2 filters 2×2, stride 1) 2×3×3 → (1 filter 2×2, stride 1, pad 0) 1×2×2. */
  private static final Conv2d L1 = new Conv2d(1, 4, 4, 2, 2, 2, 1, 0, 0, true);
  private static final Conv2d L2 = new Conv2d(2, 3, 3, 1, 2, 2, 1, 0, L1.paramSize(), false);

  /** φ_p^p of the chain by the layers' γ sweeps (biases included). */
  private static double phiPow(FloatBuffer p, double pw) {
    double[] g0 = new double[L1.in()];
    java.util.Arrays.fill(g0, 1);
    double[] g1 = new double[L1.out()];
    double[] g2 = new double[L2.out()];
    L1.gammaForward(p, g0, g1, pw, true);
    L2.gammaForward(p, g1, g2, pw, true);
    double s = 0;
    for (double v : g2) {
      s += v;
    }
    return s;
  }

  /** φ_p^p of the chain by enumerating every path (from an input pixel or a bias unit) to every output unit. */
  private static double phiPowBrute(FloatBuffer p, double pw) {
    int w2 = L2.weightOffset();
    double sum = 0;
    for (int oy = 0; oy < 2; oy++) {
      for (int ox = 0; ox < 2; ox++) {
        sum += Dense.powAbs(p.get(L2.biasOffset()), pw); // bias b2 → output
        for (int f = 0; f < 2; f++) {
          for (int i2 = 0; i2 < 2; i2++) {
            for (int j2 = 0; j2 < 2; j2++) {
              int hy = oy + i2;
              int hx = ox + j2;
              double e2 = Dense.powAbs(p.get(w2 + (f * 2 + i2) * 2 + j2), pw); // hidden (f, hy, hx) → output
              sum += Dense.powAbs(p.get(L1.biasOffset() + f), pw) * e2; // bias b1_f → hidden → output
              for (int i1 = 0; i1 < 2; i1++) {
                for (int j1 = 0; j1 < 2; j1++) {
                  // pixel (hy + i1, hx + j1) → hidden (f, hy, hx) → output
                  sum += Dense.powAbs(p.get((f * 2 + i1) * 2 + j1), pw) * e2;
                }
              }
            }
          }
        }
      }
    }
    return sum;
  }

  @Test
  void pathNormSweepsAgreeWithTheBruteForcePathEnumerator() {
    Random r = new Random(4);
    Tensor p = random(L1.paramSize() + L2.paramSize(), r, 0.7);
    for (double pw : new double[] {1, 2, 3, 1.5}) {
      double want = phiPowBrute(p.buffer(), pw);
      assertThat(phiPow(p.buffer(), pw)).as("p = %s", pw).isCloseTo(want, within(1e-9 * want));
    }
  }

  @Test
  void kappaIsTheHessianDiagonalOfHalfPhiSquaredForP2() {
    Random r = new Random(5);
    Tensor p = dyadic(L1.paramSize() + L2.paramSize(), r);
    FloatBuffer b = p.buffer();
    double[] g0 = new double[L1.in()];
    java.util.Arrays.fill(g0, 1);
    double[] g1 = new double[L1.out()];
    L1.gammaForward(b, g0, g1, 2, true);
    double[] o2 = new double[L2.out()];
    java.util.Arrays.fill(o2, 1);
    double[] o1 = new double[L1.out()];
    L2.gammaBackward(b, o2, o1, 2);
    double[] kappa = new double[p.size()];
    L1.kappa(g0, o1, 2, kappa);
    L2.kappa(g1, o2, 2, kappa);
    float h = 0.125f;
    double base = phiPow(b, 2);
    for (int t = 0; t < p.size(); t++) {
      float v = p.get(t);
      p.set(t, v + h);
      double up = phiPow(b, 2);
      p.set(t, v - h);
      double down = phiPow(b, 2);
      p.set(t, v);
      // φ₂² is quadratic in each parameter (no path uses a weight twice), so the difference quotient is exact:
      // ∂²(½φ₂²)/∂θ_t² = (φ²(θ + h) − 2φ²(θ) + φ²(θ − h)) / (2h²)
      double hess = (up - 2 * base + down) / (2.0 * h * h);
      assertThat(kappa[t]).as("parameter %d", t).isCloseTo(hess, within(1e-9 * Math.max(1, hess)));
      assertThat(kappa[t]).isPositive();
    }
  }
}
