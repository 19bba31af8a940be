package io.github.pathsgd.core.step;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.github.pathsgd.core.geometry.ChannelRescaling;
import io.github.pathsgd.core.geometry.LayerKappa;
import io.github.pathsgd.core.geometry.Rescaling;
import io.github.pathsgd.core.geometry.Unbalance;
import io.github.pathsgd.core.nn.DenseChain;
import io.github.pathsgd.core.nn.Dropout;
import io.github.pathsgd.core.nn.Init;
import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.core.nn.LayerSpec;
import io.github.pathsgd.core.nn.Network;
import io.github.pathsgd.core.optim.OptState;
import io.github.pathsgd.core.optim.Optimizer;
import io.github.pathsgd.core.optim.Optimizers;
import io.github.pathsgd.core.optim.PathNormalizeState;
import io.github.pathsgd.core.optim.UnitRescaling;
import io.github.pathsgd.core.tensor.Tensor;
import io.github.pathsgd.core.util.Rng;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A conv net built from a {@link LayerSpec} behind {@link TrainStep}: its gradient through {@link
 * Network#lossAndGradient} (with input and hidden dropout) against central differences; Path-SGD steps (momentum 0.9,
 * dropout) that commute with a channel rescaling for one and five steps while SGD steps do not; a dense-only network
 * that trains exactly as the equivalent {@link LayerNet}; the Path-SGD state's checkpoint form.
 */
class LayerNetTrainStepTest {
  // 2×6×6 → conv 3 of 3×3 pad 1 → avg-pool 2 → conv 4 of 2×3 pad 1 → max-pool 2 → dense 5 → 4 classes
  private static final LayerSpec SPEC = LayerSpec.parse("conv(3,3,pad=1),avgpool(2),conv(4,2x3,pad=1),maxpool(2),"
      + "dense(5)");
  private static final int B = 6;
  private static final int[] LABELS = {0, 1, 2, 3, 1, 0};

  private static LayerNet net(long seed) {
    LayerNet n = SPEC.build(2, 6, 6, 4);
    Init.balanced(n, new Rng(seed));
    Random r = new Random(seed); // non-zero biases, so that they are checked too
    for (var l : n.layers()) {
      if (l.paramSize() > 0) {
        int units = l instanceof io.github.pathsgd.core.nn.Conv2d c ? c.filters() : l.paramSize() / (l.in() + 1);
        for (int u = 0; u < units; u++) {
          n.params().set(l.paramOffset() + l.paramSize() - units + u, (float) (r.nextGaussian() * 0.1));
        }
      }
    }
    return n;
  }

  private static float[] inputs() {
    Random r = new Random(11);
    float[] x = new float[B * 72];
    for (int i = 0; i < x.length; i++) {
      x[i] = r.nextFloat();
    }
    return x;
  }

  private static double loss(LayerNet n, float[] x, Dropout d, long maskSeed) {
    Network.Workspace ws = n.workspace(B);
    ws.input().copyFrom(x, 0, 0, x.length);
    return n.lossAndGradient(ws, B, LABELS, 0, new Tensor(n.params().size()), d, new Rng(maskSeed)).loss();
  }

  @Test
  void shapesFollowTheSpec() {
    LayerNet n = SPEC.build(2, 6, 6, 4);
    // conv 3×6×6 → pool 3×3×3 → conv (3+2−2+1)=4 × (3+2−3+1)=3: 4×4×3 → pool 4×2×1 → dense 5 → 4
    assertThat(n.layers()).extracting(l -> l.out()).containsExactly(108, 27, 48, 8, 5, 4);
    assertThat(n.params().size()).isEqualTo(3 * 18 + 3 + 4 * 18 + 4 + 8 * 5 + 5 + 5 * 4 + 4);
  }

