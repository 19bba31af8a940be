package io.github.pathsgd.core.rnn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.github.pathsgd.testkit.Tries;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Node rescaling of hidden units (W_in row and b ×c_j, W_rec[a,b] ×c_a/c_b, W_out column ÷c_j): the function, φ_p and
 * the Path-SGD steps are invariant, SGD is not.
 */
class RnnInvarianceTest {
  record Problem(RnnLayout layout, int steps, int batch, double[] w, double[] x, double[] target, double[] c) {}

  static Problem draw(SplittableRandom r) {
    RnnLayout l = new RnnLayout(2, 2 + r.nextInt(2), 1 + r.nextInt(2));
    int steps = 2 + r.nextInt(4);
    int batch = 2 + r.nextInt(3);
    double[] w = new double[l.size()];
    for (int i = 0; i < w.length; i++) {
      w[i] = r.nextDouble(-1, 1);
    }
    double[] x = new double[batch * steps * 2];
    for (int i = 0; i < x.length; i++) {
      x[i] = r.nextDouble(0, 1);
    }
    double[] target = new double[batch * l.out()];
    for (int i = 0; i < target.length; i++) {
      target[i] = r.nextDouble(-1, 1);
    }
    double[] c = new double[l.hidden()];
    for (int j = 0; j < c.length; j++) {
      c[j] = Math.exp(r.nextDouble(-2, 2)); // factors from 0.14 to 7.4
    }
    return new Problem(l, steps, batch, w, x, target, c);
  }

  /** The factor s_i by which the rescaling multiplies parameter i. */
  static double[] factors(RnnLayout l, double[] c) {
    int H = l.hidden();
    double[] s = new double[l.size()];
    java.util.Arrays.fill(s, 1);
    for (int j = 0; j < H; j++) {
      for (int i = 0; i < l.in(); i++) {
        s[l.wIn() + j * l.in() + i] = c[j];
      }
      s[l.b() + j] = c[j];
      for (int b = 0; b < H; b++) {
        s[l.wRec() + j * H + b] = c[j] / c[b];
      }
      for (int o = 0; o < l.out(); o++) {
        s[l.wOut() + o * H + j] = 1 / c[j];
      }
    }
    return s;
  }

  static double[] times(double[] w, double[] s) {
    double[] r = new double[w.length];
    for (int i = 0; i < w.length; i++) {
      r[i] = w[i] * s[i];
    }
    return r;
  }

  /** dL/dθ of the mean squared error ½·mean_b Σ_o (y − target)². */
  static double[] gradient(Problem pr, double[] w) {
    double[] y = RnnReference.forward(pr.layout, pr.steps, w, pr.x, pr.batch, null);
    double[] dy = new double[y.length];
    for (int i = 0; i < y.length; i++) {
      dy[i] = (y[i] - pr.target[i]) / pr.batch;
    }
    return RnnReference.backward(pr.layout, pr.steps, w, pr.x, pr.batch, dy);
  }

  /** {@code n} steps of Path-SGD (κ^(1), or κ^(1) + κ^(2)) or, when {@code pathSgd} is false, SGD; momentum 0.9. */
  static double[] train(Problem pr, double[] w0, int n, boolean pathSgd, boolean second) {
    double[] w = w0.clone();
    double[] v = new double[w.length];
    RnnGeometry geo = new RnnGeometry(pr.layout, pr.steps, 2);
    for (int step = 0; step < n; step++) {
      double[] g = gradient(pr, w);
      if (pathSgd) {
        RnnPathSgd.step(w, g, geo.kappa(w, second), second, 0.01, 0.9, v, 0);
      } else {
        for (int i = 0; i < w.length; i++) {
          v[i] = 0.9 * v[i] + g[i];
          w[i] -= 0.05 * v[i];
        }
      }
    }
    return w;
  }

