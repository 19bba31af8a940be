package io.github.pathsgd.core.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.github.pathsgd.core.nn.DenseChain;
import io.github.pathsgd.core.tensor.Tensor;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Golden one- and two-step values worked out by hand, convergence on a quadratic bowl, and state round trips.
 *
 * <p>Every golden test starts at θ0 = [1, -2] (a 1-1 network: weight, bias) and feeds g1 = [0.5, 1], then
 * g2 = [-1, 0.25], with lr = 0.1.
 */
class OptimizerTest {
  static final DenseChain TWO = new DenseChain(1, 1);

  static float[][] twoSteps(Optimizer opt) {
    Tensor theta = Tensor.of(1f, -2f);
    OptState s = opt.init(io.github.pathsgd.core.nn.NetLayout.dense(TWO));
    opt.step(theta, Tensor.of(0.5f, 1f), s);
    float[] after1 = theta.toArray();
    opt.step(theta, Tensor.of(-1f, 0.25f), s);
    return new float[][] {after1, theta.toArray()};
  }

  static void assertClose(float[] got, double... want) {
    assertThat(got).hasSize(want.length);
    for (int i = 0; i < want.length; i++) {
      assertThat((double) got[i]).as("coordinate %d", i).isCloseTo(want[i], within(1e-6));
    }
  }

  @Test
  void sgdGoldenSteps() {
    float[][] t = twoSteps(Optimizers.sgd(0.1));
    // θ1 = θ0 - 0.1·g1 = [1 - 0.05, -2 - 0.1]
    assertClose(t[0], 0.95, -2.1);
    // θ2 = θ1 - 0.1·g2 = [0.95 + 0.1, -2.1 - 0.025]
    assertClose(t[1], 1.05, -2.125);
  }

  @Test
  void momentumGoldenSteps() {
    float[][] t = twoSteps(Optimizers.sgd(0.1, 0.9, false));
    // v1 = g1 = [0.5, 1]; θ1 = θ0 - 0.1·v1
    assertClose(t[0], 0.95, -2.1);
    // v2 = 0.9·v1 + g2 = [-0.55, 1.15]; θ2 = θ1 - 0.1·v2 = [1.005, -2.215]
    assertClose(t[1], 1.005, -2.215);
  }

  @Test
  void nesterovGoldenSteps() {
    float[][] t = twoSteps(Optimizers.sgd(0.1, 0.9, true));
    // v1 = g1; u1 = g1 + 0.9·v1 = [0.95, 1.9]; θ1 = [1 - 0.095, -2 - 0.19]
    assertClose(t[0], 0.905, -2.19);
    // v2 = [-0.55, 1.15]; u2 = g2 + 0.9·v2 = [-1.495, 1.285]; θ2 = [0.905 + 0.1495, -2.19 - 0.1285]
    assertClose(t[1], 1.0545, -2.3185);
  }

  @Test
  void adagradGoldenSteps() {
    float[][] t = twoSteps(Optimizers.adagrad(0.1));
    // G1 = g1² = [0.25, 1]; u1 = g1/√G1 = [1, 1]; θ1 = [0.9, -2.1]
    assertClose(t[0], 0.9, -2.1);
    // G2 = [1.25, 1.0625]; u2 = [-1/√1.25, 0.25/√1.0625] = [-0.8944272, 0.2425356]
    assertClose(t[1], 0.9 + 0.1 / Math.sqrt(1.25), -2.1 - 0.025 / Math.sqrt(1.0625));
  }

  @Test
  void adagradWithInitialAccumulatorAndEps() {
    Tensor theta = Tensor.of(0f, 0f);
    Optimizer opt = Optimizers.adagrad(1.0, 0.5, 3.0);
    OptState s = opt.init(io.github.pathsgd.core.nn.NetLayout.dense(TWO));
    opt.step(theta, Tensor.of(1f, 2f), s);
    // G = 3 + g²: [4, 7]; u = g / (√G + 0.5) = [1/2.5, 2/(√7 + 0.5)]
    assertClose(theta.toArray(), -0.4, -2 / (Math.sqrt(7) + 0.5));
  }

