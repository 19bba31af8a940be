package io.github.pathsgd.core.geometry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.github.pathsgd.core.nn.DenseChain;
import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.core.optim.Optimizers;
import io.github.pathsgd.core.optim.PathNormalize;
import io.github.pathsgd.core.optim.PathNormalizeState;
import io.github.pathsgd.core.optim.PathSgdOptions;
import io.github.pathsgd.core.tensor.Tensor;
import io.github.pathsgd.core.util.Rng;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

class PathSgdTest {
  private static Tensor ones(int n) {
    Tensor t = new Tensor(n);
    t.fill(1f);
    return t;
  }

  @Test
  void matchesMaterializedKappaForSeveralP() {
    Rng rng = new Rng(5);
    DenseChain lay = new DenseChain(4, 5, 3, 2);
    LayerNet net = TestNets.random(lay, rng);
    for (double p : new double[] {1, 2, 3, 2.5}) {
      for (boolean biases : new boolean[] {true, false}) {
        PathNormalize t = PathNormalize.of(PathSgdOptions.ofP(p).withIncludeBiases(biases));
        Tensor u = ones(lay.size());
        t.update(u, t.init(io.github.pathsgd.core.nn.NetLayout.dense(lay)), net.params());
        double[] k = Kappa.materialize(lay, net.params(), p, biases);
        for (int i = 0; i < k.length; i++) {
          assertThat(1.0 / u.get(i)).as("p=%s biases=%s i=%d", p, biases, i).isCloseTo(k[i], within(1e-5 * k[i]));
        }
      }
    }
  }

  /**
   * Layers of at least 2^20 weights take the multi-thread p = 2 path (and the largest middle layer the one-read path
   * for both sweeps): κ there must match the materialized double-precision κ too, for the fused factors as well.
   */
  @Test
  void reportsWhichKernelRuns() {
    // the default test JVM has the Vector API module, the "scalar-kappa" execution has not: both kernels are tested
    assertThat(KappaPass.VECTOR).isEqualTo(ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent());
    System.out.println("Path-SGD κ kernel: " + (KappaPass.VECTOR ? "SIMD (Vector API)" : "scalar"));
  }

  @Test
  void largeLayersMatchMaterializedKappa() {
    DenseChain lay = new DenseChain(1100, 1000, 1050, 3); // layers 0 and 1 are >= 2^20 weights
    LayerNet net = TestNets.random(lay, new Rng(8));
    double[] k = Kappa.materialize(lay, net.params(), 2, true);
    PathNormalize t = PathNormalize.of(PathSgdOptions.DEFAULT);
    Tensor u = ones(lay.size());
    t.update(u, t.init(io.github.pathsgd.core.nn.NetLayout.dense(lay)), net.params());
    for (int i = 0; i < k.length; i += 97) {
      assertThat(1.0 / u.get(i)).as("i=%d", i).isCloseTo(k[i], within(1e-5 * k[i]));
    }
    double[][][] f = factorTensors(lay);
    double[][] rowInv = f[0];
    double[][] colInv = f[1];
    PathNormalizeState st = t.init(io.github.pathsgd.core.nn.NetLayout.dense(lay));
    assertThat(fusedFactors(t, st, net.params(), rowInv, colInv)).isTrue();
    for (int l = 0; l < lay.layers(); l++) {
      for (int o = 0; o < lay.out(l); o += 37) {
        for (int i = 0; i < lay.in(l); i += 41) {
          double want = k[lay.weightOffset(l) + o * lay.in(l) + i];
          double got = 1.0 / (rowInv[l][o] * colInv[l][i]);
          assertThat(got).as("layer %d (%d, %d)", l, o, i).isCloseTo(want, within(1e-5 * want));
        }
      }
    }
  }

