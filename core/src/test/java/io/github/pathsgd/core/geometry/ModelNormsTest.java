package io.github.pathsgd.core.geometry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.github.pathsgd.core.nn.DenseChain;
import io.github.pathsgd.core.nn.LayerNet;
import org.junit.jupiter.api.Test;

/** The six norms a run records, on a network small enough to work them out by hand. */
class ModelNormsTest {
  @Test
  void handWorkedTwoTwoOneNetwork() {
    // W0 = [[1, -2], [3, 0]], b0 = [1, 0]; W1 = [[2, -1]], b1 = [0.5]
    LayerNet net = LayerNet.dense(new DenseChain(2, 2, 1));
    net.params().copyFrom(new float[] {1, -2, 3, 0, 1, 0, 2, -1, 0.5f}, 0, 0, 9);
    ModelNorms n = ModelNorms.of(net);
    // φ_1: γ_in(h0) = 1 + 2 + |b| 1 = 4, γ_in(h1) = 3; output 2·4 + 1·3 + 0.5 = 11.5
    assertThat(n.pathNorm1()).isEqualTo(11.5);
    // φ_2²: γ_in(h0) = 1 + 4 + 1 = 6, γ_in(h1) = 9; output 4·6 + 1·9 + 0.25 = 33.25
    assertThat(n.pathNorm2()).isCloseTo(Math.sqrt(33.25), within(1e-15));
    // φ_∞: γ_in(h0) = max(1, 2, 1) = 2, γ_in(h1) = 3; output max(2·2, 1·3, 0.5) = 4
    assertThat(n.pathNormInf()).isEqualTo(4);
    // μ_{2,2}² = (1 + 4 + 9 + 0) + (1 + 0) + (4 + 1) + 0.25 = 20.25
    assertThat(n.l2Norm()).isEqualTo(4.5);
    // μ_{2,∞}: units' incoming ℓ2 with the bias: h0 √6, h1 √9 = 3, output √5.25
    assertThat(n.maxUnitNorm()).isEqualTo(3);
    // ‖W0‖₂² = largest eigenvalue of W0ᵀW0 = [[10, -2], [-2, 4]]: 7 + √13; ‖W1‖₂² = 5
    assertThat(n.spectralNormProduct()).isCloseTo(Math.sqrt(5 * (7 + Math.sqrt(13))), within(1e-13));
    assertThat(n.values()).containsExactly(n.pathNorm1(), n.pathNorm2(), n.pathNormInf(), n.l2Norm(),
        n.maxUnitNorm(), n.spectralNormProduct());
    assertThat(ModelNorms.ofValues(n.values())).isEqualTo(n);
    assertThat(ModelNorms.NAMES).containsExactly("path_norm_1", "path_norm_2", "path_norm_inf", "l2_norm",
        "max_unit_norm", "spectral_norm_product");
  }

  @Test
  void networkOfDenseLayersHasItsMlpNorms() {
    io.github.pathsgd.core.nn.LayerNet ln = io.github.pathsgd.core.nn.LayerSpec.parse("dense(7),dense(5)")
        .build(1, 3, 4, 3);
    io.github.pathsgd.core.nn.Init.balanced(ln, new io.github.pathsgd.core.util.Rng(4));
    for (int i = 0; i < ln.params().size(); i += 3) {
      ln.params().set(i, ln.params().get(i) + 0.25f); // non-zero biases too
    }
    LayerNet mlp = LayerNet.dense(new DenseChain(12, 7, 5, 3), ln.params().copy());
    ModelNorms a = ModelNorms.of((io.github.pathsgd.core.nn.Network) ln);
    ModelNorms b = ModelNorms.of(mlp);
    double[] va = a.values();
    double[] vb = b.values();
    for (int k = 0; k < va.length; k++) {
      assertThat(va[k]).as(ModelNorms.NAMES.get(k)).isCloseTo(vb[k], within(1e-12 * Math.abs(vb[k])));
    }
  }

  @Test
  void convNetGroupNormsCountEachFilterOnce() {
    // conv(2,2x2) on 1x3x3 -> 2x2x2, then the output layer dense 8 -> 2
    io.github.pathsgd.core.nn.LayerNet ln = io.github.pathsgd.core.nn.LayerSpec.parse("conv(2,2)").build(1, 3, 3, 2);
    float[] p = new float[ln.params().size()];
    for (int i = 0; i < p.length; i++) {
      p[i] = (i % 5 - 2) * 0.5f; // -1, -0.5, 0, 0.5, 1, ...
    }
    ln.params().copyFrom(p, 0, 0, p.length);
    ModelNorms n = ModelNorms.of((io.github.pathsgd.core.nn.Network) ln);
    double all = 0;
    for (float x : p) {
      all += (double) x * x;
    }
    assertThat(n.l2Norm()).isCloseTo(Math.sqrt(all), within(1e-12));
    // conv: 2 filters of 4 weights, then 2 biases; dense: 2 rows of 8 weights, then 2 biases
    double best = 0;
    int[][] rows = {{0, 4, 8}, {4, 8, 9}, {10, 18, 26}, {18, 26, 27}}; // {first weight, end, bias index}
    for (int[] r : rows) {
      double s = (double) p[r[2]] * p[r[2]];
      for (int i = r[0]; i < r[1]; i++) {
        s += (double) p[i] * p[i];
      }
      best = Math.max(best, s);
    }
    assertThat(n.maxUnitNorm()).isCloseTo(Math.sqrt(best), within(1e-12));
    assertThat(n.pathNorm2()).isCloseTo(PathNorms.phi(ln.layers(), ln.params(), 2, true), within(1e-12));
    assertThat(n.spectralNormProduct()).isPositive().isFinite();
  }
}
