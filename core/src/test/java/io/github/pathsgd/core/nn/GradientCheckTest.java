package io.github.pathsgd.core.nn;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.pathsgd.core.tensor.Tensor;
import io.github.pathsgd.core.util.Rng;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Gradient checks: every layer's backward against central differences of its forward in double, the double oracle
 * network against central differences, and the float32 network against the oracle (with and without dropout).
 */
class GradientCheckTest {
  static final double H = 1e-6;

  /** The central difference (f(v + H·e_k) − f(v − H·e_k)) / 2H; v is not modified. */
  static double centralDiff(java.util.function.ToDoubleFunction<double[]> f, double[] v, int k) {
    double[] w = v.clone();
    w[k] += H;
    double up = f.applyAsDouble(w);
    w[k] -= 2 * H;
    return (up - f.applyAsDouble(w)) / (2 * H);
  }

  static double relErr(double a, double b) {
    return Math.abs(a - b) / Math.max(1e-8, Math.abs(a) + Math.abs(b));
  }

  static Tensor tensor(double[] v) {
    Tensor t = new Tensor(v.length);
    for (int i = 0; i < v.length; i++) {
      t.set(i, (float) v[i]);
    }
    return t;
  }

  static double[] gaussian(Random r, int n, double s) {
    double[] v = new double[n];
    for (int i = 0; i < n; i++) {
      v[i] = r.nextGaussian() * s;
    }
    return v;
  }

  /** Rounds to float and back, so double and float code see the same numbers. */
  static double[] f32(double[] v) {
    double[] o = new double[v.length];
    for (int i = 0; i < v.length; i++) {
      o[i] = (float) v[i];
    }
    return o;
  }

  @Test
  void linearLayerBackwardMatchesCentralDifferences() {
    Random r = new Random(1);
    int B = 4, I = 5, O = 3;
    DenseChain lay = new DenseChain(I, O);
    double[] p = f32(gaussian(r, lay.size(), 1));
    double[] x = f32(gaussian(r, B * I, 1));
    double[] g = f32(gaussian(r, B * O, 1)); // upstream dL/dz; L = <g, x Wᵀ + b>
    java.util.function.BiFunction<double[], double[], Double> f = (pp, xx) -> {
      double s = 0;
      for (int b = 0; b < B; b++) {
        for (int o = 0; o < O; o++) {
          double z = pp[lay.biasOffset(0) + o];
          for (int i = 0; i < I; i++) {
            z += xx[b * I + i] * pp[lay.weightOffset(0) + o * I + i];
          }
          s += g[b * O + o] * z;
        }
      }
      return s;
    };
    Tensor params = tensor(p);
    Tensor grads = new Tensor(lay.size());
    Tensor dinp = new Tensor(B * I);
    Layers.linearBackward(dinp, grads, lay.weightOffset(0), lay.biasOffset(0), tensor(g), tensor(x), params, B, I, O);
    for (int k = 0; k < p.length; k++) {
      double num = centralDiff(q -> f.apply(q, x), p, k);
      assertThat(relErr(grads.get(k), num)).as("param %d", k).isLessThan(1e-5);
    }
    for (int k = 0; k < x.length; k++) {
      double num = centralDiff(q -> f.apply(p, q), x, k);
      assertThat(relErr(dinp.get(k), num)).as("input %d", k).isLessThan(1e-5);
    }
    // forward agrees with the definition too
    Tensor out = new Tensor(B * O);
    Layers.linearForward(out, tensor(x), params, lay.weightOffset(0), B, I, O);
    Layers.biasForward(out, params, lay.biasOffset(0), B, O);
    double s = 0;
    for (int k = 0; k < B * O; k++) {
      s += g[k] * out.get(k);
    }
    assertThat(s).isCloseTo(f.apply(p, x), org.assertj.core.api.Assertions.within(1e-4));
  }

