package io.github.pathsgd.core.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.github.pathsgd.core.tensor.Tensor;
import java.nio.FloatBuffer;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Average and max pooling: hand-worked values, central differences, φ_p of conv → pool → conv chains against a
 * brute-force path enumerator, κ against the Hessian diagonal of ½φ₂², and invariance under a channel rescaling.
 */
class PoolingTest {
  private static Tensor seq(int n) {
    Tensor t = new Tensor(n);
    for (int i = 0; i < n; i++) {
      t.set(i, i);
    }
    return t;
  }

  @Test
  void handWorkedWindows() {
    Tensor x = seq(16); // one 4 × 4 image, values 0..15 row-major
    Tensor avg = new Tensor(4);
    new AvgPool2d(1, 4, 4, 2, 2, 0).forward(avg, x, null, 1, 1f, null);
    assertThat(avg.toArray()).containsExactly(2.5f, 4.5f, 10.5f, 12.5f); // (0+1+4+5)/4, (2+3+6+7)/4, ...
    Tensor max = new Tensor(4);
    MaxPool2d mp = new MaxPool2d(1, 4, 4, 2, 2, 0);
    mp.forward(max, x, null, 1, 1f, null);
    assertThat(max.toArray()).containsExactly(5f, 7f, 13f, 15f);
    Tensor dout = Tensor.of(1, 2, 3, 4);
    Tensor dinp = new Tensor(16);
    mp.backward(dinp, null, dout, max, x, null, 1, 1f);
    float[] want = new float[16];
    want[5] = 1;
    want[7] = 2;
    want[13] = 3;
    want[15] = 4;
    assertThat(dinp.toArray()).containsExactly(want);
    Tensor tie = Tensor.of(3, 3, 3, 3); // a tie goes to the first maximum
    Tensor d1 = new Tensor(4);
    MaxPool2d one = new MaxPool2d(1, 2, 2, 2, 2, 0);
    one.backward(d1, null, Tensor.of(1), Tensor.of(3), tie, null, 1, 1f);
    assertThat(d1.toArray()).containsExactly(1f, 0f, 0f, 0f);
  }

  private static double loss(Layer l, Tensor x, Tensor rw, int B) {
    Tensor out = new Tensor(B * l.out());
    l.forward(out, x, null, B, 1f, null);
    double s = 0;
    for (int i = 0; i < out.size(); i++) {
      s += (double) out.get(i) * rw.get(i);
    }
    return s;
  }

  @Test
  void backwardMatchesCentralDifferencesWithOverlappingWindows() {
    Random r = new Random(6);
    int B = 2;
    for (Layer l : new Layer[] {new AvgPool2d(2, 5, 4, 2, 1, 0), new MaxPool2d(2, 5, 4, 3, 1, 0)}) {
      Tensor x = new Tensor(B * l.in());
      java.util.List<Integer> perm = new java.util.ArrayList<>();
      for (int i = 0; i < x.size(); i++) {
        perm.add(i);
      }
      java.util.Collections.shuffle(perm, r);
      for (int i = 0; i < x.size(); i++) {
        x.set(i, perm.get(i) * 0.1f); // distinct values 0.1 apart: no tie within a step of 0.01
      }
      Tensor rw = new Tensor(B * l.out());
      for (int i = 0; i < rw.size(); i++) {
        rw.set(i, (float) r.nextGaussian());
      }
      Tensor out = new Tensor(B * l.out());
      l.forward(out, x, null, B, 1f, null);
      Tensor dout = new Tensor(B * l.out());
      for (int i = 0; i < dout.size(); i++) {
        dout.set(i, rw.get(i));
      }
      Tensor dinp = new Tensor(B * l.in());
      l.backward(dinp, null, dout, out, x, null, B, 1f);
      float eps = 0.01f;
      for (int t = 0; t < x.size(); t++) {
        float v = x.get(t);
        x.set(t, v + eps);
        double lp = loss(l, x, rw, B);
        x.set(t, v - eps);
        double lm = loss(l, x, rw, B);
        x.set(t, v);
        assertThat((double) dinp.get(t)).as("%s input %d", l.getClass().getSimpleName(), t)
            .isCloseTo((lp - lm) / (2 * eps), within(1e-3));
      }
    }
  }

  /** conv 1×4×4 → 2×3×3 (k 2), a pool (k 2, stride 1) → 2×2×2, conv 2×2×2 → 1×1×1 (k 2). */
  private record Chain(Conv2d c1, Pool2d pool, Conv2d c2) {
    static Chain of(boolean max) {
      Conv2d c1 = new Conv2d(1, 4, 4, 2, 2, 2, 1, 0, 0, true);
      Pool2d pool = max ? new MaxPool2d(2, 3, 3, 2, 1, c1.paramSize()) : new AvgPool2d(2, 3, 3, 2, 1, c1.paramSize());
      Conv2d c2 = new Conv2d(2, 2, 2, 1, 2, 2, 1, 0, c1.paramSize(), false);
      return new Chain(c1, pool, c2);
    }

    int size() {
      return c1.paramSize() + c2.paramSize();
    }

    double phiPow(FloatBuffer p, double pw) {
      double[] g0 = new double[c1.in()];
      java.util.Arrays.fill(g0, 1);
      double[] g1 = new double[c1.out()];
      double[] g2 = new double[pool.out()];
      double[] g3 = new double[c2.out()];
      c1.gammaForward(p, g0, g1, pw, true);
      pool.gammaForward(p, g1, g2, pw, true);
      c2.gammaForward(p, g2, g3, pw, true);
      return g3[0];
    }

