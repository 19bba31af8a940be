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
import io.github.pathsgd.core.optim.PathNormalize;
import io.github.pathsgd.core.optim.PathNormalizeState;
import io.github.pathsgd.core.optim.PathSgdOptions;
import io.github.pathsgd.core.step.TrainStep;
import io.github.pathsgd.core.tensor.Tensor;
import io.github.pathsgd.core.util.Rng;
import io.github.pathsgd.testkit.Tries;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Path-SGD's invariance over the whole float32 range: for a node-wise rescaling ρ whose rescaled weights float32 can
 * hold, steps from ρ(w) equal ρ(steps from w) to float rounding (1e-5 relative per element), for p = 1, 2, 3, with and
 * without momentum, fused and unfused, on depths 2 to 5; with per-unit factors 10^x, x uniform in [−30, 30], and, for
 * the double sweep, bit for bit with factors 2^k, k in [−100, 100]. The rescaled networks reach κ from about 1e-120 to
 * 1e120, far outside the float range, where a float κ (the implementation before) was wrong or zero.
 */
class PathSgdRangeTest {
  /** Random widths: depth weight layers, inputs 3..5, hidden 2..4, outputs 2..3. */
  static DenseChain layout(int depth, Rng r) {
    int[] w = new int[depth + 1];
    w[0] = 3 + r.nextInt(3);
    for (int i = 1; i < depth; i++) {
      w[i] = 2 + r.nextInt(3);
    }
    w[depth] = 2 + r.nextInt(2);
    return new DenseChain(w);
  }

  /** Balanced init with biases of magnitude in [0.1, 0.3] (so no bias sits near zero, where relative error is moot). */
  static LayerNet net(DenseChain lay, Rng r) {
    LayerNet net = Init.balanced(lay, r.split("init"));
    Rng b = r.split("bias");
    for (int l = 0; l < lay.layers(); l++) {
      for (int v = 0; v < lay.out(l); v++) {
        double m = 0.1 + 0.2 * b.nextDouble();
        net.params().set(lay.biasOffset(l) + v, (float) (b.nextInt(2) == 0 ? m : -m));
      }
    }
    return net;
  }

  /**
   * Per-unit exponents in [−lim, lim], each drawn uniformly from the part of that range within {@code gap} of every
   * exponent of the hidden layer before (the precondition: a weight between two hidden units changes by at most
   * base^gap, so float32 holds it); whole numbers when {@code integers}. exponents[l][v] for hidden layers l.
   */
  static double[][] unitExponents(DenseChain lay, Rng r, double lim, double gap, boolean integers) {
    double[][] x = new double[lay.layers() + 1][];
    double lo = -lim;
    double hi = lim;
    for (int l = 1; l < lay.layers(); l++) {
      x[l] = new double[lay.width(l)];
      double min = Double.POSITIVE_INFINITY;
      double max = Double.NEGATIVE_INFINITY;
      for (int v = 0; v < x[l].length; v++) {
        double e = integers ? lo + r.nextInt((int) (hi - lo) + 1) : lo + (hi - lo) * r.nextDouble();
        x[l][v] = e;
        min = Math.min(min, e);
        max = Math.max(max, e);
      }
      lo = Math.max(-lim, max - gap);
      hi = Math.min(lim, min + gap);
    }
    return x;
  }

  /** Per-unit factors 10^x, x from {@link #unitExponents} (real). */
  static double[][] decimalFactors(DenseChain lay, Rng r, double lim, double gap) {
    double[][] f = unitExponents(lay, r, lim, gap, false);
    for (int l = 1; l < lay.layers(); l++) {
      for (int v = 0; v < f[l].length; v++) {
        f[l][v] = Math.pow(10, f[l][v]);
      }
    }
    return f;
  }