  @ParameterizedTest
  @ValueSource(floats = {1f, 0.5f})
  void reluDropoutBackwardMatchesCentralDifferences(float retain) {
    Random r = new Random(2);
    int B = 3, O = 6;
    double[] z = f32(gaussian(r, B * O, 1));
    double[] g = f32(gaussian(r, B * O, 1));
    // the layer reads a bias from params; use zero bias so z is the pre-activation
    Tensor params = new Tensor(O);
    Tensor a = tensor(z);
    Layers.biasReluDropoutForward(a, params, 0, B, O, retain, new Rng(7));
    // replay the mask: kept iff the same stream's draw < retain
    Rng replay = new Rng(7);
    boolean[] keep = new boolean[B * O];
    for (int k = 0; k < B * O; k++) {
      keep[k] = retain >= 1f || replay.nextFloat() < retain;
    }
    Tensor d = tensor(g);
    Layers.reluDropoutBackward(d, a, B, O, retain);
    for (int k = 0; k < B * O; k++) {
      final int kk = k;
      java.util.function.DoubleUnaryOperator f = zz -> g[kk] * (keep[kk] ? Math.max(zz, 0) / retain : 0);
      double num = (f.applyAsDouble(z[k] + H) - f.applyAsDouble(z[k] - H)) / (2 * H);
      assertThat(d.get(k)).as("unit %d", k).isCloseTo((float) num, org.assertj.core.api.Assertions.within(1e-5f));
      double want = keep[k] ? Math.max(z[k], 0) / retain : 0;
      assertThat((double) a.get(k)).isCloseTo(want, org.assertj.core.api.Assertions.within(1e-6));
    }
  }

