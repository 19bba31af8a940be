package io.github.pathsgd.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.github.pathsgd.core.rnn.RnnGeometry;
import io.github.pathsgd.core.rnn.RnnKappa;
import io.github.pathsgd.core.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** The steps RnnStepBenchmark times are the steps it names: θ −= η·g (SGD) and θ −= η·g/κ (Path-SGD). */
class RnnStepBenchmarkTest {
  @Test
  void timedStepsUpdateByTheGradientAndByGradientOverKappa() {
    for (int mode = 0; mode < 3; mode++) {
      RnnStepBenchmark.Bench b = new RnnStepBenchmark.Bench(5, 6, 3);
      Tensor before = b.params.copy();
      RnnKappa k = new RnnGeometry(b.layout, 6, 2).kappa(before.buffer(), 0, mode == 2);
      b.gradient();
      Tensor g = b.grads.copy();
      double[] expectDelta = new double[b.layout.size()];
      for (int i = 0; i < expectDelta.length; i++) {
        expectDelta[i] = -RnnStepBenchmark.LR * (mode == 0 ? g.get(i) : k.divide(g.get(i), i, mode == 2, 0));
      }
      if (mode == 0) {
        b.sgd();
      } else {
        b.path(mode == 2);
      }
      double moved = 0;
      for (int i = 0; i < expectDelta.length; i++) {
        double delta = (double) b.params.get(i) - before.get(i);
        assertThat(delta).as("mode %d, θ[%d]", mode, i)
            .isCloseTo(expectDelta[i], within(1e-6 * (Math.abs(before.get(i)) + Math.abs(expectDelta[i])) + 1e-12));
        moved += Math.abs(delta);
      }
      assertThat(moved).as("the step moves θ").isGreaterThan(0);
    }
  }
}
