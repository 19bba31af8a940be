package io.github.pathsgd.core.step;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.github.pathsgd.core.geometry.ChannelRescaling;
import io.github.pathsgd.core.geometry.LayerKappa;
import io.github.pathsgd.core.geometry.PathNorms;
import io.github.pathsgd.core.geometry.Rescaling;
import io.github.pathsgd.core.geometry.RescalingGroups;
import io.github.pathsgd.core.geometry.Unbalance;
import io.github.pathsgd.core.nn.Dense;
import io.github.pathsgd.core.nn.Dropout;
import io.github.pathsgd.core.nn.Layer;
import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.core.nn.LayerSpec;
import io.github.pathsgd.core.nn.Residual;
import io.github.pathsgd.core.optim.OptState;
import io.github.pathsgd.core.optim.Optimizer;
import io.github.pathsgd.core.optim.Optimizers;
import io.github.pathsgd.core.optim.PathSgdOptions;
import io.github.pathsgd.core.optim.UnitRescaling;
import io.github.pathsgd.core.tensor.Tensor;
import io.github.pathsgd.core.util.Rng;
import io.github.pathsgd.testkit.Tries;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Node rescaling of a residual conv net through the one model of unit ties ({@link RescalingGroups}): 2×6×6 → conv 3
 * → res(conv 3, conv 3) → max-pool 2 → dense 5 → res(dense 4, dense 5) → 4 classes. Its groups: each channel of the
 * first conv with the block's output channel across the skip (and the weights of the block's last conv into it), the
 * block's inner conv channels, each unit of the dense layer with the dense block's output unit, the dense block's
 * inner units. Properties: the function and φ_p unchanged under random rescalings of random groups; a rescaling of
 * one end of a skip refused; Path-SGD (momentum, dropout with the same masks) commuting with a rescaling of
 * parameters and optimizer state over one and five steps, SGD not; κ the Hessian diagonal of ½φ₂²; the unbalanced
 * initialization equivalent and checked.
 */
class ResidualRescalingTest {
  static final LayerSpec SPEC = LayerSpec.parse("conv(3,3,pad=1),res(conv(3,3,pad=1),conv(3,3,pad=1)),maxpool(2),"
      + "dense(5),res(dense(4),dense(5))");
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
  void theGroupsAreTheComponentsOfTheTies() {
    RescalingGroups g = RescalingGroups.of(net(1).layers());
    assertThat(g.hidden()).containsExactly(0, 1, 4, 5);
    assertThat(g.families()).extracting(RescalingGroups.Family::name).containsExactly("layers.0 (conv)",
        "layers.1.f.0 (conv)", "layers.2 (dense)", "layers.3.f.0 (dense)");
    assertThat(g.families()).extracting(RescalingGroups.Family::skips).containsExactly(1, 0, 1, 0);
    // group (0, ch): conv0's filter ch and bias, the block's last conv's filter ch and bias (incoming); the block's
    // first conv's and the dense layer's weights reading channel ch (outgoing)
    int[] counts = new int[2];
    RescalingGroups.forEachRange(g.family(0), 1, (from, len) -> counts[0] += len, (from, len) -> counts[1] += len);
    assertThat(counts).containsExactly(2 * 9 + 1 + 3 * 9 + 1, 3 * 9 + 5 * 9);
  }

  @Test
  void functionAndPhiAreUnchangedUnderRandomRescalingsOfRandomGroups() {
    float[] x = inputs();
    Tries.forAll(12, 40, List.of(), r -> r.nextLong(), seed -> {
      LayerNet a = net(3);
      TinyResidualNets.Rescaled rs = TinyResidualNets.assertUnchangedUnderRandomGroupRescalings(a, x, seed);
      LayerNet b = rs.net();
      int scaled = rs.groups();
      boolean differs = false;
      for (int i = 0; i < a.params().size(); i++) {
        differs |= a.params().get(i) != b.params().get(i);
      }
      assertThat(differs || scaled == 0).as("the parameters moved").isTrue();
    });
  }

