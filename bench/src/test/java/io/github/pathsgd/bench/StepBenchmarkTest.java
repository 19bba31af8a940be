package io.github.pathsgd.bench;

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
  void quantilesByHand() {
    double[] v = {5, 1, 4, 2, 3};
    assertThat(StepBenchmark.quantile(v, 0.5)).isEqualTo(3.0);
    assertThat(StepBenchmark.quantile(v, 0.25)).isEqualTo(2.0);
    assertThat(StepBenchmark.quantile(v, 0.75)).isEqualTo(4.0);
    // even count: interpolated; 0.25·(4 − 1) = 0.75 of the way from 1 to 2
    assertThat(StepBenchmark.quantile(new double[] {4, 1, 3, 2}, 0.25)).isEqualTo(1.75);
    assertThat(v).containsExactly(5, 1, 4, 2, 3); // not sorted in place
  }

  @Test
  void pairedRatiosOfTheSameOptimizerAreOne() {
    var t = StepBenchmark.stepSeconds(new int[] {20, 16, 4}, 8,
        java.util.List.of(Optimizers.sgd(0.01), Optimizers.sgd(0.01)), 1, 4);
    assertThat(t.seconds()).hasSize(2);
    assertThat(t.pairedRatio()[0]).containsExactly(1.0, 1.0, 1.0);
    assertThat(t.pairedRatio()[1][0]).isPositive().isLessThanOrEqualTo(t.pairedRatio()[1][1]);
    assertThat(t.pairedRatio()[1][1]).isLessThanOrEqualTo(t.pairedRatio()[1][2]);
    assertThat(t.cpuPairedRatio()[0]).containsExactly(1.0, 1.0, 1.0); // the first step's CPU time over itself
    assertThat(t.cpuPairedRatio()[1][0]).isPositive().isLessThanOrEqualTo(t.cpuPairedRatio()[1][2]);
  }

  @Test
  void measuresPositiveTimesOnATinyNetwork() {
    double s = StepBenchmark.stepSeconds(new int[] {20, 16, 4}, 8, Optimizers.sgd(0.01), 2, 5);
    assertThat(s).isPositive().isLessThan(1.0);
    assertThat(MachineTimings.gemmGflops(false, false, 32, 32, 32, 3)).isPositive();
  }
}
