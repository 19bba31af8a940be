package io.github.pathsgd.core.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.pathsgd.core.geometry.ChannelRescaling;
import io.github.pathsgd.core.geometry.LayerKappa;
import io.github.pathsgd.core.geometry.PathNorms;
import io.github.pathsgd.core.tensor.Tensor;
import io.github.pathsgd.core.util.Rng;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A residual block y = relu(x + F(x)) on a tiny net, 3 → dense 4 → res(dense 5, dense 4 linear) → dense 2, checked
 * against references that do not use the block's code: φ_p against a brute-force enumeration of every input→output
 * path of the unit graph written out by hand (the identity skip an edge of weight 1, biases edges from constant-1
 * sources), to 1e-9 in double; the gradient against central differences in double of the same forward; κ against the
 * Hessian diagonal of ½φ₂² by finite differences; and the function and φ unchanged under a rescaling of one of F's
 * hidden units and under a rescaling that ties the two ends of the skip (the unit before the block, the block's
 * output unit, every weight reading either), done by hand and equal bit for bit to the groups of {@code
 * RescalingGroups}; a rescaling of one end alone is refused by name.
 */
class ResidualTest {
  static final int IN = 3;
  static final int H = 4;
  static final int G = 5;
  static final int OUT = 2;
  // parameter offsets: W1 [H, IN], b1 [H], W2 [G, H], b2 [G], W3 [H, G], b3 [H], W4 [OUT, H], b4 [OUT]
  static final int W1 = 0;
  static final int B1 = W1 + H * IN;
  static final int W2 = B1 + H;
  static final int B2 = W2 + G * H;
  static final int W3 = B2 + G;
  static final int B3 = W3 + H * G;
  static final int W4 = B3 + H;
  static final int B4 = W4 + OUT * H;
  static final int SIZE = B4 + OUT;

  static LayerNet net(long seed) {
    Residual res = new Residual(List.of(new Dense(H, G, W2, true), new Dense(G, H, W3, false)));
    LayerNet n = new LayerNet(List.of(new Dense(IN, H, W1, true), res, new Dense(H, OUT, W4, false)), new Tensor(SIZE));
    Random r = new Random(seed);
    for (int i = 0; i < SIZE; i++) {
      n.params().set(i, (float) (r.nextGaussian() * 0.7));
    }
    return n;
  }

  static double w(LayerNet n, int i) {
    return n.params().get(i);
  }

  /** Σ over every path (and max for p = ∞) of Π|w|^p, enumerated edge by edge from each source to each output. */
  static double bruteForcePhi(LayerNet n, double p) {
    List<List<Double>> paths = new ArrayList<>();
    // the unit graph: x (IN) → h (H) → g (G) → y (H) → o (OUT); skip h_i → y_i of weight 1; biases as sources
    for (int o = 0; o < OUT; o++) {
      List<Double> tail = List.of(w(n, B4 + o));
      paths.add(tail); // bias of o
      for (int i = 0; i < H; i++) { // y_i → o
        double wyo = w(n, W4 + o * H + i);
        enumerateY(n, i, new ArrayList<>(List.of(wyo)), paths);
      }
    }
    double s = 0;
    for (List<Double> path : paths) {
      double prod = 1;
      for (double e : path) {
        prod *= Double.isInfinite(p) ? Math.abs(e) : Math.pow(Math.abs(e), p);
      }
      s = Double.isInfinite(p) ? Math.max(s, prod) : s + prod;
    }
    return Double.isInfinite(p) ? s : Math.pow(s, 1 / p);
  }

  /** Every path ending with {@code suffix} that reaches y_i: its bias b3_i, through g, or over the skip from h_i. */
  static void enumerateY(LayerNet n, int i, List<Double> suffix, List<List<Double>> paths) {
    paths.add(with(suffix, w(n, B3 + i)));
    for (int j = 0; j < G; j++) {
      List<Double> s2 = with(suffix, w(n, W3 + i * G + j));
      paths.add(with(s2, w(n, B2 + j))); // bias of g_j
      for (int k = 0; k < H; k++) {
        enumerateH(n, k, with(s2, w(n, W2 + j * H + k)), paths);
      }
    }
    enumerateH(n, i, with(suffix, 1.0), paths); // the identity skip h_i → y_i
  }

  static void enumerateH(LayerNet n, int k, List<Double> suffix, List<List<Double>> paths) {
    paths.add(with(suffix, w(n, B1 + k)));
    for (int x = 0; x < IN; x++) {
      paths.add(with(suffix, w(n, W1 + k * IN + x)));
    }
  }

  static List<Double> with(List<Double> a, double e) {
    List<Double> b = new ArrayList<>(a);
    b.add(e);
    return b;
  }

