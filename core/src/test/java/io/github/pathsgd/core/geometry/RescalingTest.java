package io.github.pathsgd.core.geometry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.github.pathsgd.core.nn.DenseChain;
import io.github.pathsgd.core.nn.Init;
import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.core.optim.Chain;
import io.github.pathsgd.core.optim.OptState;
import io.github.pathsgd.core.optim.Optimizer;
import io.github.pathsgd.core.optim.Optimizers;
import io.github.pathsgd.core.optim.UnitRescaling;
import io.github.pathsgd.core.tensor.Tensor;
import io.github.pathsgd.core.util.Rng;
import org.junit.jupiter.api.Test;

class RescalingTest {
  @Test
  void scaleUnitTouchesIncomingBiasAndOutgoing() {
    // 2-2-1 net, params (W_0 row-major, b_0, W_1, b_1) = (1,2,3,4, 5,6, 7,8, 9); rescale hidden unit 1 by 2
    LayerNet net = LayerNet.dense(new DenseChain(2, 2, 1));
    net.params().copyFrom(new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9}, 0, 0, 9);
    Rescaling.scaleUnit(net, 1, 1, 2);
    assertThat(net.params().toArray()).containsExactly(1, 2, 6, 8, 5, 12, 7, 4, 9);
    assertThatThrownBy(() -> Rescaling.scaleUnit(net, 0, 0, 2)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Rescaling.scaleUnit(net, 2, 0, 2)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Rescaling.scaleUnit(net, 1, 0, -1)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void unbalancedInitIsEquivalentButUnbalanced() {
    DenseChain lay = new DenseChain(6, 20, 20, 4);
    LayerNet bal = Init.balanced(lay, new Rng(3).split("init"));
    LayerNet unb = Rescaling.unbalanced(lay, new Rng(3).split("init"), Unbalance.total(30),
        new Rng(3).split("unbalance"));
    float[] x = new float[16 * 6];
    Rng r = new Rng(9);
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) r.nextGaussian();
    }
    double scale = 0;
    for (float v : Equivalence.outputs(bal, x, 16)) {
      scale = Math.max(scale, Math.abs(v));
    }
    assertThat(Equivalence.maxOutputDifference(bal, unb, x, 16)).isLessThanOrEqualTo(1e-5 * scale);
    assertThat(PathNorms.phi(unb, 2)).isCloseTo(PathNorms.phi(bal, 2), within(1e-5 * PathNorms.phi(bal, 2)));
    assertThat(GroupNorms.maxNorm(unb, true)).isGreaterThan(10 * GroupNorms.maxNorm(bal, true));
    // deterministic from the seed
    LayerNet again = Rescaling.unbalanced(lay, new Rng(3).split("init"), Unbalance.total(30),
        new Rng(3).split("unbalance"));
    assertThat(again.params().toArray()).containsExactly(unb.params().toArray());
    // the default: a quarter of each hidden layer's units (the authors' MATLAB demo), factor 10·c, c ~ LogNormal(0, 1)
    assertThat(Unbalance.DEFAULT).isEqualTo(new Unbalance(new Unbalance.PerLayer(0.25),
        Unbalance.FactorForm.TEN_TIMES_C, 0, 1));
  }

  @Test
  void unbalanceFactorFormsDiffer() {
    DenseChain lay = new DenseChain(1, 1, 1);
    LayerNet a = LayerNet.dense(lay);
    a.params().copyFrom(new float[] {1, 0, 1, 0}, 0, 0, 4);
    LayerNet b = a.copy();
    // one pick, σ = 0 so c = e^μ = e^0 = 1: factor 10·1 = 10 vs 10^1 = 10; with μ = ln 2: 20 vs 10^2 = 100
    // (one pick: a width-1 layer gets round(0.25) = 0 picks at the default density, so this uses an absolute count)
    Rescaling.unbalance(a, new Unbalance(new Unbalance.Total(1), Unbalance.FactorForm.TEN_TIMES_C,
        Math.log(2), 0), new Rng(1));
    Rescaling.unbalance(b, new Unbalance(new Unbalance.Total(1), Unbalance.FactorForm.TEN_TO_THE_C,
        Math.log(2), 0), new Rng(1));
    assertThat(a.params().get(0)).isCloseTo(20f, within(1e-4f));
    assertThat(a.params().get(2)).isCloseTo(0.05f, within(1e-7f));
    assertThat(b.params().get(0)).isCloseTo(100f, within(1e-3f));
  }

  @Test
  void adagradAccumulatorTransformsLikeSquaredGradients() {
    Harness h = new Harness(11, 1);
    double[][] f = h.factors(0);
    Optimizer ada = Optimizers.adagrad(0.01);
    LayerNet a = h.net();
    LayerNet b = a.copy();
    Rescaling.scaleAll(b, f);
    OptState sa = ada.init(a.layout());
    OptState sb = ada.init(b.layout());
    h.train(a, ada, sa, 0, 1, io.github.pathsgd.core.nn.Dropout.NONE);
    h.train(b, ada, sb, 0, 1, io.github.pathsgd.core.nn.Dropout.NONE);
    UnitRescaling.applyAll(sa, f); // sum_sq = g² of the first step; maps to that of the rescaled net
    Tensor x = ((io.github.pathsgd.core.optim.Transforms.RssState) ((Chain.State) sa).children().get(0)).sumSq();
    Tensor y = ((io.github.pathsgd.core.optim.Transforms.RssState) ((Chain.State) sb).children().get(0)).sumSq();
    for (int i = 0; i < x.size(); i++) {
      assertThat(y.get(i)).isCloseTo(x.get(i), within(1e-4f * Math.abs(x.get(i)) + 1e-12f));
    }
  }
}
