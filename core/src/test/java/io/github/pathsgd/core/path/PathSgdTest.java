package io.github.pathsgd.core.path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.github.pathsgd.core.nn.Mlp;
import io.github.pathsgd.core.nn.ParamLayout;
import io.github.pathsgd.core.optim.OptState;
import io.github.pathsgd.core.optim.PathOptimizers;
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
    ParamLayout lay = new ParamLayout(4, 5, 3, 2);
    Mlp net = TestNets.random(lay, rng);
    for (double p : new double[] {1, 2, 3, 2.5}) {
      for (boolean biases : new boolean[] {true, false}) {
        PathSgd t = PathSgd.normalize(PathSgdOptions.ofP(p).withIncludeBiases(biases));
        Tensor u = ones(lay.size());
        t.update(u, t.init(lay), net.params());
        double[] k = PathSgd.kappa(lay, net.params(), p, biases);
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
    assertThat(PathSgd.VECTOR).isEqualTo(ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent());
    System.out.println("Path-SGD κ kernel: " + (PathSgd.VECTOR ? "SIMD (Vector API)" : "scalar"));
  }

  @Test
  void largeLayersMatchMaterializedKappa() {
    ParamLayout lay = new ParamLayout(1100, 1000, 1050, 3); // layers 0 and 1 are >= 2^20 weights
    Mlp net = TestNets.random(lay, new Rng(8));
    double[] k = PathSgd.kappa(lay, net.params(), 2, true);
    PathSgd t = PathSgd.normalize(PathSgdOptions.DEFAULT);
    Tensor u = ones(lay.size());
    t.update(u, t.init(lay), net.params());
    for (int i = 0; i < k.length; i += 97) {
      assertThat(1.0 / u.get(i)).as("i=%d", i).isCloseTo(k[i], within(1e-5 * k[i]));
    }
    Tensor[][] f = factorTensors(lay);
    Tensor[] rowInv = f[0];
    Tensor[] colInv = f[1];
    OptState st = t.init(lay);
    assertThat(t.fusedFactors(st, net.params(), rowInv, colInv)).isTrue();
    for (int l = 0; l < lay.layers(); l++) {
      for (int o = 0; o < lay.out(l); o += 37) {
        for (int i = 0; i < lay.in(l); i += 41) {
          double want = k[lay.weightOffset(l) + o * lay.in(l) + i];
          double got = 1.0 / (rowInv[l].get(o) * (double) colInv[l].get(i));
          assertThat(got).as("layer %d (%d, %d)", l, o, i).isCloseTo(want, within(1e-5 * want));
        }
      }
    }
  }

  @Test
  void floorClampsDeadUnitsAndCountsThem() {
    // 2-3-1 net whose hidden unit 1 has zero outgoing weight: its 2 incoming weights and bias get κ = 0
    ParamLayout lay = new ParamLayout(2, 3, 1);
    Mlp net = TestNets.random(lay, new Rng(2));
    net.params().set(lay.weightOffset(1) + 1, 0f);
    PathSgd t = PathSgd.normalize(PathSgdOptions.DEFAULT);
    OptState st = t.init(lay);
    Tensor u = ones(lay.size());
    t.update(u, st, net.params());
    assertThat(st.scalar("clamped", -1)).isEqualTo(3);
    double floor = st.scalar("kappa_floor", 0);
    assertThat(floor).isGreaterThan(0);
    assertThat(u.get(lay.weightOffset(0) + 2)).isCloseTo((float) (1 / floor), within((float) (1e-5 / floor)));
    for (int i = 0; i < u.size(); i++) {
      assertThat(Float.isFinite(u.get(i))).isTrue();
    }
  }

  @Test
  void ratioIsComputedOnceAndFrozen() {
    ParamLayout lay = new ParamLayout(3, 4, 2);
    Mlp net = TestNets.random(lay, new Rng(8));
    PathSgd t = PathSgd.normalize(PathSgdOptions.DEFAULT.withRatio(true));
    OptState st = t.init(lay);
    Tensor g = new Tensor(lay.size());
    Rng r = new Rng(1);
    for (int i = 0; i < g.size(); i++) {
      g.set(i, (float) r.nextGaussian());
    }
    double[] k = PathSgd.kappa(lay, net.params(), 2, true);
    double g2 = 0;
    double d2 = 0;
    for (int i = 0; i < k.length; i++) {
      g2 += g.get(i) * g.get(i);
      d2 += g.get(i) / k[i] * (g.get(i) / k[i]);
    }
    double ratio = Math.sqrt(g2 / d2);
    Tensor u = g.copy();
    t.update(u, st, net.params());
    assertThat(st.scalar("ratio", 0)).isCloseTo(ratio, within(1e-5 * ratio));
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
    assertThat(st.scalar("ratio", 0)).isCloseTo(ratio, within(1e-5 * ratio));
  }

  @Test
  void recomputeEveryKReusesKappaBetweenRecomputations() {
    ParamLayout lay = new ParamLayout(3, 4, 2);
    Mlp net = TestNets.random(lay, new Rng(4));
    Mlp other = TestNets.random(lay, new Rng(5));
    PathSgd t = PathSgd.normalize(PathSgdOptions.DEFAULT.withRecomputeEvery(2));
    OptState st = t.init(lay);
    double[] k0 = PathSgd.kappa(lay, net.params(), 2, true);
    double[] k1 = PathSgd.kappa(lay, other.params(), 2, true);
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
    ParamLayout lay = new ParamLayout(1100, 1000, 1050, 3);
    Mlp net = TestNets.random(lay, new Rng(9));
    PathSgd t = PathSgd.normalize(PathSgdOptions.DEFAULT);
    int threads = io.github.pathsgd.core.tensor.Blas.threads();
    try {
      io.github.pathsgd.core.tensor.Blas.setThreads(1);
      float[] one = kappaFactors(t, lay, net);
      io.github.pathsgd.core.tensor.Blas.setThreads(Runtime.getRuntime().availableProcessors());
      for (int run = 0; run < 5; run++) {
        assertThat(kappaFactors(t, lay, net)).as("run %d", run).containsExactly(one);
      }
    } finally {
      io.github.pathsgd.core.tensor.Blas.setThreads(threads);
    }
  }

  /** Per-layer tensors for {@link PathSgd#fusedFactors}: {rowInv (out(l) each), colInv (in(l) each)}. */
  private static Tensor[][] factorTensors(ParamLayout lay) {
    Tensor[][] f = new Tensor[2][lay.layers()];
    for (int l = 0; l < lay.layers(); l++) {
      f[0][l] = new Tensor(lay.out(l));
      f[1][l] = new Tensor(lay.in(l));
    }
    return f;
  }

  private static float[] kappaFactors(PathSgd t, ParamLayout lay, Mlp net) {
    OptState st = t.init(lay);
    Tensor[][] f = factorTensors(lay);
    Tensor[] rowInv = f[0];
    Tensor[] colInv = f[1];
    assertThat(t.fusedFactors(st, net.params(), rowInv, colInv)).isTrue();
    int n = 0;
    for (int l = 0; l < lay.layers(); l++) {
      n += lay.out(l) + lay.in(l);
    }
    float[] all = new float[n];
    int k = 0;
    for (int l = 0; l < lay.layers(); l++) {
      for (int o = 0; o < lay.out(l); o++) {
        all[k++] = rowInv[l].get(o);
      }
      for (int i = 0; i < lay.in(l); i++) {
        all[k++] = colInv[l].get(i);
      }
    }
    return all;
  }

  @Test
  void updateDoesNotAllocate() {
    ParamLayout lay = new ParamLayout(30, 40, 40, 10);
    Mlp net = TestNets.random(lay, new Rng(3));
    PathSgd t = PathSgd.normalize(PathSgdOptions.DEFAULT);
    OptState st = t.init(lay);
    Tensor u = ones(lay.size());
    for (int i = 0; i < 2000; i++) {
      t.update(u, st, net.params());
      u.fill(1f);
    }
    var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long id = Thread.currentThread().getId();
    // the least of several windows: a window in which the JIT has just thrown away the compiled SIMD kernel runs
    // the Vector API uninlined, which boxes every vector; code that allocates per step allocates in every window
    long perStep = Long.MAX_VALUE;
    for (int window = 0; window < 10 && perStep > 128; window++) {
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
    var opt = PathOptimizers.pathSgd(0.01, 2, 0.9, true);
    assertThat(opt.name()).isEqualTo("path-sgd");
    assertThat(opt.toString()).contains("path_normalize(p=2.0").contains("trace(momentum=0.9, nesterov)")
        .contains("scale(-0.01)");
  }
}