  /** Per-unit factors 2^k, k from {@link #unitExponents} (whole numbers): every rescaled weight is exact. */
  static double[][] binaryFactors(DenseChain lay, Rng r, int lim, int gap) {
    double[][] f = unitExponents(lay, r, lim, gap, true);
    for (int l = 1; l < lay.layers(); l++) {
      for (int v = 0; v < f[l].length; v++) {
        f[l][v] = Math.scalb(1.0, (int) f[l][v]);
      }
    }
    return f;
  }

  /** One run's data: batches of 6 rows, labels, dropout masks seeded by the step. */
  record Data(float[][] x, int[][] y) {
    static Data of(DenseChain lay, int steps, Rng r) {
      float[][] x = new float[steps][6 * lay.inputs()];
      int[][] y = new int[steps][6];
      for (int s = 0; s < steps; s++) {
        for (int i = 0; i < x[s].length; i++) {
          x[s][i] = (float) r.nextGaussian();
        }
        for (int b = 0; b < 6; b++) {
          y[s][b] = r.nextInt(lay.outputs());
        }
      }
      return new Data(x, y);
    }
  }

  /**
   * {@code steps} training steps: through {@link Optimizer#trainStep} (fused where the optimizer allows it) or
   * gradient then {@link Optimizer#step} (unfused). Returns the Path-SGD state of the last step.
   */
  static PathNormalizeState train(LayerNet net, Optimizer opt, Data d, int steps, boolean fused, Dropout dropout) {
    OptState st = opt.init(net.layout());
    Network.Workspace ws = net.workspace(6);
    Tensor g = new Tensor(net.layout().size());
    for (int s = 0; s < steps; s++) {
      ws.input().copyFrom(d.x()[s], 0, 0, d.x()[s].length);
      if (fused) {
        new TrainStep(net, opt, ws, st, true).run(6, d.y()[s], 0, dropout, new Rng(100 + s));
      } else {
        net.lossAndGradient(ws, 6, d.y()[s], 0, g, dropout, new Rng(100 + s));
        opt.step(net.params(), g, st);
      }
      assertThat(((Chain.State) st).children().get(0).clamped()).as("clamped at step %d", s).isZero();
    }
    return (PathNormalizeState) ((Chain.State) st).children().get(0);
  }

  /**
   * max over parameters of |a − b| / max(|a|, |b|, |start|), start being the parameter before the steps (0 where all
   * three are 0). A step w − η·u that lands near 0 cancels: its float rounding is relative to |w|, not to the result,
   * in any float32 implementation, so the start's magnitude belongs in the denominator.
   */
  static double maxRelDiff(LayerNet a, LayerNet b, LayerNet start) {
    double worst = 0;
    for (int i = 0; i < a.params().size(); i++) {
      double x = a.params().get(i);
      double y = b.params().get(i);
      double den = Math.max(Math.max(Math.abs(x), Math.abs(y)), Math.abs(start.params().get(i)));
      if (den > 0) {
        worst = Math.max(worst, Math.abs(x - y) / den);
      }
    }
    return worst;
  }

  static boolean finite(LayerNet n) {
    for (int i = 0; i < n.params().size(); i++) {
      if (!Float.isFinite(n.params().get(i))) {
        return false;
      }
    }
    return true;
  }

  static Optimizer optimizer(int p, boolean momentum, PathSgdOptions.Sweep sweep) {
    PathSgdOptions o = PathSgdOptions.ofP(p).withSweep(sweep);
    return Optimizers.pathSgd(0.01, o, momentum ? 0.9 : 0, false);
  }

  /** One try: the seed of the network, data and factors, the depth (2..5), p (1..3) and the switches. */
  record Case(long seed, int depth, int p, boolean momentum, boolean fused, boolean fiveSteps, boolean dropout) {
    static Case draw(SplittableRandom r) {
      return new Case(r.nextLong(), r.nextInt(2, 6), r.nextInt(1, 4), r.nextBoolean(), r.nextBoolean(),
          r.nextBoolean(), r.nextBoolean());
    }

