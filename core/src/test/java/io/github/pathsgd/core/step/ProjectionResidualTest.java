package io.github.pathsgd.core.step;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.github.pathsgd.core.geometry.ChannelRescaling;
import io.github.pathsgd.core.geometry.LayerKappa;
import io.github.pathsgd.core.geometry.PathNorms;
import io.github.pathsgd.core.geometry.RescalingGroups;
import io.github.pathsgd.core.nn.Dropout;
import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.core.nn.LayerSpec;
import io.github.pathsgd.core.nn.Network;
import io.github.pathsgd.core.nn.ParamSlice;
import io.github.pathsgd.core.optim.Optimizer;
import io.github.pathsgd.core.optim.Optimizers;
import io.github.pathsgd.core.tensor.Tensor;
import io.github.pathsgd.core.util.Rng;
import io.github.pathsgd.testkit.Tries;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Residual blocks with a projection skip, y = relu(P·x + F(x)) ({@code res(..., proj)}), checked against references
 * that do not use the block's code. A tiny dense net, 3 → dense 4 → res(dense 5, dense 3, proj) → 2: φ_p against a
 * brute-force enumeration of every input→output path of its unit graph written out by hand (P's weights ordinary
 * edges, biases edges from constant-1 sources), to 1e-9 in double; forward and gradient against a double forward by
 * central differences; κ the Hessian diagonal of ½φ₂². A conv net with a strided 1x1 projection and a dense
 * projection: the rescaling groups (the two ends of a projection skip are not tied: the channels before the block
 * rescale on their own, read by F's first layer and by P; the block's output channel is P's row with F's last layer's
 * row), the function and φ_p unchanged under random rescalings of every group, and Path-SGD (momentum, dropout with
 * the same masks) commuting with a rescaling over 1 and 5 steps, SGD not.
 */
class ProjectionResidualTest {
  // the dense net's parameters: W1 [4, 3], b1, W2 [5, 4], b2, W3 [3, 5], b3, P [3, 4], bp, W4 [2, 3], b4
  static final int W1 = 0;
  static final int B1 = 12;
  static final int W2 = 16;
  static final int B2 = 36;
  static final int W3 = 41;
  static final int B3 = 56;
  static final int P = 59;
  static final int BP = 71;
  static final int W4 = 74;
  static final int B4 = 80;
  static final int SIZE = 82;

  static LayerNet dense(long seed) {
    LayerNet n = LayerSpec.parse("dense(4),res(dense(5),dense(3),proj)").build(3, 1, 1, 2);
    Random r = new Random(seed);
    for (int i = 0; i < n.params().size(); i++) {
      n.params().set(i, (float) (r.nextGaussian() * 0.7));
    }
    return n;
  }

  @Test
  void theSpecRoundTripsAndTheParametersArePyTorchNamed() {
    LayerSpec spec = LayerSpec.parse("dense(4),res(dense(5),dense(3),proj)");
    assertThat(spec.toString()).isEqualTo("dense(4),res(dense(5),dense(3),proj)");
    assertThat(LayerSpec.parse(spec.toString()).items()).isEqualTo(spec.items());
    LayerNet n = dense(1);
    assertThat(n.params().size()).isEqualTo(SIZE);
    List<String> names = new ArrayList<>();
    for (int i = 0; i < n.layers().size(); i++) {
      for (ParamSlice s : n.layers().get(i).paramSlices()) {
        names.add("layers." + i + "." + s.name() + "@" + s.offset() + java.util.Arrays.toString(s.shape()));
      }
    }
    assertThat(names).containsExactly("layers.0.weight@0[4, 3]", "layers.0.bias@12[4]", "layers.1.f.0.weight@16[5, 4]",
        "layers.1.f.0.bias@36[5]", "layers.1.f.1.weight@41[3, 5]", "layers.1.f.1.bias@56[3]",
        "layers.1.proj.weight@59[3, 4]", "layers.1.proj.bias@71[3]", "layers.2.weight@74[2, 3]", "layers.2.bias@80[2]");
    LayerSpec conv = LayerSpec.parse(" conv(3,3,pad=1),res(conv(4,3,stride=2,pad=1),conv(4,3,pad=1),PROJ)");
    assertThat(conv.toString()).isEqualTo("conv(3,3,pad=1),res(conv(4,3,stride=2,pad=1),conv(4,3,pad=1),proj)");
    // a 1x1 projection with F's stride: 3 -> 4 channels, 6x6 -> 3x3
    assertThat(conv.build(2, 6, 6, 4).layers().get(1).paramSlices().get(4).shape()).containsExactly(4, 3, 1, 1);
  }

