package io.github.pathsgd.djl;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Model;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.training.Trainer;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * Path-SGD in DJL is invariant to node-wise rescaling: a copy of a model given pathsgd's unbalanced initialization
 * ({@link DjlNetwork#unbalance}: the same function, other weights), trained with Path-SGD on the same batches and
 * mapped back with the inverse factors, follows the original; with DJL's plain SGD it does not.
 *
 * <p>Tolerance: invariance is exact in real arithmetic; in float32 each rescaling and each step rounds, so the mapped
 * back weights agree with the original's to rounding, relative to the total change: |Δ| ≤ 1e-3·max|Δ_original| +
 * 1e-5. Plain SGD misses that by more than 10× (NaN, when the unbalanced model diverges, also misses it).
 */
class InvarianceTest {
  static final int B = 8;
  static final int K = 5;

  @Test
  void mlpPathSgdFollowsTheOriginalSgdDoesNot() throws Exception {
    check(Fixtures::mlp, Fixtures.MLP_IN, 21);
  }

  @Test
  void convNetPathSgdFollowsTheOriginalSgdDoesNot() throws Exception {
    check(Fixtures::convNet, Fixtures.CONV_IN, 22);
  }

  static void check(Supplier<Block> block, Shape in, long seed) throws Exception {
    float[] x = Fixtures.inputs(B * K, in.size(), seed);
    int[] y = Fixtures.labels(B * K, 3, seed);
    float[] start;
    try (Model m = Model.newInstance("init"); Trainer t = Fixtures.trainer(m, block.get(), in, B, 0.01f, 0f)) {
      start = DjlNetwork.of(m.getBlock()).weights();
    }
    double[] pathSgd = run(block, in, start, x, y, true, seed);
    double[] sgd = run(block, in, start, x, y, false, seed);
    System.out.printf("path-sgd: max|Δ| %.3e, max|rescaled − original| %.3e; sgd: max|Δ| %.3e, %.3e%n",
        pathSgd[0], pathSgd[1], sgd[0], sgd[1]);
    assertThat(pathSgd[0]).as("Path-SGD moves the weights").isGreaterThan(1e-3);
    double tol = 1e-3 * pathSgd[0] + 1e-5;
    assertThat(pathSgd[1]).as("Path-SGD: rescaled, mapped back, vs original").isLessThanOrEqualTo(tol);
    assertThat(sgd[1] <= 10 * (1e-3 * sgd[0] + 1e-5)).as("plain SGD follows the original (%s)", sgd[1]).isFalse();
  }

  /** {max|Δ| of the original, max|rescaled mapped back − original|} after K steps. */
  static double[] run(Supplier<Block> block, Shape in, float[] start, float[] x, int[] y, boolean pathSgd, long seed)
      throws Exception {
    float lr = pathSgd ? 0.05f : 0.02f;
    float[] original;
    try (Model m = Model.newInstance("a"); Trainer t = pathSgd
        ? Fixtures.trainer(m, block.get(), in, B, lr, 0.9f, PathSgdListener.of(2))
        : Fixtures.trainer(m, block.get(), in, B, lr, 0.9f)) {
      DjlNetwork net = DjlNetwork.of(m.getBlock());
      set(net, start);
      Fixtures.fit(t, x, y, in, B);
      net.pullWeights();
      original = net.weights();
    }
    float[] back;
    try (Model m = Model.newInstance("b"); Trainer t = pathSgd
        ? Fixtures.trainer(m, block.get(), in, B, lr, 0.9f, PathSgdListener.of(2))
        : Fixtures.trainer(m, block.get(), in, B, lr, 0.9f)) {
      DjlNetwork net = DjlNetwork.of(m.getBlock());
      set(net, start);
      double[][] f = net.unbalance(0.5, seed);
      float[] unbalanced = net.weights();
      assertThat(unbalanced).as("the unbalanced start differs").isNotEqualTo(start);
      Fixtures.fit(t, x, y, in, B);
      double[][] inv = new double[f.length][];
      for (int k = 0; k < f.length; k++) {
        if (f[k] != null) {
          inv[k] = new double[f[k].length];
          for (int ch = 0; ch < f[k].length; ch++) {
            inv[k][ch] = 1 / f[k][ch];
          }
        }
      }
      net.rescale(inv);
      back = net.weights();
    }
    double delta = 0;
    double diff = 0;
    for (int i = 0; i < start.length; i++) {
      delta = Math.max(delta, Math.abs(original[i] - start[i]));
      double d = Math.abs(back[i] - original[i]);
      diff = Double.isNaN(d) ? Double.NaN : Math.max(diff, d);
      if (Double.isNaN(diff)) {
        break;
      }
    }
    return new double[] {delta, diff};
  }

  static void set(DjlNetwork net, float[] w) {
    net.graph().params().put(0, w);
    net.pushWeights();
  }
}