    /** Every path: input pixel or bias b1_f → conv1 node → pool node → output, or bias b2 → output. */
    double phiPowBrute(FloatBuffer p, double pw) {
      double e = Dense.powAbs(pool.edgeWeight(), pw);
      double sum = Dense.powAbs(p.get(c2.biasOffset()), pw);
      for (int f = 0; f < 2; f++) {
        for (int py = 0; py < 2; py++) {
          for (int px = 0; px < 2; px++) { // pool node (f, py, px) → output through W2[0, f, py, px]
            double w2 = Dense.powAbs(p.get(c2.weightOffset() + (f * 2 + py) * 2 + px), pw);
            for (int i = 0; i < 2; i++) {
              for (int j = 0; j < 2; j++) { // conv1 node (f, py + i, px + j) → pool node
                sum += Dense.powAbs(p.get(c1.biasOffset() + f), pw) * e * w2;
                for (int a = 0; a < 2; a++) {
                  for (int b = 0; b < 2; b++) { // pixel (py + i + a, px + j + b) → conv1 node
                    sum += Dense.powAbs(p.get((f * 2 + a) * 2 + b), pw) * e * w2;
                  }
                }
              }
            }
          }
        }
      }
      return sum;
    }

    float forward(Tensor p, Tensor x) {
      Tensor a1 = new Tensor(c1.out());
      Tensor a2 = new Tensor(pool.out());
      Tensor a3 = new Tensor(1);
      c1.forward(a1, x, p, 1, 1f, null);
      pool.forward(a2, a1, p, 1, 1f, null);
      c2.forward(a3, a2, p, 1, 1f, null);
      return a3.get(0);
    }
  }

  @Test
  void pathNormsThroughPoolingAgreeWithTheBruteForceEnumerator() {
    Random r = new Random(7);
    for (boolean max : new boolean[] {false, true}) {
      Chain ch = Chain.of(max);
      Tensor p = new Tensor(ch.size());
      for (int i = 0; i < p.size(); i++) {
        p.set(i, (float) r.nextGaussian());
      }
      for (double pw : new double[] {1, 2, 3}) {
        double want = ch.phiPowBrute(p.buffer(), pw);
        assertThat(ch.phiPow(p.buffer(), pw)).as("max %s p %s", max, pw).isCloseTo(want, within(1e-9 * want));
      }
    }
  }

  @Test
  void kappaThroughAveragePoolingIsTheHessianDiagonal() {
    Chain ch = Chain.of(false);
    Random r = new Random(8);
    Tensor p = new Tensor(ch.size());
    for (int i = 0; i < p.size(); i++) {
      int v = r.nextInt(256) - 128;
      p.set(i, v == 0 ? 1f / 64 : v / 64f);
    }
    FloatBuffer b = p.buffer();
    double[] g0 = new double[ch.c1().in()];
    java.util.Arrays.fill(g0, 1);
    double[] g1 = new double[ch.c1().out()];
    double[] g2 = new double[ch.pool().out()];
    ch.c1().gammaForward(b, g0, g1, 2, true);
    ch.pool().gammaForward(b, g1, g2, 2, true);
    double[] o3 = {1};
    double[] o2 = new double[ch.pool().out()];
    double[] o1 = new double[ch.c1().out()];
    ch.c2().gammaBackward(b, o3, o2, 2);
    ch.pool().gammaBackward(b, o2, o1, 2);
    double[] kappa = new double[p.size()];
    ch.c1().kappa(g0, o1, 2, kappa);
    ch.c2().kappa(g2, o3, 2, kappa);
    double base = ch.phiPow(b, 2);
    float h = 0.125f;
    for (int t = 0; t < p.size(); t++) {
      float v = p.get(t);
      p.set(t, v + h);
      double up = ch.phiPow(b, 2);
      p.set(t, v - h);
      double down = ch.phiPow(b, 2);
      p.set(t, v);
      double hess = (up - 2 * base + down) / (2.0 * h * h);
      assertThat(kappa[t]).as("parameter %d", t).isCloseTo(hess, within(1e-9 * Math.max(1, hess)));
    }
  }

  @Test
  void rescalingAChannelKeepsTheFunctionAndThePathNorms() {
    Random r = new Random(9);
    for (boolean max : new boolean[] {false, true}) {
      Chain ch = Chain.of(max);
      Tensor p = new Tensor(ch.size());
      for (int i = 0; i < p.size(); i++) {
        p.set(i, (float) r.nextGaussian());
      }
      Tensor x = new Tensor(16);
      for (int i = 0; i < 16; i++) {
        x.set(i, r.nextFloat());
      }
      // channel 1 of conv1 by c = 8 (a power of two: exact): its filter and bias ×c, conv2's weights from it ×1/c
      Tensor q = new Tensor(ch.size());
      for (int i = 0; i < p.size(); i++) {
        q.set(i, p.get(i));
      }
      float c = 8f;
      for (int i = 4; i < 8; i++) {
        q.set(i, p.get(i) * c); // W1[1, 0, :, :]
      }
      q.set(ch.c1().biasOffset() + 1, p.get(ch.c1().biasOffset() + 1) * c);
      for (int i = 4; i < 8; i++) {
        q.set(ch.c2().weightOffset() + i, p.get(ch.c2().weightOffset() + i) / c); // W2[0, 1, :, :]
      }
      assertThat(ch.forward(q, x)).isEqualTo(ch.forward(p, x));
      for (double pw : new double[] {1, 2}) {
        double a = ch.phiPow(p.buffer(), pw);
        double b = ch.phiPow(q.buffer(), pw);
        // the products along a path are unchanged; for p ≠ 1 the conv1 bias path of channel 1 keeps its c·(1/c)
        assertThat(b).as("max %s p %s", max, pw).isCloseTo(a, within(1e-12 * a));
      }
    }
  }
}