  @Test
  void deadUnitsGetNoStepAndAreCounted() {
    // 2-3-1 net whose hidden unit 1 has zero outgoing weight: its 2 incoming weights and bias have κ = 0 exactly
    DenseChain lay = new DenseChain(2, 3, 1);
    LayerNet net = TestNets.random(lay, new Rng(2));
    net.params().set(lay.weightOffset(1) + 1, 0f);
    double[] k = Kappa.materialize(lay, net.params(), 2, true);
    // no floor (the default): those three updates are 0, every other coordinate is divided by its κ
    PathNormalize t = PathNormalize.of(PathSgdOptions.DEFAULT);
    PathNormalizeState st = t.init(io.github.pathsgd.core.nn.NetLayout.dense(lay));
    Tensor u = ones(lay.size());
    t.update(u, st, net.params());
    assertThat(st.clamped()).isEqualTo(3);
    int dead = 0;
    for (int i = 0; i < u.size(); i++) {
      if (k[i] == 0) {
        dead++;
        assertThat(u.get(i)).as("i=%d", i).isZero();
      } else {
        assertThat(1.0 / u.get(i)).as("i=%d", i).isCloseTo(k[i], within(1e-5 * k[i]));
      }
    }
    assertThat(dead).isEqualTo(3);
    assertThat(u.get(lay.weightOffset(0) + 2)).isZero(); // unit 1's second incoming weight
    // an explicit absolute floor clamps them to it instead, and counts them the same
    PathNormalize floored = PathNormalize.of(PathSgdOptions.DEFAULT.withFloor(1e-30, 0));
    PathNormalizeState sf = floored.init(io.github.pathsgd.core.nn.NetLayout.dense(lay));
    Tensor v = ones(lay.size());
    floored.update(v, sf, net.params());
    assertThat(sf.clamped()).isEqualTo(3);
    assertThat(v.get(lay.weightOffset(0) + 2)).isEqualTo((float) (1 / 1e-30));
  }

  @Test
  void ratioIsComputedOnceAndFrozen() {
    DenseChain lay = new DenseChain(3, 4, 2);
    LayerNet net = TestNets.random(lay, new Rng(8));
    PathNormalize t = PathNormalize.of(PathSgdOptions.DEFAULT.withRatio(true));
    PathNormalizeState st = t.init(io.github.pathsgd.core.nn.NetLayout.dense(lay));
    Tensor g = new Tensor(lay.size());
    Rng r = new Rng(1);
    for (int i = 0; i < g.size(); i++) {
      g.set(i, (float) r.nextGaussian());
    }
    double[] k = Kappa.materialize(lay, net.params(), 2, true);
    double g2 = 0;
    double d2 = 0;
    for (int i = 0; i < k.length; i++) {
      g2 += g.get(i) * g.get(i);
      d2 += g.get(i) / k[i] * (g.get(i) / k[i]);
    }
    double ratio = Math.sqrt(g2 / d2);
    Tensor u = g.copy();
    t.update(u, st, net.params());
    assertThat(st.ratio()).isCloseTo(ratio, within(1e-5 * ratio));
    // the direction now has the gradient's norm
    double n2 = 0;
    for (int i = 0; i < u.size(); i++) {
      n2 += u.get(i) * u.get(i);
    }
    assertThat(Math.sqrt(n2)).isCloseTo(Math.sqrt(g2), within(1e-4 * Math.sqrt(g2)));
    // second step on a scaled gradient: the ratio stays
    Tensor u2 = g.copy();
    for (int i = 0; i < u2.size(); i++) {
      u2.set(i, 10 * u2.get(i));
    }
    t.update(u2, st, net.params());
    assertThat(st.ratio()).isCloseTo(ratio, within(1e-5 * ratio));
  }

  @Test
  void recomputeEveryKReusesKappaBetweenRecomputations() {
    DenseChain lay = new DenseChain(3, 4, 2);
    LayerNet net = TestNets.random(lay, new Rng(4));
    LayerNet other = TestNets.random(lay, new Rng(5));
    PathNormalize t = PathNormalize.of(PathSgdOptions.DEFAULT.withRecomputeEvery(2));
    PathNormalizeState st = t.init(io.github.pathsgd.core.nn.NetLayout.dense(lay));
    double[] k0 = Kappa.materialize(lay, net.params(), 2, true);
    double[] k1 = Kappa.materialize(lay, other.params(), 2, true);
    Tensor u = ones(lay.size());
    t.update(u, st, net.params()); // step 0: recompute from net
    u = ones(lay.size());
    t.update(u, st, other.params()); // step 1: reuse κ of net
    assertThat(1 / u.get(0)).isCloseTo((float) k0[0], within((float) (1e-5 * k0[0])));
    u = ones(lay.size());
    t.update(u, st, other.params()); // step 2: recompute from other
    assertThat(1 / u.get(0)).isCloseTo((float) k1[0], within((float) (1e-5 * k1[0])));
  }