  @Test
  void softmaxCrossEntropyMatchesCentralDifferences() {
    Random r = new Random(3);
    int B = 4, C = 5;
    double[] logits = f32(gaussian(r, B * C, 3));
    int[] y = {0, 4, 2, 2};
    java.util.function.ToDoubleFunction<double[]> f = lg -> {
      double s = 0;
      for (int b = 0; b < B; b++) {
        double m = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < C; c++) {
          m = Math.max(m, lg[b * C + c]);
        }
        double e = 0;
        for (int c = 0; c < C; c++) {
          e += Math.exp(lg[b * C + c] - m);
        }
        s += m + Math.log(e) - lg[b * C + y[b]];
      }
      return s / B;
    };
    Tensor t = tensor(logits);
    Tensor d = new Tensor(B * C);
    double[] out = new double[2];
    Layers.softmaxCrossEntropy(t, y, 0, B, C, d, out);
    assertThat(out[0] / B).isCloseTo(f.applyAsDouble(logits), org.assertj.core.api.Assertions.within(1e-9));
    for (int k = 0; k < B * C; k++) {
      double num = centralDiff(f, logits, k);
      assertThat((double) d.get(k)).as("logit %d", k).isCloseTo(num, org.assertj.core.api.Assertions.within(1e-6));
    }
  }

  @Test
  void softmaxIsStableForHugeLogits() {
    Tensor t = Tensor.of(1000f, -1000f, 999f);
    double[] out = new double[2];
    Layers.softmaxCrossEntropy(t, new int[] {2}, 0, 1, 3, null, out);
    // loss = log(1 + e^-1 + e^-1999) ≈ 1.3132617
    assertThat(out[0]).isCloseTo(Math.log(1 + Math.exp(-1)) + 1.0, org.assertj.core.api.Assertions.within(1e-6));
    assertThat(out[1]).isEqualTo(1);
  }

  @Test
  void referenceNetworkMatchesCentralDifferences() {
    Random r = new Random(4);
    int[] widths = {4, 6, 5, 3};
    DenseChain lay = new DenseChain(widths);
    double[] p = gaussian(r, lay.size(), 0.7);
    int B = 5;
    double[] x = gaussian(r, B * 4, 1);
    int[] y = {0, 1, 2, 1, 0};
    ReferenceMlp ref = new ReferenceMlp(widths, p);
    double[] grad = new double[p.length];
    ref.forwardBackward(x, y, B, null, 1, grad);
    for (int k = 0; k < p.length; k++) {
      double num = centralDiff(q -> new ReferenceMlp(widths, q).loss(x, y, B, null, 1), p, k);
      assertThat(Math.abs(grad[k] - num)).as("param %d", k).isLessThan(1e-7 + 1e-5 * Math.abs(num));
    }
  }

  @ParameterizedTest
  @ValueSource(floats = {1f, 0.5f})
  void floatNetworkMatchesDoubleOracle(float retain) {
    Random r = new Random(5);
    int[] widths = {7, 9, 8, 6, 4};
    DenseChain lay = new DenseChain(widths);
    LayerNet net = Init.balanced(lay, new Rng(11));
    // non-zero biases so the bias paths are exercised
    for (int l = 0; l < lay.layers(); l++) {
      for (int o = 0; o < lay.out(l); o++) {
        net.params().set(lay.biasOffset(l) + o, (float) (0.1 * r.nextGaussian()));
      }
    }
    int B = 6;
    double[] x = f32(gaussian(r, B * 7, 1));
    int[] y = {0, 1, 2, 3, 1, 0};
    Network.Workspace ws = net.workspace(B);
    for (int k = 0; k < x.length; k++) {
      ws.input().set(k, (float) x[k]);
    }
    Tensor grads = new Tensor(lay.size());
    Dropout dropout = new Dropout(retain, 1f);
    StepStats st = net.lossAndGradient(ws, B, y, 0, grads, dropout, new Rng(99));
    // replay the masks in the order the network draws them: layer by layer, row-major
    boolean[][] masks = null;
    if (retain < 1f) {
      Rng replay = new Rng(99);
      masks = new boolean[lay.layers() - 1][];
      for (int l = 0; l < lay.layers() - 1; l++) {
        masks[l] = new boolean[B * lay.out(l)];
        for (int k = 0; k < masks[l].length; k++) {
          masks[l][k] = replay.nextFloat() < retain;
        }
      }
    }
    double[] p = new double[lay.size()];
    for (int k = 0; k < p.length; k++) {
      p[k] = net.params().get(k);
    }
    ReferenceMlp ref = new ReferenceMlp(widths, p);
    double[] want = new double[p.length];
    double loss = ref.forwardBackward(x, y, B, masks, retain, want);
    assertThat(st.loss()).isCloseTo(loss, org.assertj.core.api.Assertions.within(1e-5));
    double scale = 0;
    for (double v : want) {
      scale = Math.max(scale, Math.abs(v));
    }
    for (int k = 0; k < p.length; k++) {
      assertThat(Math.abs(grads.get(k) - want[k])).as("param %d", k).isLessThan(1e-5 * scale + 1e-7);
    }
  }

  @Test
  void floatNetworkMatchesCentralDifferencesOfTheOracle() {
    // Whole-network check end to end: float gradient vs central differences of the double forward.
    Random r = new Random(6);
    int[] widths = {3, 4, 2};
    DenseChain lay = new DenseChain(widths);
    LayerNet net = Init.balanced(lay, new Rng(3));
    int B = 2;
    double[] x = f32(gaussian(r, B * 3, 1));
    int[] y = {1, 0};
    Network.Workspace ws = net.workspace(B);
    for (int k = 0; k < x.length; k++) {
      ws.input().set(k, (float) x[k]);
    }
    Tensor grads = new Tensor(lay.size());
    net.lossAndGradient(ws, B, y, 0, grads, Dropout.NONE, null);
    double[] p = new double[lay.size()];
    for (int k = 0; k < p.length; k++) {
      p[k] = net.params().get(k);
    }
    for (int k = 0; k < p.length; k++) {
      double num = centralDiff(q -> new ReferenceMlp(widths, q).loss(x, y, B, null, 1), p, k);
      assertThat(Math.abs(grads.get(k) - num)).as("param %d", k).isLessThan(1e-6 + 1e-4 * Math.abs(num));
    }
  }

  @Test
  void evaluateCountsErrorsAndSumsLoss() {
    DenseChain lay = new DenseChain(2, 2);
    LayerNet net = LayerNet.dense(lay);
    // W = I, b = 0: logits = x
    net.params().set(0, 1f);
    net.params().set(3, 1f);
    Network.Workspace ws = net.workspace(3);
    ws.input().copyFrom(new float[] {2, 0, 0, 2, 1, 1}, 0, 0, 6);
    StepStats s = net.evaluate(ws, 3, new int[] {0, 0, 1}, 0);
    // row 0 correct, row 1 wrong, row 2 tie -> arg max 0, label 1 -> wrong
    assertThat(s.errors()).isEqualTo(2);
    double l0 = Math.log(1 + Math.exp(-2));
    double l1 = Math.log(1 + Math.exp(2));
    double l2 = Math.log(2);
    assertThat(s.loss()).isCloseTo(l0 + l1 + l2, org.assertj.core.api.Assertions.within(1e-6));
  }
}
