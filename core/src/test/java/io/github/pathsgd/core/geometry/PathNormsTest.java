package io.github.pathsgd.core.geometry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.github.pathsgd.core.nn.DenseChain;
import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.core.util.Rng;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PathNormsTest {
  @ParameterizedTest
  @ValueSource(doubles = {1, 2, 3, Double.POSITIVE_INFINITY})
  void dynamicProgrammingMatchesBruteForceEnumeration(double p) {
    Rng rng = new Rng(42).split("p" + p);
    for (int depth = 1; depth <= 4; depth++) {
      for (int trial = 0; trial < 10; trial++) {
        DenseChain lay = TestNets.randomLayout(depth, rng);
        LayerNet net = TestNets.random(lay, rng);
        for (boolean biases : new boolean[] {true, false}) {
          double dp = PathNorms.phi(net, p, biases);
          double bf = TestNets.bruteForcePhi(lay, net.params(), p, biases);
          assertThat(dp).as("depth %d %s p=%s biases=%s", depth, lay, p, biases).isCloseTo(bf, within(1e-9 * bf));
        }
      }
    }
  }

  @Test
  void biasRootedPathsCount() {
    // 1-1-1 net: w0 = 2, b0 = 1, w1 = 3, b1 = 4. Paths: in→h→out (2·3), 1→h→out (1·3), 1→out (4).
    LayerNet net = LayerNet.dense(new DenseChain(1, 1, 1));
    float[] v = {2, 1, 3, 4};
    net.params().copyFrom(v, 0, 0, 4);
    // p=1: 6 + 3 + 4 = 13; p=2: sqrt(36 + 9 + 16) = sqrt(61); without biases: 6
    assertThat(PathNorms.phi(net, 1)).isCloseTo(13, within(1e-12));
    assertThat(PathNorms.phi(net, 2)).isCloseTo(Math.sqrt(61), within(1e-12));
    assertThat(PathNorms.phi(net, 2, false)).isCloseTo(6, within(1e-12));
    assertThat(PathNorms.phiInf(net)).isCloseTo(6, within(1e-12));
  }

  @Test
  void gammaInOutSatisfyThePathIdentity() {
    // Σ_outputs γ_in = Σ_inputs γ_out + Σ_v |b_v|^p γ_out(v)  (both equal φ_p^p with biases)
    Rng rng = new Rng(7);
    DenseChain lay = new DenseChain(3, 4, 2, 3);
    LayerNet net = TestNets.random(lay, rng);
    double p = 3;
    double[][] gin = PathNorms.gammaIn(net, p);
    double[][] gout = PathNorms.gammaOut(net, p);
    assertThat(gin).hasNumberOfRows(4);
    assertThat(gout[3]).containsOnly(1.0);
    assertThat(gin[0]).containsOnly(1.0);
    double lhs = 0;
    for (double x : gin[3]) {
      lhs += x;
    }
    double rhs = 0;
    for (double x : gout[0]) {
      rhs += x;
    }
    for (int l = 0; l < lay.layers(); l++) {
      for (int v = 0; v < lay.out(l); v++) {
        rhs += Math.pow(Math.abs(net.params().get(lay.biasOffset(l) + v)), p) * gout[l + 1][v];
      }
    }
    assertThat(lhs).isCloseTo(rhs, within(1e-12 * lhs));
    assertThat(Math.pow(lhs, 1 / p)).isCloseTo(PathNorms.phi(net, p), within(1e-12 * lhs));
  }

  @Test
  void rejectsExponentBelowOne() {
    LayerNet net = LayerNet.dense(new DenseChain(2, 2));
    assertThatThrownBy(() -> PathNorms.phi(net, 0.5)).isInstanceOf(IllegalArgumentException.class);
  }
}