  /** The incoming edges of each unit of the dense net: {source unit, parameter index}, -1 for a bias source. */
  static List<int[]>[] unitGraph() {
    // units: x 0..2, h 3..6, g 7..11, y 12..14, o 15..16
    @SuppressWarnings("unchecked")
    List<int[]>[] in = new List[17];
    for (int u = 0; u < in.length; u++) {
      in[u] = new ArrayList<>();
    }
    for (int k = 0; k < 4; k++) {
      in[3 + k].add(new int[] {-1, B1 + k});
      for (int i = 0; i < 3; i++) {
        in[3 + k].add(new int[] {i, W1 + k * 3 + i});
      }
    }
    for (int j = 0; j < 5; j++) {
      in[7 + j].add(new int[] {-1, B2 + j});
      for (int k = 0; k < 4; k++) {
        in[7 + j].add(new int[] {3 + k, W2 + j * 4 + k});
      }
    }
    for (int m = 0; m < 3; m++) {
      in[12 + m].add(new int[] {-1, B3 + m});
      in[12 + m].add(new int[] {-1, BP + m});
      for (int j = 0; j < 5; j++) {
        in[12 + m].add(new int[] {7 + j, W3 + m * 5 + j});
      }
      for (int k = 0; k < 4; k++) { // the projection: ordinary edges h_k -> y_m
        in[12 + m].add(new int[] {3 + k, P + m * 4 + k});
      }
    }
    for (int c = 0; c < 2; c++) {
      in[15 + c].add(new int[] {-1, B4 + c});
      for (int m = 0; m < 3; m++) {
        in[15 + c].add(new int[] {12 + m, W4 + c * 3 + m});
      }
    }
    return in;
  }

  /** Every path into {@code u}, one by one: its product of |w|^p (max-plus for p = ∞) added into acc[0]. */
  static void enumerate(List<int[]>[] in, double[] t, int u, double prod, double p, double[] acc, int[] count) {
    if (u < 3 || u == -1) { // an input unit or a bias source: the path is complete
      acc[0] = Double.isInfinite(p) ? Math.max(acc[0], prod) : acc[0] + prod;
      count[0]++;
      return;
    }
    for (int[] e : in[u]) {
      double a = Math.abs(t[e[1]]);
      enumerate(in, t, e[0], prod * (Double.isInfinite(p) ? a : Math.pow(a, p)), p, acc, count);
    }
  }

  static double bruteForcePhi(double[] t, double p, int[] count) {
    List<int[]>[] in = unitGraph();
    double[] acc = new double[1];
    for (int o = 15; o < 17; o++) {
      enumerate(in, t, o, 1, p, acc, count);
    }
    return Double.isInfinite(p) ? acc[0] : Math.pow(acc[0], 1 / p);
  }

  static double[] doubles(LayerNet n) {
    double[] t = new double[n.params().size()];
    for (int i = 0; i < t.length; i++) {
      t[i] = n.params().get(i);
    }
    return t;
  }

  @Test
  void phiEqualsTheBruteForceEnumerationOfEveryPath() {
    for (long seed = 1; seed <= 4; seed++) {
      LayerNet n = dense(seed);
      for (double p : new double[] {1, 2, 3, Double.POSITIVE_INFINITY}) {
        int[] count = new int[1];
        double brute = bruteForcePhi(doubles(n), p, count);
        // o: 2 × (b4 + 3 y × (b3 + bp + 5 g × (b2 + 4 h × 4) + 4 h × 4)) paths
        assertThat(count[0]).isEqualTo(2 * (1 + 3 * (2 + 5 * (1 + 4 * 4) + 4 * 4)));
        assertThat(PathNorms.phi(n.layers(), n.params(), p, true)).as("seed %d, p %s", seed, p)
            .isCloseTo(brute, within(1e-9 * brute));
      }
    }
  }

  /** o = W4·relu(P·h + bp + W3·relu(W2·h + b2) + b3) + b4, h = relu(W1·x + b1), in double. */
  static double[] forward(double[] t, double[] x) {
    double[] h = new double[4];
    for (int k = 0; k < 4; k++) {
      double a = t[B1 + k];
      for (int i = 0; i < 3; i++) {
        a += t[W1 + k * 3 + i] * x[i];
      }
      h[k] = Math.max(a, 0);
    }
    double[] g = new double[5];
    for (int j = 0; j < 5; j++) {
      double a = t[B2 + j];
      for (int k = 0; k < 4; k++) {
        a += t[W2 + j * 4 + k] * h[k];
      }
      g[j] = Math.max(a, 0);
    }
    double[] y = new double[3];
    for (int m = 0; m < 3; m++) {
      double a = t[B3 + m] + t[BP + m];
      for (int j = 0; j < 5; j++) {
        a += t[W3 + m * 5 + j] * g[j];
      }
      for (int k = 0; k < 4; k++) {
        a += t[P + m * 4 + k] * h[k];
      }
      y[m] = Math.max(a, 0);
    }
    double[] o = new double[2];
    for (int c = 0; c < 2; c++) {
      double a = t[B4 + c];
      for (int m = 0; m < 3; m++) {
        a += t[W4 + c * 3 + m] * y[m];
      }
      o[c] = a;
    }
    return o;
  }