  /**
   * The rows of a layer are cut into fixed chunks with their own accumulators, summed in chunk order: κ must be
   * bit-identical whether one thread or several computed it, and from run to run however the chunks were shared.
   */
  @Test
  void kappaIsBitIdenticalForAnyThreadCount() {
    DenseChain lay = new DenseChain(1100, 1000, 1050, 3);
    LayerNet net = TestNets.random(lay, new Rng(9));
    PathNormalize t = PathNormalize.of(PathSgdOptions.DEFAULT);
    int threads = io.github.pathsgd.core.tensor.Blas.threads();
    try {
      io.github.pathsgd.core.tensor.Blas.setThreads(1);
      double[] one = kappaFactors(t, lay, net);
      io.github.pathsgd.core.tensor.Blas.setThreads(Runtime.getRuntime().availableProcessors());
      for (int run = 0; run < 5; run++) {
        assertThat(kappaFactors(t, lay, net)).as("run %d", run).containsExactly(one);
      }
    } finally {
      io.github.pathsgd.core.tensor.Blas.setThreads(threads);
    }
  }

  /** {@link PathNormalize#prepare} then {@link PathNormalize#commit}, the fold's scales copied out (the old fusedFactors). */
  static boolean fusedFactors(PathNormalize t, PathNormalizeState st, Tensor params, double[][] rowInv,
      double[][] colInv) {
    io.github.pathsgd.core.nn.FoldedStep fs = new io.github.pathsgd.core.nn.FoldedStep(
        st.layout().denseChain());
    if (!t.prepare(st, params, fs)) {
      return false;
    }
    t.commit(st);
    for (int l = 0; l < st.layout().denseChain().layers(); l++) {
      System.arraycopy(fs.rowScale(l), 0, rowInv[l], 0, rowInv[l].length);
      System.arraycopy(fs.colScale(l), 0, colInv[l], 0, colInv[l].length);
    }
    return true;
  }

  /** Per-layer arrays for {@link #fusedFactors}: {rowInv (out(l) each), colInv (in(l) each)}. */
  private static double[][][] factorTensors(DenseChain lay) {
    double[][][] f = new double[2][lay.layers()][];
    for (int l = 0; l < lay.layers(); l++) {
      f[0][l] = new double[lay.out(l)];
      f[1][l] = new double[lay.in(l)];
    }
    return f;
  }

  private static double[] kappaFactors(PathNormalize t, DenseChain lay, LayerNet net) {
    PathNormalizeState st = t.init(io.github.pathsgd.core.nn.NetLayout.dense(lay));
    double[][][] f = factorTensors(lay);
    assertThat(fusedFactors(t, st, net.params(), f[0], f[1])).isTrue();
    java.util.stream.DoubleStream.Builder all = java.util.stream.DoubleStream.builder();
    for (int l = 0; l < lay.layers(); l++) {
      for (double r : f[0][l]) {
        all.add(r);
      }
      for (double c : f[1][l]) {
        all.add(c);
      }
    }
    return all.build().toArray();
  }

  @Test
  void updateDoesNotAllocate() {
    DenseChain lay = new DenseChain(30, 40, 40, 10);
    LayerNet net = TestNets.random(lay, new Rng(3));
    PathNormalize t = PathNormalize.of(PathSgdOptions.DEFAULT);
    PathNormalizeState st = t.init(io.github.pathsgd.core.nn.NetLayout.dense(lay));
    Tensor u = ones(lay.size());
    // long enough for C2 to compile the κ kernels (about 1,500 updates of this network here)
    for (int i = 0; i < 6000; i++) {
      t.update(u, st, net.params());
      u.fill(1f);
    }
    var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long id = Thread.currentThread().getId();
    // the least of several windows: a window in which the JIT has just thrown away the compiled SIMD kernel runs
    // the Vector API uninlined, which boxes every vector; code that allocates per step allocates in every window
    long perStep = Long.MAX_VALUE;
    long deadline = System.nanoTime() + 20_000_000_000L; // the JIT compiles in the background: on a busy machine it
    // may take seconds to get to the kernels
    for (int window = 0; perStep > 128 && (window < 20 || System.nanoTime() < deadline); window++) {
      long before = mx.getThreadAllocatedBytes(id);
      for (int i = 0; i < 100; i++) {
        t.update(u, st, net.params());
      }
      perStep = Math.min(perStep, (mx.getThreadAllocatedBytes(id) - before) / 100);
    }
    assertThat(perStep).isLessThanOrEqualTo(128); // a few boxed Doubles of the state scalars, nothing sized
  }

  @Test
  void optimizerNameAndDescription() {
    var opt = Optimizers.pathSgd(0.01, 2, 0.9, true);
    assertThat(opt.name()).isEqualTo("path-sgd");
    assertThat(opt.toString()).contains("path_normalize(p=2.0").contains("trace(momentum=0.9, nesterov)")
        .contains("scale(-0.01)");
  }
}