  static Stream<Arguments> optimizers() {
    return Stream.of(
        Arguments.of("sgd", (Supplier<Optimizer>) () -> Optimizers.sgd(0.1)),
        Arguments.of("momentum", (Supplier<Optimizer>) () -> Optimizers.sgd(0.05, 0.9, false)),
        Arguments.of("nesterov", (Supplier<Optimizer>) () -> Optimizers.sgd(0.05, 0.9, true)),
        Arguments.of("adagrad", (Supplier<Optimizer>) () -> Optimizers.adagrad(0.5)));
  }

  /** f(θ) = ½ Σ a_i (θ_i - c_i)², minimum at c. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("optimizers")
  void convergesOnQuadraticBowl(String name, Supplier<Optimizer> make) {
    DenseChain lay = new DenseChain(2, 2); // 6 parameters
    float[] a = {1, 3, 0.5f, 2, 1.5f, 1};
    float[] c = {1, -2, 0.5f, 3, -1, 2};
    Optimizer opt = make.get();
    Tensor theta = new Tensor(lay.size());
    Tensor g = new Tensor(lay.size());
    OptState s = opt.init(io.github.pathsgd.core.nn.NetLayout.dense(lay));
    for (int t = 0; t < 3000; t++) {
      for (int i = 0; i < 6; i++) {
        g.set(i, a[i] * (theta.get(i) - c[i]));
      }
      opt.step(theta, g, s);
    }
    for (int i = 0; i < 6; i++) {
      assertThat((double) theta.get(i)).as("%s coordinate %d", name, i).isCloseTo(c[i], within(1e-3));
    }
    assertThat(s.count()).isEqualTo(3000);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("optimizers")
  void stateExportRestoreContinuesIdentically(String name, Supplier<Optimizer> make) {
    Optimizer opt = make.get();
    DenseChain lay = new DenseChain(2, 2);
    Tensor theta = new Tensor(lay.size());
    OptState s = opt.init(io.github.pathsgd.core.nn.NetLayout.dense(lay));
    for (int t = 0; t < 3; t++) {
      Tensor g = new Tensor(lay.size());
      for (int i = 0; i < 6; i++) {
        g.set(i, (float) Math.sin(t * 6 + i));
      }
      opt.step(theta, g, s);
    }
    Map<String, Object> saved = s.export();
    OptState restored = make.get().init(io.github.pathsgd.core.nn.NetLayout.dense(lay));
    restored.restore(saved);
    Tensor theta2 = theta.copy();
    Tensor g1 = Tensor.of(0.3f, -0.2f, 0.1f, 0.7f, -0.4f, 0.5f);
    Tensor g2 = g1.copy();
    opt.step(theta, g1, s);
    make.get().step(theta2, g2, restored);
    assertThat(theta2.toArray()).containsExactly(theta.toArray());
    assertThat(restored.count()).isEqualTo(s.count());
  }

  @Test
  void restoreRejectsWrongShapes() {
    Optimizer opt = Optimizers.sgd(0.1, 0.9, false);
    Map<String, Object> saved = opt.init(io.github.pathsgd.core.nn.NetLayout.dense(2, 2)).export();
    OptState other = opt.init(io.github.pathsgd.core.nn.NetLayout.dense(3, 2));
    assertThatThrownBy(() -> other.restore(saved)).hasMessageContaining("momentum");
  }

  @Test
  void badHyperParametersAreRejected() {
    assertThatThrownBy(() -> Optimizers.sgd(0)).hasMessageContaining("learning rate");
    assertThatThrownBy(() -> Optimizers.sgd(Double.NaN)).hasMessageContaining("learning rate");
    assertThatThrownBy(() -> Optimizers.sgd(0.1, 1.0, false)).hasMessageContaining("momentum");
    assertThatThrownBy(() -> Optimizers.sgd(0.1, 0.0, true)).hasMessageContaining("Nesterov");
  }
}
