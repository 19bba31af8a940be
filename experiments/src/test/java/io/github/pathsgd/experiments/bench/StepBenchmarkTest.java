package io.github.pathsgd.experiments.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.pathsgd.core.optim.Optimizers;
import org.junit.jupiter.api.Test;

class StepBenchmarkTest {
  @Test
  void stepFlopsByHand() {
    // forward 2·B·Σ in·out = 200·(784·4000 + 4000·4000 + 4000·10) = 3,835,200,000
    // weight gradients: the same; input gradients skip layer 0: 200·(4000·4000 + 4000·10) = 3,208,000,000
    assertThat(StepBenchmark.stepFlops(new int[] {784, 4000, 4000, 10}, 100)).isEqualTo(10_878_400_000.0);
    // one layer: forward and weight gradient only, 2·2·(3·2·5)
    assertThat(StepBenchmark.stepFlops(new int[] {3, 2}, 5)).isEqualTo(120.0);
  }

  @Test
  void measuresPositiveTimesOnATinyNetwork() {
    double s = StepBenchmark.stepSeconds(new int[] {20, 16, 4}, 8, Optimizers.sgd(0.01), 2, 5);
    assertThat(s).isPositive().isLessThan(1.0);
    assertThat(StepBenchmark.gemmGflops(false, false, 32, 32, 32, 3)).isPositive();
  }
}
