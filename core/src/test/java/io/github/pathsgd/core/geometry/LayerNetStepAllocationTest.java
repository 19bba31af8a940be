package io.github.pathsgd.core.geometry;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.pathsgd.core.nn.AvgPool2d;
import io.github.pathsgd.core.nn.Conv2d;
import io.github.pathsgd.core.nn.Dense;
import io.github.pathsgd.core.nn.Layer;
import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.core.nn.MaxPool2d;
import io.github.pathsgd.core.nn.Network;
import io.github.pathsgd.core.tensor.Blas;
import io.github.pathsgd.core.tensor.Tensor;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A conv net's Path-SGD step (gradient, κ by {@link LayerKappa#into}, update) allocates nothing in steady state, with
 * one OpenBLAS thread and with two (the double GEMMs of the conv sweeps threaded), and κ is the same
 * as {@link LayerKappa#of}.
 */
class LayerNetStepAllocationTest {
  // 2×8×8 → conv 4 3×3 pad 1 → max-pool 2 → conv 6 3×3 pad 1 → avg-pool 2 → 24 → dense 12 → dense 5
  private static final Conv2d C1 = new Conv2d(2, 8, 8, 4, 3, 3, 1, 1, 0, true);
  private static final MaxPool2d P1 = new MaxPool2d(4, 8, 8, 2, 2, C1.paramSize());
  private static final Conv2d C2 = new Conv2d(4, 4, 4, 6, 3, 3, 1, 1, C1.paramSize(), true);
  private static final int OFF = C1.paramSize() + C2.paramSize();
  private static final AvgPool2d P2 = new AvgPool2d(6, 4, 4, 2, 2, OFF);
  private static final Dense D1 = new Dense(24, 12, OFF, true);
  private static final Dense D2 = new Dense(12, 5, OFF + D1.paramSize(), false);
  private static final List<Layer> LAYERS = List.of(C1, P1, C2, P2, D1, D2);
  private static final int SIZE = OFF + D1.paramSize() + D2.paramSize();
  private static final int B = 6;

  private static long stepBytes(int threads) {
    int before = Blas.threads();
    Blas.setThreads(threads);
    try {
      Random r = new Random(1);
      Tensor p = new Tensor(SIZE);
      for (int i = 0; i < SIZE; i++) {
        p.set(i, (float) (r.nextGaussian() * 0.3));
      }
      LayerNet net = new LayerNet(LAYERS, p);
      Network.Workspace ws = net.workspace(B);
      for (int i = 0; i < B * C1.in(); i++) {
        ws.input().set(i, r.nextFloat());
      }
      int[] labels = {0, 1, 2, 3, 4, 0};
      Tensor g = new Tensor(SIZE);
      LayerKappa.Workspace kws = LayerKappa.workspace(LAYERS);
      double[] kappa = new double[SIZE];
      Runnable step = () -> {
        net.lossAndGradient(ws, B, labels, 0, g, 1f, null);
        LayerKappa.into(LAYERS, p, 2, kws, kappa);
        for (int i = 0; i < SIZE; i++) {
          p.set(i, (float) (p.get(i) - 1e-3 * g.get(i) / kappa[i]));
        }
      };
      for (int i = 0; i < 1500; i++) {
        step.run();
      }
      LayerKappa.into(LAYERS, p, 2, kws, kappa);
      assertThat(kappa).containsExactly(LayerKappa.of(LAYERS, p, 2));
      var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
      long id = Thread.currentThread().getId();
      long perStep = Long.MAX_VALUE;
      long deadline = System.nanoTime() + 5_000_000_000L;
      for (int window = 0; perStep > 64 && (window < 10 || System.nanoTime() < deadline); window++) {
        long t0 = mx.getThreadAllocatedBytes(id);
        for (int i = 0; i < 100; i++) {
          step.run();
        }
        perStep = Math.min(perStep, (mx.getThreadAllocatedBytes(id) - t0) / 100);
      }
      return perStep;
    } finally {
      Blas.setThreads(before);
    }
  }

  @Test
  void pathSgdStepOfAConvNetDoesNotAllocate() {
    assertThat(stepBytes(1)).isLessThanOrEqualTo(64); // at most the loss record, when escape analysis keeps it
    assertThat(stepBytes(2)).isLessThanOrEqualTo(64);
  }
}