  @Test
  void aRescalingThatBreaksATieIsRefusedAndWritesNothing() {
    LayerNet n = net(4);
    float[] before = n.params().toArray();
    // flat 2 is the first block's last conv: its output channel is y, tied to conv0's channel by the skip
    assertThatThrownBy(() -> ChannelRescaling.scaleChannel(n, 2, 0, 2.0)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("layer 2, layers.1.f.1 (conv), is linear: its outputs are tied to its block's input units by the "
            + "identity skip and rescale with them, through the layer before the block (hidden: [0, 1, 4, 5])");
    assertThatThrownBy(() -> ChannelRescaling.scaleChannel(n, 3, 0, 2.0)).hasMessageContaining("maxpool before layers.2, "
        + "has no parameters");
    assertThatThrownBy(() -> ChannelRescaling.scaleChannel(n, 7, 0, 2.0)).hasMessageContaining("layers.4 (dense), is "
        + "linear: its outputs cannot be rescaled");
    OptState st = Optimizers.pathSgd(0.05, 2, 0.9, false).init(n.layout());
    assertThatThrownBy(() -> UnitRescaling.apply(st, 6, 0, 2.0)).hasMessageContaining("layers.3.f.1 (dense), is linear");
    assertThatThrownBy(() -> ChannelRescaling.scaleChannel(n, 0, 3, 2.0)).hasMessage("channel 3 outside layers.0 "
        + "(conv) of 3 channels");
    assertThat(n.params().toArray()).containsExactly(before);
    // a network whose skip reaches the logits cannot rescale that group at all: it is not a family
    List<Layer> last = List.of(new Dense(5, 4, 0, true), new Residual(List.of(new Dense(4, 3, 24, true),
        new Dense(3, 4, 39, false))));
    assertThat(RescalingGroups.of(last).hidden()).containsExactly(1);
    assertThatThrownBy(() -> RescalingGroups.of(last).family(0)).hasMessage("layer 0, layers.0 (dense), is tied by "
        + "identity skips to the network's outputs, which cannot be rescaled (hidden: [1])");
  }

  /** K steps through TrainStep from {@code st} (null: a fresh state), masks from seeds 100.., dropout 0.6 / 0.9. */
  static void train(LayerNet n, Optimizer opt, OptState st, int from, int K) {
    TrainStep step = st == null ? new TrainStep(n, opt, B) : new TrainStep(n, opt, n.workspace(B), st, false);
    float[] x = inputs();
    for (int s = from; s < from + K; s++) {
      step.workspace().input().copyFrom(x, 0, 0, x.length);
      step.run(B, LABELS, new Dropout(0.6f, 0.9f), new Rng(100 + s));
    }
  }

  /** The rescaled groups: a tied group of each block, an inner channel of the conv block, an inner dense unit. */
  static final int[][] PICKS = {{0, 1}, {1, 2}, {4, 3}, {5, 0}};

  static final double[] FACTORS = {4.0, 0.25, 8.0, 2.0};

  static void rescale(LayerNet n, OptState st) {
    for (int i = 0; i < PICKS.length; i++) {
      ChannelRescaling.scaleChannel(n, PICKS[i][0], PICKS[i][1], FACTORS[i]);
      if (st != null) {
        UnitRescaling.apply(st, PICKS[i][0], PICKS[i][1], FACTORS[i]);
      }
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
  void pathSgdStepsCommuteWithARescalingOfTiedGroupsAndSgdStepsDoNot() {
    for (int K : new int[] {1, 5}) {
      List<String> seen = new ArrayList<>();
      for (Optimizer opt : List.of(Optimizers.pathSgd(0.05, 2, 0.9, false), Optimizers.sgd(0.2, 0.9, false))) {
        LayerNet a = net(2);
        LayerNet b = net(2);
        rescale(b, null);
        train(a, opt, null, 0, K);
        train(b, opt, null, 0, K);
        rescale(a, null);
        seen.add(String.valueOf(worst(a, b)));
        if (seen.size() == 1) {
          assertThat(worst(a, b)).as("Path-SGD, %d steps", K).isLessThanOrEqualTo(2e-5);
        } else {
          assertThat(worst(a, b)).as("SGD, %d steps (Path-SGD: %s)", K, seen.get(0)).isGreaterThan(1.0);
        }
      }
    }
  }

  /**
   * Mid-run, parameters and optimizer state (momentum after the normalization, per-parameter κ kept for 3 steps)
   * rescaled together over the tied groups: both runs continue as images of each other; the parameters alone do not.
   */
  @Test
  void aMidRunRescalingOfParametersAndStateCommutesWithPathSgd() {
    Optimizer opt = Optimizers.pathSgd(0.05, PathSgdOptions.DEFAULT.withRecomputeEvery(3), 0.9, false);
    for (boolean state : new boolean[] {true, false}) {
      LayerNet a = net(7);
      TrainStep sa = new TrainStep(a, opt, B);
      float[] x = inputs();
      for (int s = 0; s < 2; s++) {
        sa.workspace().input().copyFrom(x, 0, 0, x.length);
        sa.run(B, LABELS, new Dropout(0.6f, 0.9f), new Rng(100 + s));
      }
      LayerNet b = a.copy();
      OptState st = opt.init(b.layout());
      st.restore(sa.state().export());
      rescale(b, state ? st : null);
      for (int s = 2; s < 5; s++) {
        sa.workspace().input().copyFrom(x, 0, 0, x.length);
        sa.run(B, LABELS, new Dropout(0.6f, 0.9f), new Rng(100 + s));
      }
      train(b, opt, st, 2, 3);
      rescale(a, null);
      if (state) {
        assertThat(worst(a, b)).as("parameters and state rescaled").isLessThanOrEqualTo(2e-5);
      } else {
        assertThat(worst(a, b)).as("parameters alone rescaled").isGreaterThan(1e-3);
      }
    }
  }

  /** ½φ₂² is quadratic in each parameter (a path crosses a layer once), so a second difference is its Hessian. */
  @Test
  void kappaIsTheHessianDiagonalOfHalfSquaredPathNorm() {
    LayerNet n = net(5);
    for (int i = 0; i < n.params().size(); i++) { // steps of 2^-5 exact in float
      n.params().set(i, Math.round(n.params().get(i) * 32) / 32f);
    }
    double[] kappa = LayerKappa.of(n.layers(), n.params(), 2);
    double h = 1.0 / 32;
    for (int i = 0; i < n.params().size(); i++) {
      float v = n.params().get(i);
      double[] f = new double[3];
      for (int s = -1; s <= 1; s++) {
        n.params().set(i, (float) (v + s * h));
        double phi = PathNorms.phi(n.layers(), n.params(), 2, true);
        f[s + 1] = 0.5 * phi * phi;
      }
      n.params().set(i, v);
      double hess = (f[2] - 2 * f[1] + f[0]) / (h * h);
      assertThat(kappa[i]).as("parameter %d", i).isCloseTo(hess, within(1e-6 * Math.max(1, Math.abs(hess))
          + 1e-9 * f[1] / (h * h)));
    }
  }

  @Test
  void theUnbalancedInitializationOfAResidualNetIsEquivalentAndChecked() {
    LayerNet a = net(8);
    LayerNet b = a.copy();
    double[][] f = ChannelRescaling.unbalanceChecked(b, Unbalance.DEFAULT, new Rng(9));
    assertThat(f[0]).isNotNull();
    assertThat(f[2]).as("no family at F's last layer").isNull();
    assertThat(worst(a, b)).as("the parameters moved").isGreaterThan(0.1);
    float[] x = inputs();
    float[] fa = logits(a, x);
    float[] fb = logits(b, x);
    for (int i = 0; i < fa.length; i++) {
      assertThat((double) fb[i]).isCloseTo(fa[i], within(Rescaling.RELATIVE_TOLERANCE * 10));
    }
    // mapping back with the reciprocals restores the parameters to float rounding
    double[][] inv = new double[f.length][];
    for (int k = 0; k < f.length; k++) {
      if (f[k] != null) {
        inv[k] = java.util.Arrays.stream(f[k]).map(v -> 1 / v).toArray();
      }
    }
    ChannelRescaling.scaleAll(b, inv);
    assertThat(worst(a, b)).isLessThan(1e-5);
  }

  static double halfPhi2Squared(LayerNet n) {
    double phi = PathNorms.phi(n.layers(), n.params(), 2, true);
    return 0.5 * phi * phi;
  }

  /** A float64 Path-SGD step written plainly: θ − η·g/κ with κ_i the coefficient of θ_i² in ½φ₂², from φ₂ in double. */
  @Test
  void aPathSgdStepMatchesAFloat64Reference() {
    LayerNet n = net(6);
    Tensor before = n.params().copy();
    float[] x = inputs();
    Tensor g = new Tensor(n.params().size());
    LayerNet.Workspace ws = n.workspace(B);
    ws.input().copyFrom(x, 0, 0, x.length);
    n.lossAndGradient(ws, B, LABELS, 0, g, 1f, null);
    TrainStep step = new TrainStep(n, Optimizers.pathSgd(0.1, 2), B);
    step.workspace().input().copyFrom(x, 0, 0, x.length);
    step.run(B, LABELS, Dropout.NONE, null);
    LayerNet probe = net(6);
    double half = halfPhi2Squared(probe);
    for (int i = 0; i < g.size(); i++) {
      // ½φ₂² = ½(A·θ_i² + C) (every path through θ_i has θ_i² as a factor, once), so κ_i = A from two values
      float v = probe.params().get(i);
      float w = v == 0f ? 1f : 2 * v; // exact in float
      probe.params().set(i, w);
      double kappa = 2 * (halfPhi2Squared(probe) - half) / ((double) w * w - (double) v * v);
      probe.params().set(i, v);
      double want = before.get(i) - 0.1 * g.get(i) / kappa;
      assertThat((double) n.params().get(i)).as("parameter %d", i).isCloseTo(want, within(1e-5 * Math.max(1,
          Math.abs(want))));
    }
  }
}