  /** max_i |a_i − b_i| / max_i |b_i|. */
  static double relDiff(double[] a, double[] b) {
    double d = 0;
    double m = 0;
    for (int i = 0; i < a.length; i++) {
      d = Math.max(d, Math.abs(a[i] - b[i]));
      m = Math.max(m, Math.abs(b[i]));
    }
    return d / m;
  }

  @Test
  void rescalingKeepsTheFunctionAndThePathNorm() {
    Tries.forAll(30, 2521, List.of(), RnnInvarianceTest::draw, pr -> {
      double[] s = factors(pr.layout, pr.c);
      double[] w2 = times(pr.w, s);
      double[] y = RnnReference.forward(pr.layout, pr.steps, pr.w, pr.x, pr.batch, null);
      double[] y2 = RnnReference.forward(pr.layout, pr.steps, w2, pr.x, pr.batch, null);
      for (int i = 0; i < y.length; i++) {
        assertThat(y2[i]).as("y[%d]", i).isCloseTo(y[i], within(1e-12 * (1 + Math.abs(y[i]))));
      }
      for (double p : new double[] {1, 1.5, 2, 3}) {
        RnnGeometry geo = new RnnGeometry(pr.layout, pr.steps, p);
        double phi = geo.pathNorm(pr.w);
        assertThat(geo.pathNorm(w2)).as("φ_%s", p).isCloseTo(phi, within(1e-12 * phi));
      }
    });
    // and a rescaling does change the weights a lot (the invariance is not vacuous)
    Problem pr = draw(new SplittableRandom(5));
    assertThat(relDiff(times(pr.w, factors(pr.layout, new double[] {4, 0.25, 2, 3})), pr.w)).isGreaterThan(0.5);
  }

  @Test
  void kappaScalesAsOneOverTheFactorSquared() {
    Tries.forAll(30, 2522, List.of(), RnnInvarianceTest::draw, pr -> {
      double[] s = factors(pr.layout, pr.c);
      for (double p : new double[] {1, 2}) {
        RnnKappa k = new RnnGeometry(pr.layout, pr.steps, p).kappa(pr.w, true);
        RnnKappa k2 = new RnnGeometry(pr.layout, pr.steps, p).kappa(times(pr.w, s), true);
        for (int i = 0; i < s.length; i++) {
          double want = k.kappa(i, true) / (s[i] * s[i]);
          assertThat(k2.kappa(i, true)).as("κ'[%d] p=%s", i, p).isCloseTo(want, within(1e-12 * want));
        }
      }
    });
  }

  @Test
  void pathSgdStepsCommuteWithRescalingAndSgdStepsDoNot() {
    double[] sgdGap = {Double.POSITIVE_INFINITY};
    int[] live = {0};
    Tries.forAll(20, 2523, List.of(), RnnInvarianceTest::draw, pr -> {
      double[] s = factors(pr.layout, pr.c);
      double[] w2 = times(pr.w, s);
      for (int n : new int[] {1, 5}) {
        for (boolean second : new boolean[] {false, true}) {
          double[] a = times(train(pr, pr.w, n, true, second), s);
          double[] b = train(pr, w2, n, true, second);
          assertThat(relDiff(b, a)).as("Path-SGD, %d steps, κ2=%s", n, second).isLessThan(1e-9);
        }
      }
      double[] g = gradient(pr, pr.w);
      boolean anyLive = false;
      for (int i = pr.layout.wIn(); i < pr.layout.wOut(); i++) {
        anyLive |= g[i] != 0;
      }
      if (!anyLive) {
        return; // every hidden unit off on this batch: SGD moves only b_out, which no rescaling touches
      }
      live[0]++;
      double[] a = times(train(pr, pr.w, 5, false, false), s);
      double[] b = train(pr, w2, 5, false, false);
      sgdGap[0] = Math.min(sgdGap[0], relDiff(b, a));
    });
    // SGD from the rescaled weights ends elsewhere: the smallest gap over the live draws is still large
    assertThat(live[0]).isGreaterThan(10);
    assertThat(sgdGap[0]).isGreaterThan(1e-3); // a million times the Path-SGD bound
  }
}