  static double loss(double[] t, float[] xs, int[] labels) {
    double s = 0;
    for (int b = 0; b < labels.length; b++) {
      double[] o = forward(t, new double[] {xs[3 * b], xs[3 * b + 1], xs[3 * b + 2]});
      double m = Math.max(o[0], o[1]);
      s += m + Math.log(Math.exp(o[0] - m) + Math.exp(o[1] - m)) - o[labels[b]];
    }
    return s / labels.length;
  }

  @Test
  void forwardAndGradientMatchADoubleReferenceByCentralDifferences() {
    LayerNet n = dense(3);
    int B = 4;
    float[] xs = new float[B * 3];
    Random r = new Random(5);
    for (int i = 0; i < xs.length; i++) {
      xs[i] = (float) r.nextGaussian();
    }
    int[] labels = {0, 1, 1, 0};
    Network.Workspace ws = n.workspace(B);
    ws.input().copyFrom(xs, 0, 0, xs.length);
    Tensor grads = new Tensor(SIZE);
    double lossF = n.lossAndGradient(ws, B, labels, 0, grads, 1f, null).loss();
    double[] t = doubles(n);
    assertThat(lossF).isCloseTo(loss(t, xs, labels), within(1e-5));
    double eps = 1e-6;
    int nonZero = 0;
    for (int i = 0; i < SIZE; i++) {
      double t0 = t[i];
      t[i] = t0 + eps;
      double lp = loss(t, xs, labels);
      t[i] = t0 - eps;
      double lm = loss(t, xs, labels);
      t[i] = t0;
      double num = (lp - lm) / (2 * eps);
      nonZero += i >= P && i < W4 && Math.abs(num) > 1e-6 ? 1 : 0;
      assertThat((double) grads.get(i)).as("parameter %d", i).isCloseTo(num, within(1e-4 + 1e-3 * Math.abs(num)));
    }
    assertThat(nonZero).as("the projection's parameters have a gradient").isGreaterThan(3);
  }

  @Test
  void kappaIsTheHessianDiagonalOfHalfSquaredBruteForcePathNorm() {
    LayerNet n = dense(6);
    double[] kappa = LayerKappa.of(n.layers(), n.params(), 2);
    double[] t = doubles(n);
    double h = 1.0 / 8;
    for (int i = 0; i < SIZE; i++) {
      double v = t[i];
      double[] f = new double[3];
      for (int s = -1; s <= 1; s++) {
        t[i] = v + s * h;
        double phi = bruteForcePhi(t, 2, new int[1]);
        f[s + 1] = 0.5 * phi * phi;
      }
      t[i] = v;
      double hess = (f[2] - 2 * f[1] + f[0]) / (h * h); // exact: ½φ₂² is quadratic in each parameter
      assertThat(kappa[i]).as("parameter %d", i).isCloseTo(hess, within(1e-6 * Math.max(1, Math.abs(hess))));
    }
  }

  // --- a conv net with a strided 1x1 projection and a dense block with a dense projection ---

  static final LayerSpec SPEC = LayerSpec.parse("conv(3,3,pad=1),res(conv(4,3,stride=2,pad=1),conv(4,3,pad=1),proj),"
      + "dense(5),res(dense(4),dense(3),proj)");
  static final int B = TinyResidualNets.B;
  static final int[] LABELS = TinyResidualNets.LABELS;

  static LayerNet net(long seed) {
    return TinyResidualNets.net(SPEC, seed);
  }

  static float[] inputs() {
    return TinyResidualNets.inputs();
  }

  static float[] logits(LayerNet n, float[] x) {
    return TinyResidualNets.logits(n, x);
  }

