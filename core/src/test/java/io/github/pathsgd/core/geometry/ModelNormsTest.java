package io.github.pathsgd.core.geometry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.github.pathsgd.core.nn.Mlp;
import io.github.pathsgd.core.nn.ParamLayout;
import org.junit.jupiter.api.Test;

/** The six norms a run records, on a network small enough to work them out by hand. */
class ModelNormsTest {
  @Test
  void handWorkedTwoTwoOneNetwork() {
    // W0 = [[1, -2], [3, 0]], b0 = [1, 0]; W1 = [[2, -1]], b1 = [0.5]
    Mlp net = new Mlp(new ParamLayout(2, 2, 1));
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
}
