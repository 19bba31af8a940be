package io.github.pathsgd.core.geometry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.github.pathsgd.core.nn.DenseChain;
import io.github.pathsgd.core.nn.LayerNet;
import org.junit.jupiter.api.Test;

class GroupNormsTest {
  /** 2-2-1 net: W_0 = [[3, 4], [1, 0]], b_0 = (0, 2), W_1 = [[2, -1]], b_1 = (2). */
  private static LayerNet net() {
    LayerNet net = LayerNet.dense(new DenseChain(2, 2, 1));
    net.params().copyFrom(new float[] {3, 4, 1, 0, 0, 2, 2, -1, 2}, 0, 0, 9);
    return net;
  }

  @Test
  void groupNormsByHand() {
    LayerNet n = net();
    // incoming squared sums with biases: unit h0: 9+16+0 = 25, h1: 1+0+4 = 5, out: 4+1+4 = 9
    assertThat(GroupNorms.l2(n, true)).isCloseTo(Math.sqrt(39), within(1e-12));
    // without biases: 25, 1, 5
    assertThat(GroupNorms.l2(n, false)).isCloseTo(Math.sqrt(31), within(1e-12));
    // max-norm: max(5, sqrt 5, 3) = 5
    assertThat(GroupNorms.maxNorm(n, true)).isCloseTo(5, within(1e-12));
    // ℓ1: 3+4+0 + 1+0+2 + 2+1+2 = 15 (without biases: 3+4+1+0+2+1 = 11)
    assertThat(GroupNorms.l1(n, true)).isCloseTo(15, within(1e-12));
    assertThat(GroupNorms.l1(n, false)).isCloseTo(11, within(1e-12));
    // μ_{1,2} with biases: sqrt(7² + 3² + 5²) = sqrt(83)
    assertThat(GroupNorms.mu(n, 1, 2)).isCloseTo(Math.sqrt(83), within(1e-12));
    // μ_{2,1}: 5 + sqrt 5 + 3
    assertThat(GroupNorms.mu(n, 2, 1)).isCloseTo(8 + Math.sqrt(5), within(1e-12));
  }

  @Test
  void frobeniusAndSpectral() {
    LayerNet n = net();
    assertThat(GroupNorms.frobenius(n, 0)).isCloseTo(Math.sqrt(26), within(1e-12));
    // W_0 = [[3,4],[1,0]]: AᵀA = [[10, 12], [12, 16]], eigenvalues 13 ± sqrt(9 + 144) = 13 ± sqrt(153)
    assertThat(GroupNorms.spectral(n, 0)).isCloseTo(Math.sqrt(13 + Math.sqrt(153)), within(1e-9));
    // a row vector: spectral = Euclidean norm
    assertThat(GroupNorms.spectral(n, 1)).isCloseTo(Math.sqrt(5), within(1e-9));
    // diagonal 3x2 matrix diag(2, -5): σ_max = 5
    assertThat(GroupNorms.spectral(new double[] {2, 0, 0, -5, 0, 0}, 3, 2, 1000, 1e-14)).isCloseTo(5, within(1e-9));
  }

  @Test
  void maxNormPowerDepthBoundsThePathNormFromAbove() {
    // Lemma 3.1 of the Path-SGD paper: φ_p(w) = min over rescalings of Π_layers max-norm; so φ_2 ≤ Π_l μ_{2,∞}(W_l)
    // for any w (here per layer, biases included both sides)
    LayerNet n = net();
    double prod = 5.0 * 3.0; // layer 0 max over (5, sqrt 5), layer 1: 3
    assertThat(PathNorms.phi(n, 2)).isLessThanOrEqualTo(prod + 1e-12);
  }
}
