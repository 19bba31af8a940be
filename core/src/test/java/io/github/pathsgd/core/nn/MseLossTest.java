package io.github.pathsgd.core.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.pathsgd.core.rnn.RnnLayout;
import io.github.pathsgd.core.rnn.RnnReference;
import io.github.pathsgd.core.tensor.Tensor;
import io.github.pathsgd.testkit.Tries;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The mean-squared-error loss ({@link Loss#mse}) by hand, and through the RNN ({@code rnn(H)} with one output): the
 * float network's loss and gradient against central differences of the double reference's MSE.
 */
class MseLossTest {
  /** y = (0.5, 2, -1), t = (1, 1.98, -1): errors −0.5, 0.02, 0; loss 0.25 + 0.0004; one row wrong (|e| ≥ 0.04). */
  @Test
  void lossGradientAndErrorCountByHand() {
    Tensor y = new Tensor(3);
    y.set(0, 0.5f);
    y.set(1, 2f);
    y.set(2, -1f);
    float[] t = {9f, 1f, 1.98f, -1f}; // read from yOff = 1
    Tensor d = new Tensor(3);
    double[] out = new double[2];
    Loss.mse(t).apply(y, null, 1, 3, 1, d, out);
    assertThat(out[0]).isCloseTo(0.25 + (2.0 - 1.98f) * (2.0 - 1.98f), org.assertj.core.data.Offset.offset(1e-12));
    assertThat(out[1]).isEqualTo(1);
    assertThat(d.get(0)).isCloseTo(2 * -0.5f / 3, org.assertj.core.data.Offset.offset(1e-7f));
    assertThat(d.get(1)).isCloseTo((float) (2 * (2.0 - 1.98f) / 3), org.assertj.core.data.Offset.offset(1e-7f));
    assertThat(d.get(2)).isEqualTo(0f);
  }

  /** An error of 0.0399 (just under the 0.04 tolerance) counts as right, one of 0.05 as wrong. */
  @Test
  void toleranceBoundary() {
    Tensor y = new Tensor(2);
    y.set(0, 0.5f);
    y.set(1, 0.5f);
    float below = (float) (0.5 - 0.0399);
    float at = (float) (0.5 - 0.05);
    double[] out = new double[2];
    Loss.mse(new float[] {below, at}).apply(y, null, 0, 2, 1, null, out);
    assertThat(out[1]).isEqualTo(1);
  }

  @Test
  void refusesMoreThanOneOutputAndRowsPastTheTargets() {
    Tensor y = new Tensor(20);
    assertThatThrownBy(() -> Loss.mse(new float[2]).apply(y, null, 0, 2, 10, null, new double[2]))
        .hasMessageContaining("10 outputs, expected 1");
    assertThatThrownBy(() -> Loss.mse(new float[2]).apply(y, null, 1, 2, 1, null, new double[2]))
        .hasMessageContaining("past the 2 targets");
  }

  record Draw(LayerNet net, RnnLayout layout, int steps, int batch, float[] x, float[] t) {}

  static Draw draw(SplittableRandom r) {
    int F = 1 + r.nextInt(2);
    int H = 2 + r.nextInt(2);
    int T = 2 + r.nextInt(4);
    int B = 2 + r.nextInt(3);
    LayerNet net = LayerSpec.parse("rnn(" + H + ")").build(1, T, F, 1);
    Tensor p = net.params();
    for (int i = 0; i < p.size(); i++) {
      p.set(i, (float) r.nextDouble(-1, 1));
    }
    float[] x = new float[B * T * F];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) r.nextDouble(0, 1);
    }
    float[] t = new float[B];
    for (int b = 0; b < B; b++) {
      t[b] = (float) r.nextDouble(0, 2);
    }
    return new Draw(net, new RnnLayout(F, H, 1), T, B, x, t);
  }

  static double mse(Draw d, double[] w, double[] x) {
    double[] y = RnnReference.forward(d.layout(), d.steps(), w, x, d.batch(), null);
    double s = 0;
    for (int b = 0; b < d.batch(); b++) {
      s += (y[b] - d.t()[b]) * (y[b] - d.t()[b]);
    }
    return s / d.batch();
  }

  /**
   * The float network's mean MSE and dL/dθ against the double reference's MSE and its central differences (δ = 1e-6);
   * a draw whose differences at δ and δ/10 disagree (a ReLU kink within δ) is skipped, and at least 30 of 40 must be
   * checked.
   */
  @Test
  void gradientThroughTheRnnMatchesCentralDifferences() {
    AtomicInteger checked = new AtomicInteger();
    Tries.forAll(40, 2525, List.of(), MseLossTest::draw, d -> {
      Network.Workspace ws = d.net().workspace(d.batch()).loss(Loss.mse(d.t()));
      ws.input().copyFrom(d.x(), 0, 0, d.x().length);
      Tensor grads = new Tensor(d.net().params().size());
      StepStats st = d.net().lossAndGradient(ws, d.batch(), new int[d.batch()], 0, grads, 1f, null);
      float[] f = d.net().params().toArray();
      double[] w = new double[f.length];
      for (int i = 0; i < f.length; i++) {
        w[i] = f[i];
      }
      double[] x = new double[d.x().length];
      for (int i = 0; i < x.length; i++) {
        x[i] = d.x()[i];
      }
      double loss = mse(d, w, x);
      assertThat(Math.abs(st.loss() - loss)).as("loss " + st.loss() + " vs " + loss)
          .isLessThanOrEqualTo(1e-4 * Math.max(1, loss));
      double[] cd = new double[w.length];
      for (int i = 0; i < w.length; i++) {
        double c1 = central(d, w, x, i, 1e-6);
        double c2 = central(d, w, x, i, 1e-7);
        if (Math.abs(c1 - c2) > 1e-5 * Math.max(1, Math.abs(c1))) {
          return; // a kink within δ: skipped
        }
        cd[i] = c1;
      }
      double scale = 1e-3;
      for (double v : cd) {
        scale = Math.max(scale, Math.abs(v));
      }
      for (int i = 0; i < w.length; i++) {
        assertThat(Math.abs(grads.get(i) - cd[i])).as("dL/dθ[" + i + "]: " + grads.get(i) + " vs " + cd[i])
            .isLessThanOrEqualTo(1e-4 * scale);
      }
      checked.incrementAndGet();
    });
    assertThat(checked.get()).as("draws checked").isGreaterThanOrEqualTo(30);
  }

  private static double central(Draw d, double[] w, double[] x, int i, double h) {
    double[] a = w.clone();
    a[i] += h;
    double[] b = w.clone();
    b[i] -= h;
    return (mse(d, a, x) - mse(d, b, x)) / (2 * h);
  }
}