    /** The smallest and the largest choices, each with two seeds. */
    static List<Case> edges() {
      return List.of(new Case(0, 2, 1, false, false, false, false), new Case(0, 5, 3, true, true, true, true),
          new Case(Long.MIN_VALUE, 2, 3, false, true, false, true), new Case(-1, 5, 1, true, false, true, false));
    }

    /** Each field moved toward its simplest value (depth 2, p = 1, switches off), one at a time; the seed kept. */
    List<Case> smaller() {
      List<Case> s = new ArrayList<>();
      for (int d : Tries.toward(depth, 2)) {
        s.add(new Case(seed, d, p, momentum, fused, fiveSteps, dropout));
      }
      for (int q : Tries.toward(p, 1)) {
        s.add(new Case(seed, depth, q, momentum, fused, fiveSteps, dropout));
      }
      if (momentum) {
        s.add(new Case(seed, depth, p, false, fused, fiveSteps, dropout));
      }
      if (fused) {
        s.add(new Case(seed, depth, p, momentum, false, fiveSteps, dropout));
      }
      if (fiveSteps) {
        s.add(new Case(seed, depth, p, momentum, fused, false, dropout));
      }
      if (dropout) {
        s.add(new Case(seed, depth, p, momentum, fused, fiveSteps, false));
      }
      return s;
    }
  }

  @Test
  void decimalRescalingsOverSixtyOrdersCommuteWithSteps() {
    Tries.forAll(60, 0x4A76_0001L, Case.edges(), Case::draw, Case::smaller, c -> decimalRescalingCommutes(c.seed(),
        c.depth(), c.p(), c.momentum(), c.fused(), c.fiveSteps(), c.dropout()));
  }

  private static void decimalRescalingCommutes(long seed, int depth, int p, boolean momentum, boolean fused,
      boolean fiveSteps, boolean dropout) {
    Rng r = new Rng(seed);
    DenseChain lay = layout(depth, r);
    int steps = fiveSteps ? 5 : 1;
    Data d = Data.of(lay, steps, r.split("data"));
    double[][] f = decimalFactors(lay, r.split("factors"), 30, 30);
    LayerNet a = net(lay, r);
    LayerNet a0 = a.copy();
    LayerNet b = a.copy();
    Rescaling.scaleAll(b, f);
    assertThat(finite(b)).isTrue();
    Optimizer opt = optimizer(p, momentum, PathSgdOptions.Sweep.AUTO);
    Dropout drop = dropout ? new Dropout(0.5f, 1f) : Dropout.NONE;
    train(a, opt, d, steps, fused, drop);
    train(b, opt, d, steps, fused, drop);
    assertThat(finite(a) && finite(b)).isTrue();
    LayerNet back = b.copy();
    Rescaling.scaleAll(back, Harness.inverse(f));
    assertThat(maxRelDiff(a, back, a0)).as("%s p=%d momentum=%s fused=%s steps=%d", lay, p, momentum, fused, steps)
        .isLessThanOrEqualTo(1e-5);
  }

  /** One try of the power-of-two property (always five steps, no dropout). */
  record PowerCase(long seed, int depth, int p, boolean momentum, boolean fused) {
    static PowerCase of(Case c) {
      return new PowerCase(c.seed(), c.depth(), c.p(), c.momentum(), c.fused());
    }

    List<PowerCase> smaller() {
      return new Case(seed, depth, p, momentum, fused, false, false).smaller().stream().map(PowerCase::of).toList();
    }
  }

  @Test
  void powerOfTwoRescalingsAreBitIdenticalWithTheDoubleSweep() {
    Tries.forAll(40, 0x4A76_0002L, Case.edges().stream().map(PowerCase::of).toList(), r -> PowerCase.of(Case.draw(r)),
        PowerCase::smaller, c -> powerOfTwoRescalingIsBitIdentical(c.seed(), c.depth(), c.p(), c.momentum(),
            c.fused()));
  }