  @Test
  void theEndsOfAProjectionSkipAreNotTied() {
    RescalingGroups g = RescalingGroups.of(net(1).layers());
    // flat: 0 conv, 1 f.0, 2 f.1, 3 proj, 4 dense, 5 f.0, 6 f.1, 7 proj, 8 logits
    assertThat(g.hidden()).containsExactly(0, 1, 2, 4, 5, 6);
    assertThat(g.families()).extracting(RescalingGroups.Family::name).containsExactly("layers.0 (conv)",
        "layers.1.f.0 (conv)", "layers.1.f.1 (conv)", "layers.2 (dense)", "layers.3.f.0 (dense)",
        "layers.3.f.1 (dense)");
    assertThat(g.families()).extracting(RescalingGroups.Family::skips).containsOnly(0);
    assertThat(g.name(3)).isEqualTo("layers.1.proj (conv)");
    // group (0, ch 1): conv0's filter 1 and bias alone in; F's first conv (4 filters × 3×3) and P (4 × 1) read it
    int[] counts = new int[2];
    RescalingGroups.forEachRange(g.family(0), 1, (from, len) -> counts[0] += len, (from, len) -> counts[1] += len);
    assertThat(counts).containsExactly(2 * 9 + 1, 4 * 9 + 4);
    // group (2, ch 1), the block's output channel: F's last conv's filter 1 (4×3×3 + bias) and P's row 1 (3 + bias)
    // in; the dense layer's weights reading channel 1 of 4×3×3 (5 units × 9) out
    int[] out = new int[2];
    RescalingGroups.forEachRange(g.family(2), 1, (from, len) -> out[0] += len, (from, len) -> out[1] += len);
    assertThat(out).containsExactly(4 * 9 + 1 + 3 + 1, 5 * 9);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> g.family(3)).hasMessageContaining(
        "layers.1.proj (conv), is linear: its outputs are added to those of layers.1.f.1 (conv)");
  }

  @Test
  void functionAndPhiAreUnchangedUnderRandomRescalingsOfEveryGroup() {
    float[] x = inputs();
    Tries.forAll(12, 40, List.of(), r -> r.nextLong(), seed -> {
      LayerNet a = net(3);
      TinyResidualNets.assertUnchangedUnderRandomGroupRescalings(a, x, seed);
    });
  }

  /** A tie that the projection does not make: conv0's channel with the block's output channel changes the function. */
  @Test
  void rescalingBothEndsAsIfTiedChangesTheFunction() {
    LayerNet a = net(4);
    LayerNet b = a.copy();
    // scale conv0's channel 1 (its own group) but also the block's output row 1 of F's last conv only, not P's row
    RescalingGroups g = RescalingGroups.of(b.layers());
    RescalingGroups.Family out = g.family(2);
    RescalingGroups.scaleInOut(g.family(0), b.params().buffer(), 1, 4.0, 0.25);
    ParamSlice w = out.incoming().get(0).paramSlices().get(0);
    for (int i = 0; i < w.size() / w.rows(); i++) {
      int at = w.offset() + w.size() / w.rows() + i;
      b.params().set(at, b.params().get(at) * 4f);
    }
    float[] x = inputs();
    float[] fa = logits(a, x);
    float[] fb = logits(b, x);
    double worst = 0;
    for (int i = 0; i < fa.length; i++) {
      worst = Math.max(worst, Math.abs(fa[i] - fb[i]));
    }
    assertThat(worst).isGreaterThan(1e-3);
  }

  static void train(LayerNet n, Optimizer opt, int K) {
    TrainStep step = new TrainStep(n, opt, B);
    float[] x = inputs();
    for (int s = 0; s < K; s++) {
      step.workspace().input().copyFrom(x, 0, 0, x.length);
      step.run(B, LABELS, new Dropout(0.6f, 0.9f), new Rng(100 + s));
    }
  }

  /** Groups before, inside and after each block: conv0's, F's hidden conv's, the block's output, the dense ones. */
  static final int[][] PICKS = {{0, 1}, {1, 2}, {2, 3}, {4, 0}, {5, 1}, {6, 2}};

  static final double[] FACTORS = {4.0, 0.25, 8.0, 2.0, 0.5, 4.0};

  static void rescale(LayerNet n) {
    for (int i = 0; i < PICKS.length; i++) {
      ChannelRescaling.scaleChannel(n, PICKS[i][0], PICKS[i][1], FACTORS[i]);
    }
  }

  static double worst(LayerNet a, LayerNet b) {
    double worst = 0;
    for (int i = 0; i < a.params().size(); i++) {
      worst = Math.max(worst, Math.abs(a.params().get(i) - b.params().get(i)) / Math.max(1, Math.abs(a.params()
          .get(i))));
    }
    return worst;
  }

  @Test
  void pathSgdStepsCommuteWithARescalingAndSgdStepsDoNot() {
    for (int K : new int[] {1, 5}) {
      List<String> seen = new ArrayList<>();
      for (Optimizer opt : List.of(Optimizers.pathSgd(0.05, 2, 0.9, false), Optimizers.sgd(0.2, 0.9, false))) {
        LayerNet a = net(2);
        LayerNet b = net(2);
        rescale(b);
        train(a, opt, K);
        train(b, opt, K);
        rescale(a);
        seen.add(String.valueOf(worst(a, b)));
        if (seen.size() == 1) {
          assertThat(worst(a, b)).as("Path-SGD, %d steps", K).isLessThanOrEqualTo(2e-5);
        } else {
          assertThat(worst(a, b)).as("SGD, %d steps (Path-SGD: %s)", K, seen.get(0)).isGreaterThan(0.1);
        }
      }
    }
  }
}