  @Test
  void phiEqualsTheBruteForceEnumerationOfEveryPath() {
    for (long seed = 1; seed <= 5; seed++) {
      LayerNet n = net(seed);
      for (double p : new double[] {1, 2, 3, Double.POSITIVE_INFINITY}) {
        double brute = bruteForcePhi(n, p);
        assertThat(PathNorms.phi(n.layers(), n.params(), p, true)).as("seed %d, p %s", seed, p)
            .isCloseTo(brute, org.assertj.core.api.Assertions.within(1e-9 * brute));
      }
    }
  }

  /** The same forward in double, written out: o = W4·relu(h + W3·relu(W2·h + b2) + b3) + b4, h = relu(W1·x + b1). */
  static double[] forward(double[] t, double[] x) {
    double[] h = new double[H];
    for (int k = 0; k < H; k++) {
      double a = t[B1 + k];
      for (int i = 0; i < IN; i++) {
        a += t[W1 + k * IN + i] * x[i];
      }
      h[k] = Math.max(a, 0);
    }
    double[] g = new double[G];
    for (int j = 0; j < G; j++) {
      double a = t[B2 + j];
      for (int k = 0; k < H; k++) {
        a += t[W2 + j * H + k] * h[k];
      }
      g[j] = Math.max(a, 0);
    }
    double[] y = new double[H];
    for (int k = 0; k < H; k++) {
      double a = t[B3 + k] + h[k];
      for (int j = 0; j < G; j++) {
        a += t[W3 + k * G + j] * g[j];
      }
      y[k] = Math.max(a, 0);
    }
    double[] o = new double[OUT];
    for (int c = 0; c < OUT; c++) {
      double a = t[B4 + c];
      for (int k = 0; k < H; k++) {
        a += t[W4 + c * H + k] * y[k];
      }
      o[c] = a;
    }
    return o;
  }

  static double loss(double[] t, float[] xs, int[] labels) {
    double s = 0;
    for (int b = 0; b < labels.length; b++) {
      double[] x = new double[IN];
      for (int i = 0; i < IN; i++) {
        x[i] = xs[b * IN + i];
      }
      double[] o = forward(t, x);
      double m = Math.max(o[0], o[1]);
      s += m + Math.log(Math.exp(o[0] - m) + Math.exp(o[1] - m)) - o[labels[b]];
    }
    return s / labels.length;
  }

  @Test
  void forwardAndGradientMatchADoubleReferenceWithTheSkipAccumulated() {
    LayerNet n = net(3);
    int B = 4;
    float[] xs = new float[B * IN];
    Random r = new Random(5);
    for (int i = 0; i < xs.length; i++) {
      xs[i] = (float) r.nextGaussian();
    }
    int[] labels = {0, 1, 1, 0};
    Network.Workspace ws = n.workspace(B);
    ws.input().copyFrom(xs, 0, 0, xs.length);
    Tensor grads = new Tensor(SIZE);
    double lossF = n.lossAndGradient(ws, B, labels, 0, grads, 1f, null).loss();
    double[] t = new double[SIZE];
    for (int i = 0; i < SIZE; i++) {
      t[i] = n.params().get(i);
    }
    assertThat(lossF).isCloseTo(loss(t, xs, labels), org.assertj.core.api.Assertions.within(1e-5));
    double eps = 1e-6;
    for (int i = 0; i < SIZE; i++) {
      double t0 = t[i];
      t[i] = t0 + eps;
      double lp = loss(t, xs, labels);
      t[i] = t0 - eps;
      double lm = loss(t, xs, labels);
      t[i] = t0;
      double num = (lp - lm) / (2 * eps);
      assertThat((double) grads.get(i)).as("parameter %d", i)
          .isCloseTo(num, org.assertj.core.api.Assertions.within(1e-4 + 1e-3 * Math.abs(num)));
    }
  }

  /** ½φ₂² of the unit graph, from the brute-force enumeration, with parameter i set to v. */
  static double halfPhi2Squared(LayerNet n, int i, double v) {
    float old = n.params().get(i);
    n.params().set(i, (float) v);
    double phi = bruteForcePhi(n, 2);
    n.params().set(i, old);
    return 0.5 * phi * phi;
  }

  @Test
  void kappaIsTheHessianDiagonalOfHalfSquaredPathNorm() {
    LayerNet n = net(4);
    for (int i = 0; i < SIZE; i++) { // weights exactly representable steps: v ± 2^-6 in float
      n.params().set(i, Math.round(n.params().get(i) * 64) / 64f);
    }
    double[] kappa = LayerKappa.of(n.layers(), n.params(), 2);
    double step = 1.0 / 64;
    for (int i = 0; i < SIZE; i++) {
      double v = n.params().get(i);
      double hess = (halfPhi2Squared(n, i, v + step) - 2 * halfPhi2Squared(n, i, v) + halfPhi2Squared(n, i, v - step))
          / (step * step);
      assertThat(kappa[i]).as("parameter %d", i)
          .isCloseTo(hess, org.assertj.core.api.Assertions.within(1e-6 * Math.max(1, hess)));
    }
  }

