package io.github.pathsgd.core.geometry;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.pathsgd.core.nn.DenseChain;
import io.github.pathsgd.core.nn.Dropout;
import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.core.optim.OptState;
import io.github.pathsgd.core.optim.Optimizer;
import io.github.pathsgd.core.optim.Optimizers;
import io.github.pathsgd.core.optim.PathNormalize;
import io.github.pathsgd.core.optim.PathNormalizeState;
import io.github.pathsgd.core.optim.PathSgdOptions;
import io.github.pathsgd.core.optim.UnitRescaling;
import io.github.pathsgd.core.tensor.Tensor;
import io.github.pathsgd.core.util.Rng;
import io.github.pathsgd.testkit.Tries;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Rescaling invariance of the network function, the path norm and Path-SGD; non-invariance of SGD and AdaGrad. Each
 * property runs on fixed edge cases and then on seeded random ones ({@link Tries}), the same values every run.
 */
class PathSgdPropertiesTest {
  record Invariance(long seed, int pIdx) {}

  @Test
  void functionAndPathNormAreRescalingInvariant() {
    List<Invariance> edges = List.of(new Invariance(0, 1), new Invariance(-1, 4), new Invariance(Long.MAX_VALUE, 2),
        new Invariance(Long.MIN_VALUE, 3));
    Tries.forAll(30, 0x9A75_0001L, edges, r -> new Invariance(r.nextLong(), r.nextInt(1, 5)),
        c -> Tries.toward(c.pIdx(), 1).stream().map(p -> new Invariance(c.seed(), p)).toList(), c -> {
          Harness h = new Harness(c.seed(), 0);
          LayerNet a = h.net();
          LayerNet b = a.copy();
          Rescaling.scaleAll(b, h.factors(0));
          float[] x = h.testBatch();
          double scale = max(Equivalence.outputs(a, x, 32));
          assertThat(Equivalence.maxOutputDifference(a, b, x, 32)).isLessThanOrEqualTo(1e-5 * scale);
          double p = c.pIdx() == 4 ? Double.POSITIVE_INFINITY : c.pIdx();
          double pa = PathNorms.phi(a, p);
          assertThat(Math.abs(PathNorms.phi(b, p) - pa)).isLessThanOrEqualTo(1e-5 * pa);
          // but the ℓ2 norm is not invariant
          assertThat(Math.abs(GroupNorms.l2(b, true) - GroupNorms.l2(a, true))).isGreaterThan(1e-3);
        });
  }

  record Commute(long seed, boolean fiveSteps, boolean momentum, boolean dropout, int p) {
    /** Each field moved toward its simplest value (one step, no momentum, no dropout, p = 1), one at a time. */
    List<Commute> smaller() {
      List<Commute> s = new ArrayList<>();
      if (fiveSteps) {
        s.add(new Commute(seed, false, momentum, dropout, p));
      }
      if (momentum) {
        s.add(new Commute(seed, fiveSteps, false, dropout, p));
      }
      if (dropout) {
        s.add(new Commute(seed, fiveSteps, momentum, false, p));
      }
      for (int q : Tries.toward(p, 1)) {
        s.add(new Commute(seed, fiveSteps, momentum, dropout, q));
      }
      return s;
    }
  }

  @Test
  void pathSgdCommutesWithRescaling() {
    List<Commute> edges = List.of(new Commute(0, false, false, false, 1), new Commute(-1, true, true, true, 3));
    Tries.forAll(12, 0x9A75_0002L, edges, r -> new Commute(r.nextLong(), r.nextBoolean(), r.nextBoolean(),
        r.nextBoolean(), r.nextInt(1, 4)), Commute::smaller, c -> {
          int steps = c.fiveSteps() ? 5 : 1;
          Optimizer opt = c.momentum() ? Optimizers.pathSgd(0.05, c.p(), 0.9, false) : Optimizers.pathSgd(0.05, c.p());
          double diff = commutationError(c.seed(), steps, opt, c.dropout() ? new Dropout(0.5f, 1f) : Dropout.NONE, 0);
          assertThat(diff).isLessThanOrEqualTo(1e-5);
        });
  }

  record NonCommute(long seed, boolean adagrad) {}

  @Test
  void sgdAndAdagradDoNotCommute() {
    List<NonCommute> edges = List.of(new NonCommute(0, false), new NonCommute(0, true));
    Tries.forAll(6, 0x9A75_0003L, edges, r -> new NonCommute(r.nextLong(), r.nextBoolean()), c -> {
      Optimizer opt = c.adagrad() ? Optimizers.adagrad(0.05) : Optimizers.sgd(0.5);
      double diff = commutationError(c.seed(), 5, opt, Dropout.NONE, 0.5);
      assertThat(diff).isGreaterThan(1e-2); // more than 1000× the Path-SGD tolerance
    });
  }

