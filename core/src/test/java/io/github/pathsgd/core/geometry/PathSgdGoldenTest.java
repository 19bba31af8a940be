package io.github.pathsgd.core.geometry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.github.pathsgd.core.nn.DenseChain;
import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.core.optim.OptState;
import io.github.pathsgd.core.optim.Optimizer;
import io.github.pathsgd.core.optim.Optimizers;
import io.github.pathsgd.core.optim.PathSgdOptions;
import io.github.pathsgd.core.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * Hand-computed Path-SGD steps on a 1-1-1 net. Parameters in layout order (W_0, b_0, W_1, b_1) = (a, β, c, d).
 * With biases as edges from a constant-1 unit: γ_in(in) = 1, γ_in(h) = |a|^p + |β|^p, γ_out(h) = |c|^p, γ_out(out) =
 * 1, so κ(a) = (1·|c|^p)^{2/p}, κ(β) = |c|^{p·2/p}, κ(c) = (|a|^p + |β|^p)^{2/p}, κ(d) = 1.
 */
class PathSgdGoldenTest {
  private static final float[] W0 = {2f, 1f, 0.5f, 0.3f};
  private static final float[] G = {1f, 2f, 3f, 4f};

  private static LayerNet net() {
    LayerNet net = LayerNet.dense(new DenseChain(1, 1, 1));
    net.params().copyFrom(W0, 0, 0, 4);
    return net;
  }

  private static void step(Optimizer opt, LayerNet net, OptState st) {
    opt.step(net.params(), Tensor.of(G), st);
  }

  @Test
  void twoStepsP2() {
    LayerNet net = net();
    Optimizer opt = Optimizers.pathSgd(0.1, 2);
    OptState st = opt.init(net.layout());
    // step 1: κ = (c², c², a²+β², 1) = (0.25, 0.25, 4+1=5, 1)
    // Δ = -0.1·g/κ = (-0.1·1/0.25, -0.1·2/0.25, -0.1·3/5, -0.1·4/1) = (-0.4, -0.8, -0.06, -0.4)
    // w = (2-0.4, 1-0.8, 0.5-0.06, 0.3-0.4) = (1.6, 0.2, 0.44, -0.1)
    step(opt, net, st);
    assertThat(net.params().toArray()).containsExactly(new float[] {1.6f, 0.2f, 0.44f, -0.1f}, within(1e-6f));
    // step 2: κ = (0.44² = 0.1936, 0.1936, 1.6² + 0.2² = 2.56 + 0.04 = 2.6, 1)
    // Δ = (-0.1/0.1936 = -0.5165289256, -0.2/0.1936 = -1.0330578512, -0.3/2.6 = -0.1153846154, -0.4)
    // w = (1.6-0.5165289256, 0.2-1.0330578512, 0.44-0.1153846154, -0.1-0.4)
    //   = (1.0834710744, -0.8330578512, 0.3246153846, -0.5)
    step(opt, net, st);
    assertThat(net.params().toArray())
        .containsExactly(new float[] {1.0834710744f, -0.8330578512f, 0.3246153846f, -0.5f}, within(2e-6f));
  }

  @Test
  void twoStepsP2WithMomentum() {
    LayerNet net = net();
    Optimizer opt = Optimizers.pathSgd(0.1, 2, 0.9, false);
    OptState st = opt.init(net.layout());
    // step 1: v = g/κ = (4, 8, 0.6, 4); w = w - 0.1·v = (1.6, 0.2, 0.44, -0.1), as without momentum
    step(opt, net, st);
    assertThat(net.params().toArray()).containsExactly(new float[] {1.6f, 0.2f, 0.44f, -0.1f}, within(1e-6f));
    // step 2: g/κ = (1/0.1936 = 5.165289256, 2/0.1936 = 10.330578512, 3/2.6 = 1.153846154, 4)
    // v = 0.9·(4, 8, 0.6, 4) + g/κ = (3.6+5.165289256, 7.2+10.330578512, 0.54+1.153846154, 3.6+4)
    //   = (8.765289256, 17.530578512, 1.693846154, 7.6)
    // w = (1.6-0.8765289256, 0.2-1.7530578512, 0.44-0.1693846154, -0.1-0.76)
    //   = (0.7234710744, -1.5530578512, 0.2706153846, -0.86)
    step(opt, net, st);
    assertThat(net.params().toArray())
        .containsExactly(new float[] {0.7234710744f, -1.5530578512f, 0.2706153846f, -0.86f}, within(2e-6f));
  }

  @Test
  void oneStepP1AndWithoutBiases() {
    // p = 1: κ = (γ_in γ_out)^2. γ_in(h) = |a| + |β| = 3, γ_out(h) = |c| = 0.5
    // κ = (0.5² = 0.25, 0.25, 3² = 9, 1); Δ = -0.1·(1/0.25, 2/0.25, 3/9, 4) = (-0.4, -0.8, -0.0333333, -0.4)
    LayerNet net = net();
    Optimizer opt = Optimizers.pathSgd(0.1, 1);
    step(opt, net, opt.init(net.layout()));
    assertThat(net.params().toArray())
        .containsExactly(new float[] {1.6f, 0.2f, 0.4666666667f, -0.1f}, within(1e-6f));
    // p = 2 without biases in γ_in: γ_in(h) = a² = 4 → κ(c) = 4; the bias κ is still γ_out = c² = 0.25
    // Δ = -0.1·(1/0.25, 2/0.25, 3/4, 4) = (-0.4, -0.8, -0.075, -0.4)
    LayerNet net2 = net();
    Optimizer opt2 = Optimizers.pathSgd(0.1, PathSgdOptions.DEFAULT.withIncludeBiases(false), 0, false);
    step(opt2, net2, opt2.init(net2.layout()));
    assertThat(net2.params().toArray()).containsExactly(new float[] {1.6f, 0.2f, 0.425f, -0.1f}, within(1e-6f));
  }
}
