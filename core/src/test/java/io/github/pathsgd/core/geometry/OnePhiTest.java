package io.github.pathsgd.core.geometry;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.pathsgd.core.nn.Dense;
import io.github.pathsgd.core.nn.DenseChain;
import io.github.pathsgd.core.nn.Init;
import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.core.nn.LayerSpec;
import io.github.pathsgd.core.util.Rng;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * φ_p has one implementation ({@link PathNorms#phi(List, io.github.pathsgd.core.tensor.Tensor, double, boolean)}):
 * a fully connected network's φ (through its layout) is, bit for bit, the φ of its dense layers and of the
 * equivalent dense-only network of layers, for p = 1, 2, 3, ∞, with and without biases; and {@code LayerKappa} no
 * longer has a φ of its own.
 */
class OnePhiTest {
  @Test
  void theFullyConnectedPhiIsTheLayersPhiBitForBit() {
    DenseChain lay = new DenseChain(7, 5, 4, 3);
    LayerNet mlp = Init.balanced(lay, new Rng(9));
    for (int i = 0; i < mlp.params().size(); i += 5) {
      mlp.params().set(i, mlp.params().get(i) * 3.5f); // some weights far from balanced
    }
    LayerNet ln = LayerSpec.parse("dense(5),dense(4)").build(7, 1, 1, 3);
    ln.params().copyFrom(mlp.params().toArray(), 0, 0, mlp.params().size());
    for (double p : new double[] {1, 2, 3, Double.POSITIVE_INFINITY}) {
      for (boolean biases : new boolean[] {true, false}) {
        double viaLayout = PathNorms.phi(mlp, p, biases);
        assertThat(viaLayout).isPositive();
        assertThat(PathNorms.phi(List.of(Dense.of(lay)), mlp.params(), p, biases)).isEqualTo(viaLayout);
        assertThat(PathNorms.phi(ln.layers(), ln.params(), p, biases)).as("p=%s biases=%s", p, biases)
            .isEqualTo(viaLayout);
      }
    }
    assertThat(PathNorms.phiPow(ln.layers(), ln.params(), 2)).isEqualTo(Math.pow(PathNorms.phi(mlp, 2), 2),
        org.assertj.core.api.Assertions.within(1e-12 * Math.pow(PathNorms.phi(mlp, 2), 2)));
  }

  @Test
  void layerKappaHasNoPhiOfItsOwn() {
    assertThat(Arrays.stream(LayerKappa.class.getDeclaredMethods()).map(m -> m.getName()))
        .doesNotContain("phi", "phiPow");
  }
}
