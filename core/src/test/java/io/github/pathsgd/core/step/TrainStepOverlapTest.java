package io.github.pathsgd.core.step;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.pathsgd.core.nn.DenseChain;
import io.github.pathsgd.core.nn.Dropout;
import io.github.pathsgd.core.nn.Init;
import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.core.nn.StepStats;
import io.github.pathsgd.core.optim.OptState;
import io.github.pathsgd.core.optim.Optimizers;
import io.github.pathsgd.core.tensor.Blas;
import io.github.pathsgd.core.util.Rng;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The folded Path-SGD step with its κ pass on a second thread during the forward pass computes exactly what it computes
 * on one thread: parameters and optimizer state bit for bit, with dropout, over several steps, also when the fold is
 * refused (a unit with no outgoing weight has κ = 0, so the step takes the unfused path after the shared forward
 * pass).
 */
class TrainStepOverlapTest {
  private int savedThreads;

  @BeforeEach
  void twoThreads() {
    assumeTrue(Runtime.getRuntime().availableProcessors() >= 2,
        "the overlapped κ pass needs two cores; this machine has one");
    savedThreads = Blas.threads();
    Blas.setThreads(2);
    assertThat(TrainStep.overlapEnabled()).isTrue();
  }

  @AfterEach
  void restore() {
    if (savedThreads > 0) {
      Blas.setThreads(savedThreads);
    }
  }

  @Test
  void overlappedStepsEqualSequentialOnesBitForBit() {
    compare(false);
  }

  @Test
  void refusedFoldTakesTheUnfusedPathAfterTheSharedForwardPass() {
    compare(true);
  }

  private static void compare(boolean deadUnit) {
    DenseChain lay = new DenseChain(30, 24, 16, 5);
    LayerNet a = Init.balanced(lay, new Rng(11));
    if (deadUnit) { // hidden unit 3 of layer 1 feeds nothing: γ_out = 0, so κ = 0 for its incoming weights
      for (int o = 0; o < lay.out(1); o++) {
        a.params().set(lay.weightOffset(1) + o * lay.in(1) + 3, 0f);
      }
    }
    LayerNet b = a.copy();
    int B = 12;
    TrainStep over = new TrainStep(a, Optimizers.pathSgd(0.05, 2), B).overlap(true);
    TrainStep seq = new TrainStep(b, Optimizers.pathSgd(0.05, 2), B).overlap(false);
    Rng data = new Rng(5);
    int[] y = new int[B];
    Dropout drop = new Dropout(0.75f, 0.9f);
    long clamped = 0;
    for (int step = 0; step < 6; step++) {
      for (int i = 0; i < B * lay.inputs(); i++) {
        float v = data.nextFloat();
        over.workspace().input().set(i, v);
        seq.workspace().input().set(i, v);
      }
      for (int i = 0; i < B; i++) {
        y[i] = (step + 3 * i) % lay.outputs();
      }
      StepStats s1 = over.run(B, y, drop, new Rng(100 + step));
      StepStats s2 = seq.run(B, y, drop, new Rng(100 + step));
      assertThat(s1.loss()).isEqualTo(s2.loss());
      clamped += over.state().clamped();
    }
    for (int i = 0; i < lay.size(); i++) {
      assertThat(Float.floatToRawIntBits(a.params().get(i))).as("parameter %d", i)
          .isEqualTo(Float.floatToRawIntBits(b.params().get(i)));
    }
    assertStatesEqual(over.state(), seq.state());
    assertThat(clamped > 0).as("κ = 0 coordinates seen").isEqualTo(deadUnit);
    assertThat(Thread.getAllStackTraces().keySet().stream()
        .anyMatch(t -> t.getName().equals("pathsgd-prepare-" + Thread.currentThread().getName())))
        .as("the worker thread of this thread ran the κ pass").isTrue();
  }

  private static void assertStatesEqual(OptState x, OptState y) {
    Map<String, Object> ex = x.export();
    Map<String, Object> ey = y.export();
    assertThat(ex.keySet()).isEqualTo(ey.keySet());
    for (String k : ex.keySet()) {
      Object vx = ex.get(k);
      Object vy = ey.get(k);
      if (vx instanceof float[] fx) {
        assertThat(fx).as(k).isEqualTo((float[]) vy);
      } else {
        assertThat((double[]) vx).as(k).isEqualTo((double[]) vy);
      }
    }
  }
}
