package io.github.pathsgd.djl;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Model;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.training.Trainer;
import io.github.pathsgd.core.nn.Dense;
import io.github.pathsgd.core.nn.DenseChain;
import io.github.pathsgd.core.nn.Dropout;
import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.core.nn.LayerSpec;
import io.github.pathsgd.core.nn.Network;
import io.github.pathsgd.core.optim.Optimizers;
import io.github.pathsgd.core.step.TrainStep;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * K Path-SGD steps of a DJL model (DJL's own fit loop, PyTorch engine, DJL's Sgd with momentum, {@link
 * PathSgdListener}) equal pathsgd's own {@link TrainStep} with its {@code path-sgd} optimizer on the same initial
 * weights and batches: pathsgd is the oracle.
 *
 * <p>Tolerance: the two compute the same gradients with different float32 GEMMs and reductions (PyTorch's vs pathsgd's
 * OpenBLAS), so they differ by float32 rounding, about 1e-7 of each gradient, which κ (the same on both sides up to
 * that rounding) carries into the update; momentum adds the updates of K steps. The parameters are compared against
 * the size of the total change: |Δ_djl − Δ_pathsgd| ≤ 1e-4·max|Δ_pathsgd| + 1e-6 per coordinate, while an
 * un-normalized step (plain SGD) misses it by far more (checked too, so the bound can fail).
 */
class PathSgdEqualityTest {
  static final int B = 8;
  static final int K = 6;

  @Test
  void mlpStepsEqualPathsgdsTrainStep() throws Exception {
    check(Fixtures::mlp, Fixtures.MLP_IN, 0.05f, 0.9f, 11);
  }

  @Test
  void mlpStepsWithoutMomentumEqualPathsgdsTrainStep() throws Exception {
    check(Fixtures::mlp, Fixtures.MLP_IN, 0.1f, 0f, 12);
  }

  @Test
  void convNetStepsEqualPathsgdsTrainStep() throws Exception {
    check(Fixtures::convNet, Fixtures.CONV_IN, 0.05f, 0.9f, 13);
  }

  @Test
  void residualConvNetStepsEqualPathsgdsTrainStep() throws Exception {
    check(Fixtures::resNet, Fixtures.RES_IN, 0.05f, 0.9f, 14);
  }

  @Test
  void residualMlpStepsEqualPathsgdsTrainStep() throws Exception {
    check(Fixtures::resMlp, Fixtures.RES_MLP_IN, 0.05f, 0.9f, 15);
  }

  @Test
  void l1PathSgdStepsEqualPathsgdsTrainStepForAnMlpAndAConvNet() throws Exception {
    check(Fixtures::mlp, Fixtures.MLP_IN, 0.05f, 0.9f, 16, 1);
    check(Fixtures::convNet, Fixtures.CONV_IN, 0.05f, 0.9f, 17, 1);
  }

  static void check(Supplier<Block> block, Shape in, float lr, float momentum, long seed) throws Exception {
    check(block, in, lr, momentum, seed, 2);
  }

  static void check(Supplier<Block> block, Shape in, float lr, float momentum, long seed, double p)
      throws Exception {
    int n = B * K;
    float[] x = Fixtures.inputs(n, in.size(), seed);
    int[] y = Fixtures.labels(n, 3, seed);
    float[] djlStart;
    float[] djlEnd;
    float[] sgdEnd;
    String spec;
    PathSgdListener listener = PathSgdListener.of(p);
    try (Model model = Model.newInstance("pathsgd"); Trainer t = Fixtures.trainer(model, block.get(), in, B, lr,
        momentum, listener)) {
      DjlNetwork net = DjlNetwork.of(model.getBlock());
      spec = net.layers();
      djlStart = net.weights();
      Fixtures.fit(t, x, y, in, B);
      assertThat(listener.steps()).isEqualTo(K);
      net.pullWeights();
      djlEnd = net.weights();
    }
    // the same model and start, trained by DJL's Sgd alone: the un-normalized reference
    try (Model model = Model.newInstance("sgd"); Trainer t = Fixtures.trainer(model, block.get(), in, B, lr,
        momentum)) {
      DjlNetwork net = DjlNetwork.of(model.getBlock());
      net.graph().params().put(0, djlStart);
      net.pushWeights();
      Fixtures.fit(t, x, y, in, B);
      net.pullWeights();
      sgdEnd = net.weights();
    }
    // the oracle: pathsgd's network of the same spec, the same start, its TrainStep with path-sgd and momentum
    long[] s = in.getShape();
    LayerNet layered = s.length == 1 ? LayerSpec.parse(spec).build((int) s[0], 1, 1, 3)
        : LayerSpec.parse(spec).build((int) s[0], (int) s[1], (int) s[2], 3);
    // as `pathsgd train` runs it: a network of dense layers only as its fully connected network (the folded step),
    // any other as a network of layers
    Network oracle = layered;
    if (layered.layers().stream().allMatch(l -> l instanceof Dense)) {
      int[] widths = new int[layered.layers().size() + 1];
      widths[0] = layered.inputs();
      for (int k = 0; k < layered.layers().size(); k++) {
        widths[k + 1] = layered.layers().get(k).out();
      }
      oracle = LayerNet.dense(new DenseChain(widths));
    }
    oracle.params().buffer().put(0, djlStart);
    TrainStep step = new TrainStep(oracle, Optimizers.pathSgd(lr, p, momentum, false), B);
    int width = (int) in.size();
    for (int k = 0; k < K; k++) {
      step.workspace().input().copyFrom(x, k * B * width, 0, B * width);
      step.run(B, y, k * B, Dropout.NONE, null);
    }
    float[] want = oracle.params().toArray();
    double maxDelta = 0;
    double maxDiff = 0;
    double sgdDiff = 0;
    for (int i = 0; i < want.length; i++) {
      maxDelta = Math.max(maxDelta, Math.abs(want[i] - djlStart[i]));
      maxDiff = Math.max(maxDiff, Math.abs(djlEnd[i] - want[i]));
      sgdDiff = Math.max(sgdDiff, Math.abs(sgdEnd[i] - want[i]));
    }
    double tol = 1e-4 * maxDelta + 1e-6;
    System.out.printf("p=%s %s: max|Δ| %.3e, max|djl − pathsgd| %.3e (tolerance %.3e), max|sgd − pathsgd| %.3e%n",
        p, spec, maxDelta, maxDiff, tol, sgdDiff);
    assertThat(maxDelta).as("the steps move the weights").isGreaterThan(1e-3);
    assertThat(maxDiff).as("DJL Path-SGD vs pathsgd's TrainStep").isLessThanOrEqualTo(tol);
    assertThat(sgdDiff).as("plain SGD is not Path-SGD").isGreaterThan(100 * tol);
  }
}