  @Test
  void gradientOfTheWholeNetMatchesCentralDifferencesWithDropout() {
    LayerNet n = net(1);
    float[] x = inputs();
    Dropout d = new Dropout(0.7f, 0.9f); // the same masks for every evaluation: the same seed
    Network.Workspace ws = n.workspace(B);
    ws.input().copyFrom(x, 0, 0, x.length);
    Tensor g = new Tensor(n.params().size());
    n.lossAndGradient(ws, B, LABELS, 0, g, d, new Rng(7));
    float eps = 5e-4f;
    double center = loss(n, x, d, 7);
    int kinks = 0;
    for (int t = 0; t < n.params().size(); t++) {
      float v = n.params().get(t);
      n.params().set(t, v + eps);
      double up = loss(n, x, d, 7);
      n.params().set(t, v - eps);
      double down = loss(n, x, d, 7);
      n.params().set(t, v);
      // a ReLU or a max-pool switch inside [v − eps, v + eps] bends the loss: the one-sided slopes disagree there
      if (Math.abs((up - center) - (center - down)) / eps > 1e-2) {
        kinks++;
        continue;
      }
      assertThat((double) g.get(t)).as("parameter %d", t).isCloseTo((up - down) / (2 * eps), within(1.5e-3));
    }
    assertThat(kinks).isLessThan(n.params().size() / 20);
  }

  /** K steps through TrainStep, masks from seeds 100.., momentum 0.9, dropout keep 0.6 (hidden) and 0.9 (inputs). */
  private static Tensor train(LayerNet n, Optimizer opt, int K) {
    TrainStep step = new TrainStep(n, opt, B);
    assertThat(step.folds()).isFalse();
    float[] x = inputs();
    for (int s = 0; s < K; s++) {
      step.workspace().input().copyFrom(x, 0, 0, x.length);
      step.run(B, LABELS, new Dropout(0.6f, 0.9f), new Rng(100 + s));
    }
    return n.params();
  }

  @Test
  void pathSgdStepsCommuteWithAChannelRescalingAndSgdStepsDoNot() {
    int[] hidden = ChannelRescaling.hiddenLayers(net(2));
    assertThat(hidden).containsExactly(0, 2, 4);
    for (int K : new int[] {1, 5}) {
      for (int k : hidden) { // a channel of each hidden layer: conv → pool → conv, conv → pool → dense, dense → out
        LayerNet a = net(2);
        LayerNet b = net(2);
        ChannelRescaling.scaleChannel(b, k, 0, 4.0); // a power of two: exact
        train(a, Optimizers.pathSgd(0.05, 2, 0.9, false), K);
        train(b, Optimizers.pathSgd(0.05, 2, 0.9, false), K);
        ChannelRescaling.scaleChannel(a, k, 0, 4.0);
        for (int i = 0; i < a.params().size(); i++) {
          assertThat((double) b.params().get(i)).as("Path-SGD, %d steps, layer %d, parameter %d", K, k, i)
              .isCloseTo(a.params().get(i), within(2e-5 * Math.max(1, Math.abs(a.params().get(i)))));
        }
        LayerNet sa = net(2);
        LayerNet sb = net(2);
        ChannelRescaling.scaleChannel(sb, k, 0, 4.0);
        train(sa, Optimizers.sgd(0.5, 0.9, false), K);
        train(sb, Optimizers.sgd(0.5, 0.9, false), K);
        ChannelRescaling.scaleChannel(sa, k, 0, 4.0);
        double worst = 0;
        for (int i = 0; i < sa.params().size(); i++) {
          worst = Math.max(worst, Math.abs(sa.params().get(i) - sb.params().get(i))
              / Math.max(1, Math.abs(sa.params().get(i))));
        }
        assertThat(worst).as("SGD, %d steps, layer %d", K, k).isGreaterThan(1e-3);
      }
    }
  }

  @Test
  void pathSgdStepDividesTheGradientByLayerKappa() {
    LayerNet n = net(3);
    Tensor before = n.params().copy();
    float[] x = inputs();
    Network.Workspace ws = n.workspace(B);
    ws.input().copyFrom(x, 0, 0, x.length);
    Tensor g = new Tensor(n.params().size());
    n.lossAndGradient(ws, B, LABELS, 0, g, Dropout.NONE, null);
    double[] kappa = LayerKappa.of(n.layers(), before, 2);
    TrainStep step = new TrainStep(n, Optimizers.pathSgd(0.1, 2), B);
    step.workspace().input().copyFrom(x, 0, 0, x.length);
    step.run(B, LABELS, Dropout.NONE, null);
    for (int i = 0; i < g.size(); i++) {
      double want = before.get(i) - 0.1 * g.get(i) / kappa[i];
      assertThat((double) n.params().get(i)).as("parameter %d", i).isCloseTo(want, within(1e-6 * Math.max(1,
          Math.abs(want))));
    }
    PathNormalizeState st = (PathNormalizeState) ((io.github.pathsgd.core.optim.Chain.State) step.state())
        .children().get(0);
    assertThat(st.kappa(5)).isCloseTo(kappa[5], within(1e-6 * kappa[5]));
  }

