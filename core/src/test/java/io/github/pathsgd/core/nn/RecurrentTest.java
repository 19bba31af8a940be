package io.github.pathsgd.core.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.pathsgd.core.geometry.LayerKappa;
import io.github.pathsgd.core.geometry.PathNorms;
import io.github.pathsgd.core.geometry.RescalingGroups;
import io.github.pathsgd.core.rnn.RnnGeometry;
import io.github.pathsgd.core.rnn.RnnLayout;
import io.github.pathsgd.core.rnn.RnnReference;
import io.github.pathsgd.core.tensor.Tensor;
import io.github.pathsgd.testkit.Tries;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The {@code rnn(H)} item as a layer of a {@link LayerNet}: its network (rnn, then the dense output) against the
 * RNN's own double reference and geometry, which share its flat parameter order (W_in, W_rec, b, W_out, b_out); φ_∞
 * against every unrolled path; node rescaling through the rescaling groups; the grammar's refusals.
 */
class RecurrentTest {
  record Net(LayerNet net, RnnLayout layout, int steps, int batch, float[] x, int[] labels, boolean kappa2) {
    double[] w() {
      float[] f = net.params().toArray();
      double[] d = new double[f.length];
      for (int i = 0; i < f.length; i++) {
        d[i] = f[i];
      }
      return d;
    }

    double[] xd() {
      double[] d = new double[x.length];
      for (int i = 0; i < x.length; i++) {
        d[i] = x[i];
      }
      return d;
    }
  }