  private static void powerOfTwoRescalingIsBitIdentical(long seed, int depth, int p, boolean momentum,
      boolean fused) {
    Rng r = new Rng(seed);
    DenseChain lay = layout(depth, r);
    Data d = Data.of(lay, 5, r.split("data"));
    double[][] f = binaryFactors(lay, r.split("factors"), 100, 100);
    LayerNet a = net(lay, r);
    LayerNet b = a.copy();
    Rescaling.scaleAll(b, f);
    Optimizer opt = optimizer(p, momentum, PathSgdOptions.Sweep.DOUBLE);
    train(a, opt, d, 5, fused, Dropout.NONE);
    train(b, opt, d, 5, fused, Dropout.NONE);
    LayerNet back = b.copy();
    Rescaling.scaleAll(back, Harness.inverse(f));
    for (int i = 0; i < lay.size(); i++) {
      assertThat(back.params().get(i)).as("%s p=%d momentum=%s fused=%s i=%d", lay, p, momentum, fused, i)
          .isEqualTo(a.params().get(i));
    }
    // the automatic sweep: float where the γ fit, double where not, equal to float rounding
    LayerNet c = net(lay, new Rng(seed));
    LayerNet c0 = c.copy();
    LayerNet e = c.copy();
    Rescaling.scaleAll(e, f);
    Optimizer auto = optimizer(p, momentum, PathSgdOptions.Sweep.AUTO);
    train(c, auto, d, 5, fused, Dropout.NONE);
    train(e, auto, d, 5, fused, Dropout.NONE);
    Rescaling.scaleAll(e, Harness.inverse(f));
    assertThat(maxRelDiff(c, e, c0)).isLessThanOrEqualTo(1e-5);
  }

  /**
   * The acceptance case: one unit per hidden layer rescaled by 1e20 (and, separately, by 1e-20) on a network
   * wide enough for the multi-thread float pass, 20 fused Path-SGD steps. The trajectory mapped back equals the
   * original's: per layer to 1e-5 of the layer's largest parameter; per element no further than the original's own
   * fused and unfused steps are from each other (two float32 evaluations of one step differ per element by more than
   * 1e-5 where the batch sum of a gradient cancels, on a network of 2 million weights). Nothing is clamped.
   */
  @Test
  void rescalingOneUnitPerLayerBy1e20KeepsTheTrajectory() {
    DenseChain lay = new DenseChain(600, 1800, 600, 10); // W_0 and W_1 have over 2^20 weights
    int steps = 20;
    Rng r = new Rng(7);
    LayerNet start = net(lay, r);
    Data d = Data.of(lay, steps, r.split("data"));
    Optimizer opt = Optimizers.pathSgd(0.01, 2);
    LayerNet a = start.copy();
    PathNormalizeState sa = train(a, opt, d, steps, true, Dropout.NONE);
    LayerNet unfused = start.copy();
    train(unfused, opt, d, steps, false, Dropout.NONE);
    double noise = maxRelDiff(a, unfused, start);
    assertThat(sa.doubleLayers()).isZero();
    for (double c : new double[] {1e20, 1e-20}) {
      double[][] f = new double[lay.layers() + 1][];
      for (int l = 1; l < lay.layers(); l++) {
        f[l] = new double[lay.width(l)];
        java.util.Arrays.fill(f[l], 1.0);
        f[l][l] = c; // unit 1 of the first hidden layer, unit 2 of the second
      }
      LayerNet b = start.copy();
      Rescaling.scaleAll(b, f);
      assertThat(finite(b)).isTrue();
      PathNormalizeState sb = train(b, opt, d, steps, true, Dropout.NONE);
      // one precision (double) for every range: no layer falls back to the scalar reference pass
      assertThat(sb.doubleLayers()).isZero();
      // the unit's κ_in really is outside the float range: c² times the original's
      int k = Kappa.inOffset(lay, 1) + 1;
      double ratio = sb.kappaIn(k) / sa.kappaIn(k);
      assertThat(ratio).isCloseTo(c * c, org.assertj.core.api.Assertions.within(1e-3 * c * c));
      Rescaling.scaleAll(b, Harness.inverse(f));
      assertThat(layerRelDiff(a, b)).as("c=%s", c).isLessThanOrEqualTo(1e-5);
      assertThat(maxRelDiff(a, b, start)).as("c=%s, fused vs unfused %s", c, noise)
          .isLessThanOrEqualTo(2 * noise + 1e-6);
    }
  }