  @Test
  void aDenseOnlyLayerNetTrainsExactlyAsTheEquivalentMlp() {
    LayerNet ln = LayerSpec.parse("dense(16),dense(8)").build(1, 6, 6, 4);
    Init.balanced(ln, new Rng(4));
    LayerNet mlp = Init.balanced(new DenseChain(36, 16, 8, 4), new Rng(4));
    assertThat(ln.params().toArray()).containsExactly(mlp.params().toArray());
    // the same unbalanced picks: a dense layer's channels are its units
    double[][] fl = ChannelRescaling.unbalance(ln, Unbalance.DEFAULT, new Rng(8));
    double[][] fm = Rescaling.unbalance(mlp, Unbalance.DEFAULT, new Rng(8));
    assertThat(fl[0]).containsExactly(fm[1]);
    assertThat(fl[1]).containsExactly(fm[2]);
    assertThat(ln.params().toArray()).containsExactly(mlp.params().toArray());
    // SGD with momentum (never folded) and dropout: the same kernels, bit for bit
    float[] x = inputs();
    TrainStep a = new TrainStep(ln, Optimizers.sgd(0.05, 0.9, false), B);
    TrainStep b = new TrainStep(mlp, Optimizers.sgd(0.05, 0.9, false), B);
    for (int s = 0; s < 4; s++) {
      a.workspace().input().copyFrom(x, 0, 0, B * 36);
      b.workspace().input().copyFrom(x, 0, 0, B * 36);
      a.run(B, LABELS, new Dropout(0.5f, 0.8f), new Rng(s));
      b.run(B, LABELS, new Dropout(0.5f, 0.8f), new Rng(s));
    }
    assertThat(ln.params().toArray()).containsExactly(mlp.params().toArray());
    // Path-SGD: LayerKappa (double) on one side, the folded rank-one κ on the other: the same to float rounding
    LayerNet ln2 = ln.copy();
    LayerNet mlp2 = mlp.copy();
    TrainStep c = new TrainStep(ln2, Optimizers.pathSgd(0.01, 2), B);
    TrainStep d = new TrainStep(mlp2, Optimizers.pathSgd(0.01, 2), B);
    assertThat(d.folds()).isTrue();
    for (int s = 0; s < 3; s++) {
      c.workspace().input().copyFrom(x, 0, 0, B * 36);
      d.workspace().input().copyFrom(x, 0, 0, B * 36);
      c.run(B, LABELS, Dropout.NONE, null);
      d.run(B, LABELS, Dropout.NONE, null);
    }
    for (int i = 0; i < ln2.params().size(); i++) {
      assertThat((double) ln2.params().get(i)).isCloseTo(mlp2.params().get(i),
          within(1e-4 * Math.max(1e-2, Math.abs(mlp2.params().get(i)))));
    }
  }

  @Test
  void anUnbalancedInitThatOverflowsIsRefusedAndLeavesTheNetworkAsItWas() {
    LayerNet n = net(6);
    float[] before = n.params().toArray();
    Unbalance huge = new Unbalance(new Unbalance.PerLayer(0.5), Unbalance.FactorForm.TEN_TO_THE_C, 4, 0);
    assertThatThrownBy(() -> ChannelRescaling.unbalanceChecked(n, huge, new Rng(1)))
        .isInstanceOf(Rescaling.Refused.class).hasMessageContaining("overflow to infinity")
        .hasMessageContaining("largest factor");
    assertThat(n.params().toArray()).containsExactly(before);
    // a moderate one passes and keeps the function
    LayerNet m = net(6);
    double[][] f = ChannelRescaling.unbalanceChecked(m, Unbalance.DEFAULT, new Rng(1));
    assertThat(f[0]).hasSize(3);
    assertThat(f[1]).isNull(); // pooling
    assertThat(m.params().toArray()).isNotEqualTo(before);
  }