  /**
   * Trains w and ρ(w) for {@code steps} identical steps, each from a fresh optimizer state, maps the second back with
   * ρ⁻¹ and returns the layer-wise relative difference, also checking the outputs.
   */
  private static double commutationError(long seed, int steps, Optimizer opt, Dropout dropout, double minLog) {
    Harness h = new Harness(seed, steps);
    double[][] f = h.factors(minLog);
    LayerNet a = h.net();
    LayerNet b = a.copy();
    Rescaling.scaleAll(b, f);
    h.train(a, opt, opt.init(a.layout()), 0, steps, dropout);
    h.train(b, opt, opt.init(b.layout()), 0, steps, dropout);
    LayerNet back = b.copy();
    Rescaling.scaleAll(back, Harness.inverse(f));
    return Harness.layerRelDiff(a, back);
  }

  record MidRun(long seed, boolean recomputeEveryThree) {}

  @Test
  void rescalingTheOptimizerStateMidRunKeepsInvariance() {
    List<MidRun> edges = List.of(new MidRun(0, false), new MidRun(Long.MIN_VALUE, true));
    Tries.forAll(8, 0x9A75_0004L, edges, r -> new MidRun(r.nextLong(), r.nextBoolean()),
        c -> rescalingTheOptimizerStateMidRunKeepsInvariance(c.seed(), c.recomputeEveryThree()));
  }

  private static void rescalingTheOptimizerStateMidRunKeepsInvariance(long seed, boolean recomputeEveryThree) {
    // run w for 2 steps; then either continue 3 steps and rescale, or rescale params+state and continue 3 steps
    Harness h = new Harness(seed, 5);
    double[][] f = h.factors(0);
    PathSgdOptions o = PathSgdOptions.DEFAULT.withRecomputeEvery(recomputeEveryThree ? 3 : 1);
    Optimizer opt = Optimizers.pathSgd(0.05, o, 0.9, true);
    LayerNet a = h.net();
    OptState sa = opt.init(a.layout());
    h.train(a, opt, sa, 0, 2, Dropout.NONE);
    LayerNet b = a.copy();
    OptState sb = opt.init(b.layout());
    sb.restore(sa.export());
    Rescaling.scaleAll(b, f);
    UnitRescaling.applyAll(sb, f);
    h.train(a, opt, sa, 2, 5, Dropout.NONE);
    h.train(b, opt, sb, 2, 5, Dropout.NONE);
    Rescaling.scaleAll(b, Harness.inverse(f));
    assertThat(Harness.layerRelDiff(a, b)).isLessThanOrEqualTo(1e-5);
  }

  @Test
  void kappaIsTheHessianDiagonalOfHalfSquaredPathNorm() {
    Tries.forAll(10, 0x9A75_0005L, List.of(0L, Long.MAX_VALUE), SplittableRandom::nextLong,
        PathSgdPropertiesTest::kappaIsTheHessianDiagonalOfHalfSquaredPathNorm);
  }

  private static void kappaIsTheHessianDiagonalOfHalfSquaredPathNorm(long seed) {
    Harness h = new Harness(seed, 0);
    LayerNet net = h.net();
    DenseChain lay = net.chain();
    double[] w = new double[lay.size()];
    for (int i = 0; i < w.length; i++) {
      w[i] = net.params().get(i);
    }
    // κ from the transform itself: normalizing an all-ones gradient gives 1/κ
    PathNormalize t = PathNormalize.of(2);
    PathNormalizeState st = t.init(io.github.pathsgd.core.nn.NetLayout.dense(lay));
    Tensor u = new Tensor(lay.size());
    u.fill(1f);
    t.update(u, st, net.params());
    double step = 1e-2;
    for (int e = 0; e < w.length; e++) {
      double w0 = w[e];
      w[e] = w0 + step;
      double fp = halfPhi2Squared(lay, w);
      w[e] = w0 - step;
      double fm = halfPhi2Squared(lay, w);
      w[e] = w0;
      double f0 = halfPhi2Squared(lay, w);
      double hess = (fp - 2 * f0 + fm) / (step * step);
      double kappa = 1.0 / u.get(e);
      assertThat(Math.abs(kappa - hess)).as("coordinate %d", e).isLessThanOrEqualTo(1e-5 * hess + 1e-9);
    }
  }

  /** ½ φ_2(w)² in double, biases as edges from a constant-1 unit (DP over w²). */
  private static double halfPhi2Squared(DenseChain lay, double[] w) {
    double[] a = new double[lay.inputs()];
    java.util.Arrays.fill(a, 1);
    for (int l = 0; l < lay.layers(); l++) {
      double[] next = new double[lay.out(l)];
      for (int o = 0; o < next.length; o++) {
        double b = w[lay.biasOffset(l) + o];
        double s = b * b;
        for (int i = 0; i < lay.in(l); i++) {
          double x = w[lay.weightOffset(l) + o * lay.in(l) + i];
          s += x * x * a[i];
        }
        next[o] = s;
      }
      a = next;
    }
    double s = 0;
    for (double v : a) {
      s += v;
    }
    return 0.5 * s;
  }

  private static double max(float[] a) {
    double m = 0;
    for (float v : a) {
      m = Math.max(m, Math.abs(v));
    }
    return m;
  }

  static Rng unused() {
    return new Rng(0);
  }
}
