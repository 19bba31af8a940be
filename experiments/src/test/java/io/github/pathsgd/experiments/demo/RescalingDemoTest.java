package io.github.pathsgd.experiments.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;

class RescalingDemoTest {
  @Test
  void paperExample() {
    RescalingDemo.Result r = RescalingDemo.paperExample();
    RescalingDemo.Row bal = r.rows().get(0);
    RescalingDemo.Row unb = r.rows().get(1);
    // before: 1·1·1 = 0.1·10·1 = 1
    assertThat(bal.before()).isCloseTo(1, within(1e-6));
    assertThat(unb.before()).isCloseTo(bal.before(), within(1e-6));
    // SGD, δ = −1, η = 1: ∂L/∂w_k = −Π_{j≠k} w_j. Balanced: (2, 2, 2) → 8.
    // Unbalanced: grads (−10, −0.1, −1) → (10.1, 10.1, 2) → 204.02
    assertThat(bal.afterSgd()).isCloseTo(8, within(1e-4));
    assertThat(unb.afterSgd()).isCloseTo(204.02, within(1e-3));
    // Path-SGD: κ_k = Π_{j≠k} w_j² (biases 0). Balanced: κ = 1 → 8. Unbalanced: κ = (100, 0.01, 1),
    // w = (0.1 + 10/100, 10 + 0.1/0.01, 1 + 1) = (0.2, 20, 2) → 8
    assertThat(bal.afterPathSgd()).isCloseTo(8, within(1e-4));
    assertThat(unb.afterPathSgd()).isCloseTo(8, within(1e-4));
    assertThat(unb.weightsAfterPathSgd()).containsExactly(new double[] {0.2, 20, 2}, within(1e-5));
    assertThat(r.table()).contains("f after SGD").contains("204.02");
  }

  @Test
  void twoWeightChainMatchesTheSpecNumbers() {
    // (1, 1) vs (0.1, 10): SGD gives 4 vs 102.01, Path-SGD 4 vs 4
    RescalingDemo.Result r = RescalingDemo.run(List.of(new double[] {1, 1}, new double[] {0.1, 10}), 1, -1, 1);
    assertThat(r.rows().get(0).afterSgd()).isCloseTo(4, within(1e-4));
    assertThat(r.rows().get(1).afterSgd()).isCloseTo(102.01, within(1e-3));
    assertThat(r.rows().get(1).afterPathSgd()).isCloseTo(r.rows().get(0).afterPathSgd(), within(1e-4));
  }
}