  static Net draw(SplittableRandom r) {
    int F = 1 + r.nextInt(2);
    int H = 2 + r.nextInt(2);
    int O = 2 + r.nextInt(2);
    int T = 2 + r.nextInt(4);
    int B = 2 + r.nextInt(3);
    boolean k2 = r.nextBoolean();
    LayerNet net = LayerSpec.parse("rnn(" + H + (k2 ? ",kappa2" : "") + ")").build(1, T, F, O);
    Tensor p = net.params();
    for (int i = 0; i < p.size(); i++) {
      p.set(i, (float) r.nextDouble(-1, 1));
    }
    float[] x = new float[B * T * F];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) r.nextDouble(0, 1);
    }
    int[] labels = new int[B];
    for (int b = 0; b < B; b++) {
      labels[b] = r.nextInt(O);
    }
    return new Net(net, new RnnLayout(F, H, O), T, B, x, labels, k2);
  }

  static void assertClose(double actual, double expected, double rel, String what) {
    double tol = rel * Math.max(1e-6, Math.abs(expected));
    assertThat(Math.abs(actual - expected)).as(what + ": " + actual + " vs " + expected).isLessThanOrEqualTo(tol);
  }

  @Test
  void logitsAndGradientMatchTheReference() {
    Tries.forAll(40, 2501, List.of(), RecurrentTest::draw, n -> {
      LayerNet net = n.net();
      Network.Workspace ws = net.workspace(n.batch());
      ws.input().copyFrom(n.x(), 0, 0, n.x().length);
      Tensor grads = new Tensor(net.params().size());
      grads.fill(7f); // the layers write (do not add to) their gradient
      net.lossAndGradient(ws, n.batch(), n.labels(), 0, grads, 1f, null);
      double[] w = n.w();
      double[] y = RnnReference.forward(n.layout(), n.steps(), w, n.xd(), n.batch(), null);
      int O = n.layout().out();
      Tensor logits = ws.logits();
      double[] dy = new double[y.length];
      for (int b = 0; b < n.batch(); b++) {
        double max = Double.NEGATIVE_INFINITY;
        for (int o = 0; o < O; o++) {
          assertClose(logits.get(b * O + o), y[b * O + o], 1e-4, "logit " + b + "," + o);
          max = Math.max(max, y[b * O + o]);
        }
        double z = 0;
        for (int o = 0; o < O; o++) {
          z += Math.exp(y[b * O + o] - max);
        }
        for (int o = 0; o < O; o++) {
          dy[b * O + o] = (Math.exp(y[b * O + o] - max) / z - (o == n.labels()[b] ? 1 : 0)) / n.batch();
        }
      }
      double[] g = RnnReference.backward(n.layout(), n.steps(), w, n.xd(), n.batch(), dy);
      double scale = 0;
      for (double v : g) {
        scale = Math.max(scale, Math.abs(v));
      }
      for (int i = 0; i < g.length; i++) {
        assertThat(Math.abs(grads.get(i) - g[i])).as("dL/dθ[" + i + "]: " + grads.get(i) + " vs " + g[i])
            .isLessThanOrEqualTo(1e-4 * Math.max(scale, 1e-3));
      }
    });
  }

  @Test
  void kappaAndPhiMatchTheRnnGeometry() {
    Tries.forAll(40, 2502, List.of(), RecurrentTest::draw, n -> {
      double[] w = n.w();
      for (double p : new double[] {1, 1.5, 2, 3}) {
        RnnGeometry geo = new RnnGeometry(n.layout(), n.steps(), p);
        assertClose(PathNorms.phi(n.net().layers(), n.net().params(), p, true), geo.pathNorm(w), 1e-9, "φ_" + p);
        boolean second = n.kappa2() && p <= 2 && p != 1.5;
        if (n.kappa2() && !second) {
          assertThatThrownBy(() -> LayerKappa.of(n.net().layers(), n.net().params(), p))
              .hasMessageContaining("κ^(2)").hasMessageContaining("p = 1 and 2");
          continue;
        }
        double[] kappa = LayerKappa.of(n.net().layers(), n.net().params(), p);
        var expected = geo.kappa(w, second);
        for (int i = 0; i < w.length; i++) {
          assertClose(kappa[i], expected.kappa(i, second), 1e-9, "κ[" + i + "] p=" + p + " κ2=" + second);
        }
      }
    });
  }

  /** φ_∞ = the largest |π_P| over every unrolled path (sources x_t[i], b_j at step t, b_out[o]), enumerated. */
  @Test
  void phiInfinityIsTheLargestPath() {
    Tries.forAll(30, 2503, List.of(), RecurrentTest::draw, n -> {
      double[] w = n.w();
      RnnLayout l = n.layout();
      int H = l.hidden();
      double best = 0;
      for (int o = 0; o < l.out(); o++) {
        best = Math.max(best, Math.abs(w[l.bOut() + o]));
        for (int j = 0; j < H; j++) {
          double out = Math.abs(w[l.wOut() + o * H + j]);
          for (int t = 1; t <= n.steps(); t++) { // the path enters at step t into unit a, then walks to j at T
            for (int a = 0; a < H; a++) {
              double walk = longest(w, l, a, j, n.steps() - t);
              double src = Math.abs(w[l.b() + a]);
              for (int i = 0; i < l.in(); i++) {
                src = Math.max(src, Math.abs(w[l.wIn() + a * l.in() + i]));
              }
              best = Math.max(best, src * walk * out);
            }
          }
        }
      }
      assertClose(PathNorms.phi(n.net().layers(), n.net().params(), Double.POSITIVE_INFINITY, true), best, 1e-12,
          "φ_∞");
    });
  }

  /** The largest product of |W_rec| along a walk of {@code len} edges from unit a to unit j, by enumeration. */
  private static double longest(double[] w, RnnLayout l, int a, int j, int len) {
    if (len == 0) {
      return a == j ? 1 : 0;
    }
    double best = 0;
    for (int b = 0; b < l.hidden(); b++) { // first edge a → b (W_rec[b, a])
      best = Math.max(best, Math.abs(w[l.wRec() + b * l.hidden() + a]) * longest(w, l, b, j, len - 1));
    }
    return best;
  }

  @Test
  void rescalingAHiddenUnitKeepsTheFunctionAndPhiAndMapsKappa() {
    Tries.forAll(30, 2504, List.of(), RecurrentTest::draw, n -> {
      LayerNet net = n.net();
      RnnLayout l = n.layout();
      int H = l.hidden();
      RescalingGroups groups = RescalingGroups.of(net.layers());
      assertThat(groups.hidden()).containsExactly(0);
      assertThat(groups.family(0).channels()).isEqualTo(H);
      Network.Workspace ws = net.workspace(n.batch());
      ws.input().copyFrom(n.x(), 0, 0, n.x().length);
      float[] before = net.forward(ws, n.batch(), 1f, null).toArray(0, n.batch() * l.out());
      double phi = PathNorms.phi(net.layers(), net.params(), 2, true);
      double[] kappa = LayerKappa.of(net.layers(), net.params(), 2);
      double[] w0 = n.w();
      SplittableRandom r = new SplittableRandom(H * 31L + n.steps());
      double[] c = new double[H];
      for (int j = 0; j < H; j++) {
        c[j] = Math.exp(r.nextDouble(-1.5, 1.5));
        groups.scale(net.params().buffer(), 0, j, c[j]);
      }
      double[] w1 = n.w();
      for (int j = 0; j < H; j++) { // the stated map: W_in row and b ×c_j, W_rec[a, b] ×c_a/c_b, W_out column ÷c_j
        assertClose(w1[l.b() + j], w0[l.b() + j] * c[j], 1e-6, "b_" + j);
        for (int b = 0; b < H; b++) {
          assertClose(w1[l.wRec() + j * H + b], w0[l.wRec() + j * H + b] * c[j] / c[b], 1e-6, "W_rec");
        }
        for (int o = 0; o < l.out(); o++) {
          assertClose(w1[l.wOut() + o * H + j], w0[l.wOut() + o * H + j] / c[j], 1e-6, "W_out");
        }
      }
      float[] after = net.forward(ws, n.batch(), 1f, null).toArray(0, n.batch() * l.out());
      for (int i = 0; i < before.length; i++) {
        assertClose(after[i], before[i], 1e-4, "logit " + i);
      }
      assertClose(PathNorms.phi(net.layers(), net.params(), 2, true), phi, 1e-5, "φ_2");
      double[] k1 = LayerKappa.of(net.layers(), net.params(), 2);
      for (int i = 0; i < kappa.length; i++) {
        double s = w0[i] == 0 ? 1 : w1[i] / w0[i];
        assertClose(k1[i], kappa[i] / (s * s), 1e-4, "κ[" + i + "]");
      }
    });
  }

  @Test
  void grammarReadsAndRefusesByName() {
    assertThat(LayerSpec.parse("rnn(8)").toString()).isEqualTo("rnn(8)");
    assertThat(LayerSpec.parse("RNN(8, kappa2),dense(4)").toString()).isEqualTo("rnn(8,kappa2),dense(4)");
    LayerNet net = LayerSpec.parse("rnn(8),dense(4)").build(1, 5, 2, 3);
    assertThat(net.layers().get(0).paramSlices()).extracting(ParamSlice::name)
        .containsExactly("weight_ih_l0", "weight_hh_l0", "bias_hh_l0");
    assertThat(net.inputs()).isEqualTo(10);
    assertThat(net.params().size()).isEqualTo(8 * 2 + 8 * 8 + 8 + 4 * 8 + 4 + 3 * 4 + 3);
    assertThat(net.layout().denseChain()).isNull();
    assertThatThrownBy(() -> LayerSpec.parse("rnn(0)")).hasMessage("layers: 'rnn(0)': expected rnn(UNITS) or "
        + "rnn(UNITS,kappa2) with UNITS >= 1");
    assertThatThrownBy(() -> LayerSpec.parse("rnn(4,k2)")).hasMessageContaining("'rnn(4,k2)'");
    assertThatThrownBy(() -> LayerSpec.parse("dense(4),rnn(8)").build(1, 5, 2, 3))
        .hasMessageStartingWith("layers: layer 2 'rnn(8)': an rnn must be the first item");
    assertThatThrownBy(() -> LayerSpec.parse("rnn(8)").build(3, 5, 2, 3))
        .hasMessageContaining("'rnn(8)' needs a sequence input 1xTxF");
    assertThatThrownBy(() -> LayerSpec.parse("res(rnn(8))")).hasMessageContaining("is not a conv or dense item");
  }
}
