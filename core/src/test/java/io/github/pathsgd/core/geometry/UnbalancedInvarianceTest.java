package io.github.pathsgd.core.geometry;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.pathsgd.core.nn.DenseChain;
import io.github.pathsgd.core.nn.Dropout;
import io.github.pathsgd.core.nn.Init;
import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.core.nn.Network;
import io.github.pathsgd.core.optim.Chain;
import io.github.pathsgd.core.optim.OptState;
import io.github.pathsgd.core.optim.Optimizer;
import io.github.pathsgd.core.optim.Optimizers;
import io.github.pathsgd.core.optim.PathNormalizeState;
import io.github.pathsgd.core.step.TrainStep;
import io.github.pathsgd.core.tensor.Tensor;
import io.github.pathsgd.core.util.Rng;
import org.junit.jupiter.api.Test;

/**
 * The unbalanced initialization at the former default strength (2000 picks over all hidden units, factor 10·c,
 * c ~ LogNormal(0,1); 20 times the default per-layer density of a quarter) on a network with 400 hidden units, so units
 * are rescaled several times over: Path-SGD from the balanced and from the unbalanced
 * start compute the same function after several steps (through the real training step, fused), with no κ clamped;
 * SGD does not.
 */
class UnbalancedInvarianceTest {
  static final DenseChain LAY = new DenseChain(30, 200, 200, 10);

  static double relDiffAfterSteps(Optimizer optA, Optimizer optB, int steps) {
    LayerNet a = Init.balanced(LAY, new Rng(1));
    LayerNet b = a.copy();
    Rescaling.unbalance(b, Unbalance.total(2000), new Rng(2));
    OptState sa = optA.init(io.github.pathsgd.core.nn.NetLayout.dense(LAY));
    OptState sb = optB.init(io.github.pathsgd.core.nn.NetLayout.dense(LAY));
    int B = 20;
    Network.Workspace wa = a.workspace(B);
    Network.Workspace wb = b.workspace(B);
    Tensor ga = new Tensor(LAY.size());
    Tensor gb = new Tensor(LAY.size());
    Rng data = new Rng(3);
    int[] y = new int[B];
    for (int s = 0; s < steps; s++) {
      nextBatch(data, wa, wb, y);
      new TrainStep(a, optA, wa, sa, true).run(B, y, 0, new Dropout(0.8f, 1f), new Rng(10 + s));
      new TrainStep(b, optB, wb, sb, true).run(B, y, 0, new Dropout(0.8f, 1f), new Rng(10 + s));
      if (((Chain.State) sb).children().get(0) instanceof PathNormalizeState) {
        assertThat(((Chain.State) sb).children().get(0).clamped()).isZero();
      }
    }
    float[] x = new float[B * 30];
    for (int i = 0; i < x.length; i++) {
      x[i] = data.nextFloat();
    }
    float[] oa = Equivalence.outputs(a, x, B);
    double scale = 0;
    for (float v : oa) {
      scale = Math.max(scale, Math.abs(v));
    }
    return Equivalence.maxOutputDifference(a, b, x, B) / scale;
  }

  /** The same random batch (inputs of width 30, labels in [0, 10), y.length rows) into both workspaces. */
  static void nextBatch(Rng data, Network.Workspace wa, Network.Workspace wb, int[] y) {
    for (int i = 0; i < y.length * 30; i++) {
      float v = data.nextFloat();
      wa.input().set(i, v);
      wb.input().set(i, v);
    }
    for (int i = 0; i < y.length; i++) {
      y[i] = data.nextInt(10);
    }
  }

  @Test
  void pathSgdIsInvariantUnderThePapersUnbalancing() {
    double d = relDiffAfterSteps(Optimizers.pathSgd(0.01, 2), Optimizers.pathSgd(0.01, 2), 5);
    assertThat(d).isLessThan(1e-4);
  }

  @Test
  void pathSgdWithMomentumIsInvariantToo() {
    double d = relDiffAfterSteps(Optimizers.pathSgd(0.01, 2, 0.9, false),
        Optimizers.pathSgd(0.01, 2, 0.9, false), 5);
    assertThat(d).isLessThan(1e-4);
  }

  @Test
  void sgdIsNot() {
    double d = relDiffAfterSteps(Optimizers.sgd(0.01), Optimizers.sgd(0.01), 5);
    assertThat(d).isGreaterThan(1e-2);
  }

  /**
   * Rescaling by powers of two is exact in float, and so is every product and sum of the rescaled network up to the
   * same power: Path-SGD (fused, with dropout) from a network rescaled by powers of two must follow the balanced run
   * bit for bit over many steps: its weights are exactly the rescaled balanced weights and its logits are identical.
   * This separates the implementation's invariance from float rounding: with the paper's factors 10·c the two runs
   * differ only by the rounding of the rescaled start, which training then amplifies.
   */
  @Test
  void powerOfTwoRescalingIsBitExactOverManySteps() {
    LayerNet a = Init.balanced(LAY, new Rng(1));
    LayerNet b = a.copy();
    Rng pick = new Rng(5);
    int[][] picks = new int[300][3];
    for (int[] q : picks) {
      q[0] = 1 + pick.nextInt(LAY.layers() - 1); // width index of a hidden layer
      q[1] = pick.nextInt(LAY.width(q[0]));
      q[2] = pick.nextInt(17) - 8; // c = 2^k, k in [-8, 8]
      Rescaling.scaleUnit(b, q[0], q[1], Math.scalb(1.0, q[2]));
    }
    Optimizer opt = Optimizers.pathSgd(0.01, 2);
    OptState sa = opt.init(io.github.pathsgd.core.nn.NetLayout.dense(LAY));
    OptState sb = opt.init(io.github.pathsgd.core.nn.NetLayout.dense(LAY));
    int B = 20;
    Network.Workspace wa = a.workspace(B);
    Network.Workspace wb = b.workspace(B);
    Tensor g = new Tensor(LAY.size());
    Rng data = new Rng(3);
    int[] y = new int[B];
    for (int s = 0; s < 40; s++) {
      nextBatch(data, wa, wb, y);
      double la = new TrainStep(a, opt, wa, sa, true).run(B, y, 0, new Dropout(0.8f, 1f), new Rng(10 + s)).loss();
      double lb = new TrainStep(b, opt, wb, sb, true).run(B, y, 0, new Dropout(0.8f, 1f), new Rng(10 + s)).loss();
      assertThat(lb).as("loss at step %d", s).isEqualTo(la);
    }
    LayerNet rescaledA = a.copy();
    for (int[] q : picks) {
      Rescaling.scaleUnit(rescaledA, q[0], q[1], Math.scalb(1.0, q[2]));
    }
    for (int i = 0; i < LAY.size(); i++) {
      assertThat(b.params().get(i)).as("parameter %d", i).isEqualTo(rescaledA.params().get(i));
    }
    assertThat(((Chain.State) sa).children().get(0).clamped()).isZero();
  }
}