  static float[] logits(LayerNet n, float[] xs, int B) {
    Network.Workspace ws = n.workspace(B);
    ws.input().copyFrom(xs, 0, 0, xs.length);
    return n.forward(ws, B, 1f, null).toArray();
  }

  @Test
  void functionAndPhiAreUnchangedByTheAllowedRescalingsTheTiedGroupMatchesAndOneEndOfTheSkipIsRefused() {
    LayerNet n = net(6);
    int B = 3;
    float[] xs = new float[B * IN];
    for (int i = 0; i < xs.length; i++) {
      xs[i] = (i % 5) * 0.25f - 0.5f;
    }
    float[] before = logits(n, xs, B);
    double phi = PathNorms.phi(n.layers(), n.params(), 2, true);
    FloatBufferScaler s = new FloatBufferScaler(n);
    // a hidden unit of F (g_2): its incoming row and bias ×8, the weights reading it ×1/8 (powers of two: exact)
    s.row(W2 + 2 * H, H, 8);
    s.at(B2 + 2, 8);
    for (int k = 0; k < H; k++) {
      s.at(W3 + k * G + 2, 1.0 / 8);
    }
    assertThat(logits(n, xs, B)).containsExactly(before);
    // the two ends of the skip together (h_1 and y_1): into h_1 and into y_1 (b3, W3 row) ×4; out of h_1 into F
    // (W2 column) and out of y_1 (W4 column) ×1/4; the skip's weight 1 stays 1
    s.row(W1 + IN, IN, 4);
    s.at(B1 + 1, 4);
    s.row(W3 + G, G, 4);
    s.at(B3 + 1, 4);
    for (int j = 0; j < G; j++) {
      s.at(W2 + j * H + 1, 0.25);
    }
    for (int c = 0; c < OUT; c++) {
      s.at(W4 + c * H + 1, 0.25);
    }
    assertThat(logits(n, xs, B)).containsExactly(before);
    assertThat(PathNorms.phi(n.layers(), n.params(), 2, true))
        .isCloseTo(phi, org.assertj.core.api.Assertions.within(1e-12 * phi));
    // the one model of unit ties does the same: group (0, 1) is h_1 with y_1 across the skip, group (1, 2) is g_2
    LayerNet m = net(6);
    assertThat(ChannelRescaling.hiddenLayers(m)).containsExactly(0, 1); // flat: h, F's g (F's last and the logits: no)
    ChannelRescaling.scaleChannel(m, 1, 2, 8.0);
    ChannelRescaling.scaleChannel(m, 0, 1, 4.0);
    assertThat(m.params().toArray()).containsExactly(n.params().toArray());
    float[] params = n.params().toArray();
    assertThatThrownBy(() -> ChannelRescaling.scaleChannel(n, 2, 1, 4.0)) // y_1 alone: F's last layer's outputs
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("layer 2, layers.1.f.1 (dense), is linear: its outputs are tied to its block's input units by the "
            + "identity skip and rescale with them, through the layer before the block (hidden: [0, 1])");
    assertThat(n.params().toArray()).as("nothing written").containsExactly(params);
  }

  /** In-place products, each rounded once. */
  record FloatBufferScaler(LayerNet n) {
    void at(int i, double c) {
      n.params().set(i, (float) (n.params().get(i) * c));
    }

    void row(int from, int len, double c) {
      for (int i = from; i < from + len; i++) {
        at(i, c);
      }
    }
  }

  @Test
  void theBlockDeclaresItsSlicesAndRefusesWhatTheGeometryDoesNotSupportByName() {
    Residual res = (Residual) net(1).layers().get(1);
    assertThat(res.kind()).isEqualTo("res");
    assertThat(res.paramSlices()).extracting(ParamSlice::name)
        .containsExactly("f.0.weight", "f.0.bias", "f.1.weight", "f.1.bias");
    assertThat(res.paramOffset()).isEqualTo(W2);
    assertThat(res.paramSize()).isEqualTo(W4 - W2);
    LayerNet n = net(1);
    double w2 = n.layers().get(1) instanceof Residual r ? r.inner().get(0).spectralNorm(n.params().buffer()) : 0;
    double w3 = ((Residual) n.layers().get(1)).inner().get(1).spectralNorm(n.params().buffer());
    assertThat(res.spectralNorm(n.params().buffer())).isEqualTo(1 + w2 * w3);
    assertThatThrownBy(() -> new Residual(List.of(new Dense(4, 4, 0, true))))
        .hasMessageContaining("must be linear");
    assertThatThrownBy(() -> new Residual(List.of(new Dense(4, 3, 0, false))))
        .hasMessageContaining("keep the width");
    Init.balanced(net(1), new Rng(1)); // initialized from the declared slices
  }
}