  /** max over layers of ‖a_l − b_l‖_∞ / ‖a_l‖_∞ (weights and bias of a layer together). */
  static double layerRelDiff(LayerNet a, LayerNet b) {
    DenseChain lay = a.chain();
    double worst = 0;
    for (int l = 0; l < lay.layers(); l++) {
      double num = 0;
      double den = 0;
      for (int i = lay.weightOffset(l), to = lay.biasOffset(l) + lay.out(l); i < to; i++) {
        num = Math.max(num, Math.abs(a.params().get(i) - b.params().get(i)));
        den = Math.max(den, Math.abs(a.params().get(i)));
      }
      worst = Math.max(worst, num / den);
    }
    return worst;
  }

  @Test
  void mantissaExponentEncodingRoundTripsTheDoubleRange() {
    DenseChain lay = new DenseChain(2, 3, 1);
    PathNormalize t = PathNormalize.of(2);
    PathNormalizeState st = t.init(io.github.pathsgd.core.nn.NetLayout.dense(lay));
    double[] values = {0, 1, 3.5e-310, 1e-200, 1e-45, 3e38, 1e300, 1e308, Double.POSITIVE_INFINITY};
    for (double v : values) {
      var m = java.nio.FloatBuffer.allocate(1);
      var e = java.nio.FloatBuffer.allocate(1);
      Kappa.encode(v, m, e, 0);
      double back = Kappa.decode(m, e, 0);
      if (v == 0 || Double.isInfinite(v)) {
        assertThat(back).isEqualTo(v);
      } else {
        assertThat(Math.abs(back - v)).as("%s", v).isLessThanOrEqualTo(Math.ulp((float) 1) * v);
      }
      // a power-of-two scaling is exact
      Kappa.scale(m, e, 0, 0x1p-300);
      if (v > 0 && v < 1e300 && v > 1e-8) {
        assertThat(Kappa.decode(m, e, 0)).isEqualTo(Math.scalb(back, -300));
      }
    }
  }

  /** The default (SIMD) and the scalar reference sweep, both in double, agree to float rounding of the updates. */
  @Test
  void vectorSweepMatchesScalarReferenceSweep() {
    DenseChain lay = new DenseChain(1100, 1000, 1050, 3);
    LayerNet net = TestNets.random(lay, new Rng(8));
    Tensor u = new Tensor(lay.size());
    Tensor v = new Tensor(lay.size());
    u.fill(1f);
    v.fill(1f);
    PathNormalize auto = PathNormalize.of(PathSgdOptions.DEFAULT);
    PathNormalize dbl = PathNormalize.of(PathSgdOptions.DEFAULT.withSweep(PathSgdOptions.Sweep.DOUBLE));
    PathNormalizeState sa = auto.init(io.github.pathsgd.core.nn.NetLayout.dense(lay));
    PathNormalizeState sd = dbl.init(io.github.pathsgd.core.nn.NetLayout.dense(lay));
    auto.update(u, sa, net.params());
    dbl.update(v, sd, net.params());
    assertThat(sa.doubleLayers()).isZero();
    assertThat(sd.doubleLayers()).isEqualTo(2); // the p = 2 passes over W_0 and W_1
    for (int i = 0; i < u.size(); i += 13) {
      assertThat((double) u.get(i)).as("i=%d", i)
          .isCloseTo(v.get(i), org.assertj.core.api.Assertions.within(2e-6 * Math.abs(v.get(i))));
    }
  }
}
