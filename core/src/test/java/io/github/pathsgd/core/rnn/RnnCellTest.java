package io.github.pathsgd.core.rnn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.github.pathsgd.core.tensor.Blas;
import io.github.pathsgd.core.tensor.Tensor;
import io.github.pathsgd.core.util.Rng;
import io.github.pathsgd.testkit.Tries;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The float kernel against the double reference, the reference against central differences, inits and clipping. */
class RnnCellTest {
  record Case(RnnLayout layout, int steps, int batch, double[] w, double[] x, double[] c) {}

  /** A tiny RNN with weights of order 1 (so units switch on and off), inputs and a loss direction c. */
  static Case draw(SplittableRandom r) {
    RnnLayout l = new RnnLayout(1 + r.nextInt(3), 1 + r.nextInt(4), 1 + r.nextInt(3));
    int steps = 1 + r.nextInt(6);
    int batch = 1 + r.nextInt(4);
    double[] w = new double[l.size()];
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) r.nextDouble(-0.9, 0.9);
    }
    double[] x = new double[batch * steps * l.in()];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) r.nextDouble(-1, 1);
    }
    double[] c = new double[batch * l.out()];
    for (int i = 0; i < c.length; i++) {
      c[i] = r.nextDouble(-1, 1);
    }
    return new Case(l, steps, batch, w, x, c);
  }

  static double loss(Case k, double[] w) {
    double[] y = RnnReference.forward(k.layout, k.steps, w, k.x, k.batch, null);
    double s = 0;
    for (int i = 0; i < y.length; i++) {
      s += k.c[i] * y[i];
    }
    return s;
  }

  /** The smallest |pre-activation| over all units, steps and sequences (a kink within δ breaks a difference). */
  static double minAbsPre(Case k, double[] w) {
    RnnLayout l = k.layout;
    int H = l.hidden();
    double[] hs = new double[k.steps * k.batch * H];
    RnnReference.forward(l, k.steps, w, k.x, k.batch, hs);
    double min = Double.POSITIVE_INFINITY;
    for (int b = 0; b < k.batch; b++) {
      for (int t = 0; t < k.steps; t++) {
        for (int a = 0; a < H; a++) {
          double s = w[l.b() + a];
          for (int i = 0; i < l.in(); i++) {
            s += w[l.wIn() + a * l.in() + i] * k.x[(b * k.steps + t) * l.in() + i];
          }
          for (int c = 0; t > 0 && c < H; c++) {
            s += w[l.wRec() + a * H + c] * hs[((t - 1) * k.batch + b) * H + c];
          }
          min = Math.min(min, Math.abs(s));
        }
      }
    }
    return min;
  }

  @Test
  void referenceGradientMatchesCentralDifferences() {
    int[] checked = {0};
    Tries.forAll(60, 2501, List.of(), RnnCellTest::draw, k -> {
      if (minAbsPre(k, k.w) < 1e-3) {
        return; // a ReLU kink within reach of δ: the difference quotient is not the derivative there
      }
      checked[0]++;
      double[] dy = k.c;
      double[] g = RnnReference.backward(k.layout, k.steps, k.w, k.x, k.batch, dy);
      double h = 1e-6;
      for (int i = 0; i < k.w.length; i++) {
        double[] wp = k.w.clone();
        double[] wm = k.w.clone();
        wp[i] += h;
        wm[i] -= h;
        double fd = (loss(k, wp) - loss(k, wm)) / (2 * h);
        assertThat(g[i]).as("dL/dθ[%d] of %s", i, k.layout).isCloseTo(fd, within(1e-7 * (1 + Math.abs(fd))));
      }
    });
    assertThat(checked[0]).as("draws checked").isGreaterThan(30);
  }

  @Test
  void floatKernelMatchesTheDoubleReference() {
    Tries.forAll(40, 2502, List.of(), RnnCellTest::draw, k -> {
      RnnLayout l = k.layout;
      RnnCell cell = new RnnCell(l, k.steps, k.batch + 2); // scratch for a larger batch than used
      Tensor params = RnnInit.toTensor(k.w);
      Tensor x = new Tensor(k.x.length + 3);
      for (int i = 0; i < k.x.length; i++) {
        x.set(3 + i, (float) k.x[i]);
      }
      Tensor y = new Tensor(k.batch * l.out());
      cell.forward(x, 3, k.batch, params, y);
      double[] yRef = RnnReference.forward(l, k.steps, k.w, k.x, k.batch, null);
      for (int i = 0; i < yRef.length; i++) {
        assertThat((double) y.get(i)).as("y[%d]", i).isCloseTo(yRef[i], within(1e-5 * (1 + Math.abs(yRef[i]))));
      }
      Tensor dy = new Tensor(k.c.length);
      for (int i = 0; i < k.c.length; i++) {
        dy.set(i, (float) k.c[i]);
      }
      double[] dyF = new double[k.c.length];
      for (int i = 0; i < dyF.length; i++) {
        dyF[i] = dy.get(i);
      }
      double[] gRef = RnnReference.backward(l, k.steps, k.w, k.x, k.batch, dyF);
      Tensor grads = new Tensor(l.size());
      cell.backward(dy, params, grads);
      double scale = 1;
      for (double v : gRef) {
        scale = Math.max(scale, Math.abs(v));
      }
      for (int i = 0; i < gRef.length; i++) {
        assertThat((double) grads.get(i)).as("grad[%d]", i).isCloseTo(gRef[i], within(1e-5 * scale));
      }
      cell.backward(dy, params, grads); // backward accumulates
      for (int i = 0; i < gRef.length; i++) {
        assertThat((double) grads.get(i)).as("2·grad[%d]", i).isCloseTo(2 * gRef[i], within(2e-5 * scale));
      }
    });
  }

  @Test
  void hiddenStateFollowsTheRecurrenceByHand() {
    // I = 1, H = 1, O = 1: W_in = 1, W_rec = 2, b = −1, W_out = 3, b_out = 0.5; x = (1, 1, 0.25)
    // h1 = relu(1 − 1) = 0, h2 = relu(1 + 0 − 1) = 0 ... with x1 = 2: h1 = 1, h2 = relu(1 + 2 − 1) = 2,
    // h3 = relu(0.25 + 4 − 1) = 3.25, y = 3·3.25 + 0.5 = 10.25
    RnnLayout l = new RnnLayout(1, 1, 1);
    Tensor params = Tensor.of(1f, 2f, -1f, 3f, 0.5f);
    RnnCell cell = new RnnCell(l, 3, 1);
    Tensor y = new Tensor(1);
    cell.forward(Tensor.of(2f, 1f, 0.25f), 0, 1, params, y);
    assertThat(y.get(0)).isEqualTo(10.25f);
    assertThat(cell.hidden(1, 0, 0)).isEqualTo(1f);
    assertThat(cell.hidden(2, 0, 0)).isEqualTo(2f);
    // dy = 1: dW_out = h3 = 3.25; dh3 = 3 → dW_rec += 3·h2 = 6, dh2 = 6 → += 6·h1 = 6, dh1 = 12; dW_rec = 12
    // dW_in = 3·0.25 + 6·1 + 12·2 = 30.75; db = 3 + 6 + 12 = 21
    Tensor g = new Tensor(5);
    cell.backward(Tensor.of(1f), params, g);
    assertThat(g.toArray()).containsExactly(30.75f, 12f, 21f, 3.25f, 1f);
  }

  @Test
  void stepAllocatesNothing() {
    RnnLayout l = new RnnLayout(2, 16, 1);
    int steps = 20;
    int batch = 8;
    RnnCell cell = new RnnCell(l, steps, batch);
    Tensor params = RnnInit.toTensor(RnnInit.irnn(l, new Rng(3)));
    Tensor x = new Tensor(batch * steps * 2);
    Tensor y = new Tensor(batch);
    Tensor dy = Tensor.of(1, 1, 1, 1, 1, 1, 1, 1);
    Tensor grads = new Tensor(l.size());
    int before = Blas.threads();
    Blas.setThreads(1);
    try {
      var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
      long id = Thread.currentThread().getId();
      long perStep = Long.MAX_VALUE;
      for (int window = 0; window < 10 && perStep > 0; window++) {
        long t0 = mx.getThreadAllocatedBytes(id);
        for (int i = 0; i < 50; i++) {
          cell.forward(x, 0, batch, params, y);
          cell.backward(dy, params, grads);
          GradClip.clipByNorm(grads, 0, l.size(), 1.0);
        }
        perStep = Math.min(perStep, (mx.getThreadAllocatedBytes(id) - t0) / 50);
      }
      assertThat(perStep).isLessThanOrEqualTo(16);
    } finally {
      Blas.setThreads(before);
    }
  }

  @Test
  void clipByNormScalesToTheBoundAndReturnsTheNorm() {
    Tensor g = Tensor.of(9f, 3f, 4f, 7f);
    assertThat(GradClip.clipByNorm(g, 1, 2, 10.0)).isEqualTo(5.0); // ‖(3, 4)‖ = 5 ≤ 10: unchanged
    assertThat(g.toArray()).containsExactly(9f, 3f, 4f, 7f);
    assertThat(GradClip.clipByNorm(g, 1, 2, 1.0)).isEqualTo(5.0);
    assertThat(g.get(1)).isCloseTo(0.6f, within(1e-7f));
    assertThat(g.get(2)).isCloseTo(0.8f, within(1e-7f));
    assertThat(g.get(0)).isEqualTo(9f);
    assertThat(g.get(3)).isEqualTo(7f);
    assertThatThrownBy(() -> GradClip.clipByNorm(g, 0, 4, 0)).hasMessageContaining("clip norm");
  }

  @Test
  void initsHaveTheirStatedShape() {
    RnnLayout l = new RnnLayout(3, 50, 2);
    double[] w = RnnInit.irnn(l, new Rng(7));
    for (int a = 0; a < 50; a++) {
      for (int b = 0; b < 50; b++) {
        assertThat(w[l.wRec() + a * 50 + b]).isEqualTo(a == b ? 1.0 : 0.0);
      }
      assertThat(w[l.b() + a]).isZero();
    }
    // 150 draws of N(0, 0.001²): Σx²/σ² is χ²(150), inside [80, 240] with probability > 1 − 1e-6
    double ss = 0;
    for (int i = l.wIn(); i < l.wRec(); i++) {
      ss += w[i] * w[i];
    }
    assertThat(ss / 1e-6).isBetween(80.0, 240.0);
    double bound = 1 / Math.sqrt(50);
    double[] r = RnnInit.random(l, new Rng(7));
    double max = 0;
    for (double v : r) {
      assertThat(Math.abs(v)).isLessThanOrEqualTo(bound);
      max = Math.max(max, Math.abs(v));
    }
    assertThat(max).isGreaterThan(0.9 * bound); // 2,752 uniform draws: none above 0.9·bound has probability 1e-126
    assertThat(RnnInit.random(l, new Rng(7))).containsExactly(r);
  }

  @Test
  void badSizesAreRefusedWithTheValue() {
    assertThatThrownBy(() -> new RnnLayout(0, 3, 1)).hasMessageContaining("in=0");
    assertThatThrownBy(() -> new RnnCell(new RnnLayout(1, 3, 1), 0, 4)).hasMessageContaining("steps=0");
    RnnCell cell = new RnnCell(new RnnLayout(1, 2, 1), 3, 2);
    assertThatThrownBy(() -> cell.forward(new Tensor(9), 0, 3, new Tensor(11), new Tensor(3)))
        .hasMessageContaining("batch 3 outside [1, 2]");
  }
}