  @Test
  void pathSgdStateOfALayerNetExportsAndRestores() {
    LayerNet n = net(5);
    Optimizer opt = Optimizers.pathSgd(0.05, 2, 0.9, false);
    TrainStep step = new TrainStep(n, opt, B);
    float[] x = inputs();
    step.workspace().input().copyFrom(x, 0, 0, x.length);
    step.run(B, LABELS, Dropout.NONE, null);
    Map<String, Object> saved = step.state().export();
    assertThat(saved).containsKeys("0.kappa", "0.kappa_exp", "0.$kappa_floor", "1.momentum", "#count");
    assertThat((float[]) saved.get("0.kappa")).hasSize(n.params().size());
    OptState fresh = opt.init(n.layout());
    fresh.restore(saved);
    assertThat(fresh.export()).usingRecursiveComparison().isEqualTo(saved);
    assertThatThrownBy(() -> UnitRescaling.apply(fresh, 1, 0, 2.0)) // layer 1 is a pooling layer
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("layer 1, avgpool before layers.1, has no parameters");
  }

  /**
   * Optimizer-state rescaling works for a network of layers (before, {@code UnitRescaling} threw for it): train 2
   * Path-SGD steps (momentum 0.9, dropout, κ kept for 3 steps), copy the run, rescale one channel of each hidden layer
   * of the copy by a power of two, parameters and state (momentum after the normalization, per-parameter κ), train
   * both 3 more steps and map the copy back: the runs agree. Rescaling the parameters alone does not.
   */
  @Test
  void aMidRunChannelRescalingOfParametersAndStateCommutesWithPathSgd() {
    Optimizer opt = Optimizers.pathSgd(0.05, io.github.pathsgd.core.optim.PathSgdOptions.DEFAULT.withRecomputeEvery(3),
        0.9, false);
    float[] x = inputs();
    for (boolean rescaleState : new boolean[] {true, false}) {
      LayerNet a = net(7);
      TrainStep sa = new TrainStep(a, opt, B);
      for (int s = 0; s < 2; s++) {
        sa.workspace().input().copyFrom(x, 0, 0, x.length);
        sa.run(B, LABELS, new Dropout(0.6f, 0.9f), new Rng(200 + s));
      }
      LayerNet b = a.copy();
      OptState st = opt.init(b.layout());
      st.restore(sa.state().export());
      TrainStep sb = new TrainStep(b, opt, b.workspace(B), st, false);
      int[][] picks = {{0, 1}, {2, 3}, {4, 2}}; // (hidden layer, channel): conv, conv, dense
      double[] factors = {4.0, 0.25, 8.0};
      for (int i = 0; i < picks.length; i++) {
        ChannelRescaling.scaleChannel(b, picks[i][0], picks[i][1], factors[i]);
        if (rescaleState) {
          UnitRescaling.apply(st, picks[i][0], picks[i][1], factors[i]);
        }
      }
      for (int s = 2; s < 5; s++) {
        sa.workspace().input().copyFrom(x, 0, 0, x.length);
        sa.run(B, LABELS, new Dropout(0.6f, 0.9f), new Rng(200 + s));
        sb.workspace().input().copyFrom(x, 0, 0, x.length);
        sb.run(B, LABELS, new Dropout(0.6f, 0.9f), new Rng(200 + s));
      }
      for (int i = 0; i < picks.length; i++) {
        ChannelRescaling.scaleChannel(a, picks[i][0], picks[i][1], factors[i]);
      }
      double worst = 0;
      for (int i = 0; i < a.params().size(); i++) {
        worst = Math.max(worst, Math.abs(a.params().get(i) - b.params().get(i)) / Math.max(1, Math.abs(a.params()
            .get(i))));
      }
      if (rescaleState) {
        assertThat(worst).as("parameters and state rescaled").isLessThanOrEqualTo(2e-5);
      } else {
        assertThat(worst).as("parameters alone rescaled").isGreaterThan(1e-3);
      }
    }
  }
}
