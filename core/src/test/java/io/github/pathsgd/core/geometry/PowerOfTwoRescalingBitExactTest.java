package io.github.pathsgd.core.geometry;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.pathsgd.core.nn.DenseChain;
import io.github.pathsgd.core.nn.Dropout;
import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.core.nn.Network;
import io.github.pathsgd.core.optim.OptState;
import io.github.pathsgd.core.optim.Optimizer;
import io.github.pathsgd.core.optim.Optimizers;
import io.github.pathsgd.core.optim.PathSgdOptions;
import io.github.pathsgd.core.step.TrainStep;
import io.github.pathsgd.core.util.Rng;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Power-of-two rescaling is bit-exact through the path {@code pathsgd train} takes: the default options (the automatic
 * p = 2 sweep with SIMD), {@link TrainStep} with the fused step as the trainer builds it, momentum 0 and 0.9, p = 1, 2
 * and 3. One unit per hidden layer is rescaled by 2^k, |k| in 61..100 (all up or all down, so a weight between two
 * rescaled units stays in the float range), the network takes 1 and 5 steps, is mapped back, and must equal the
 * original's trajectory bit for bit. Before, 42 of these 96 runs came back bit-identical (issue 23): the fused step
 * rounded the scaled errors and inputs twice (float factor, then float product) where the factors fit the float range
 * and once (in double) where they did not, and the p = 2 κ pass ran in float on the original network and in double on
 * the rescaled one.
 */
class PowerOfTwoRescalingBitExactTest {
  static final int BATCH = 8;

  @Test
  void rescaledNetworksMapBackBitForBitOnTheTrainPath() {
    DenseChain lay = new DenseChain(20, 24, 16, 12, 4);
    int runs = 0;
    List<String> differ = new ArrayList<>();
    for (int p = 1; p <= 3; p++) {
      for (double momentum : new double[] {0, 0.9}) {
        Optimizer opt = Optimizers.pathSgd(0.05, PathSgdOptions.ofP(p), momentum, false);
        for (int trial = 0; trial < 8; trial++) {
          Rng r = new Rng(1000L * p + 10L * trial + (momentum > 0 ? 1 : 0));
          LayerNet start = PathSgdRangeTest.net(lay, r);
          double[][] f = oneUnitPerLayer(lay, r.split("factors"), trial % 2 == 0 ? 1 : -1);
          PathSgdRangeTest.Data d = data(lay, 5, r.split("data"));
          for (int steps : new int[] {1, 5}) {
            LayerNet a = start.copy();
            train(a, opt, d, steps);
            LayerNet b = start.copy();
            Rescaling.scaleAll(b, f);
            train(b, opt, d, steps);
            Rescaling.scaleAll(b, Harness.inverse(f));
            runs++;
            int first = firstDifference(a, b);
            if (first >= 0) {
              differ.add(String.format("p=%d momentum=%s trial=%d steps=%d: parameter %d is %s, not %s", p, momentum,
                  trial, steps, first, b.params().get(first), a.params().get(first)));
            }
          }
        }
      }
    }
    assertThat(runs).isEqualTo(96);
    assertThat(differ).as("bit-identical in %d of %d runs", runs - differ.size(), runs).isEmpty();
  }

  /**
   * The same on a network wide enough for the multi-thread p = 2 pass (W_0 and W_1 over 2^20 weights), one unit of
   * each hidden layer rescaled by 2^80 and, separately, 2^-80, 3 fused steps with momentum 0.9.
   */
  @Test
  void largeLayersOnSeveralThreadsAreBitExactToo() {
    DenseChain lay = new DenseChain(600, 1800, 600, 10);
    Rng r = new Rng(77);
    LayerNet start = PathSgdRangeTest.net(lay, r);
    PathSgdRangeTest.Data d = data(lay, 3, r.split("data"));
    Optimizer opt = Optimizers.pathSgd(0.01, PathSgdOptions.DEFAULT, 0.9, false);
    LayerNet a = start.copy();
    train(a, opt, d, 3);
    for (int k : new int[] {80, -80}) {
      double[][] f = new double[lay.layers() + 1][];
      for (int l = 1; l < lay.layers(); l++) {
        f[l] = new double[lay.width(l)];
        java.util.Arrays.fill(f[l], 1.0);
        f[l][3 * l] = Math.scalb(1.0, k);
      }
      LayerNet b = start.copy();
      Rescaling.scaleAll(b, f);
      train(b, opt, d, 3);
      Rescaling.scaleAll(b, Harness.inverse(f));
      assertThat(firstDifference(a, b)).as("k=%d", k).isEqualTo(-1);
    }
  }

  /** Factors 2^(sign·k), k in 61..100, for one random unit of each hidden layer; 1 elsewhere. */
  static double[][] oneUnitPerLayer(DenseChain lay, Rng r, int sign) {
    double[][] f = new double[lay.layers() + 1][];
    for (int l = 1; l < lay.layers(); l++) {
      f[l] = new double[lay.width(l)];
      java.util.Arrays.fill(f[l], 1.0);
      f[l][r.nextInt(lay.width(l))] = Math.scalb(1.0, sign * (61 + r.nextInt(40)));
    }
    return f;
  }

  /** Batches of {@link #BATCH} rows of standard normal inputs and random labels. */
  static PathSgdRangeTest.Data data(DenseChain lay, int steps, Rng r) {
    float[][] x = new float[steps][BATCH * lay.inputs()];
    int[][] y = new int[steps][BATCH];
    for (int s = 0; s < steps; s++) {
      for (int i = 0; i < x[s].length; i++) {
        x[s][i] = (float) r.nextGaussian();
      }
      for (int b = 0; b < BATCH; b++) {
        y[s][b] = r.nextInt(lay.outputs());
      }
    }
    return new PathSgdRangeTest.Data(x, y);
  }

  /** {@code steps} steps as the trainer takes them: one {@link TrainStep} with the fold on, as {@code Trainer} builds it. */
  static void train(LayerNet net, Optimizer opt, PathSgdRangeTest.Data d, int steps) {
    OptState st = opt.init(net.layout());
    Network.Workspace ws = net.workspace(BATCH);
    TrainStep step = new TrainStep(net, opt, ws, st, true);
    for (int s = 0; s < steps; s++) {
      ws.input().copyFrom(d.x()[s], 0, 0, d.x()[s].length);
      step.run(BATCH, d.y()[s], 0, Dropout.NONE, new Rng(100 + s));
    }
  }

  /** The first parameter whose bits differ, or −1. */
  static int firstDifference(LayerNet a, LayerNet b) {
    for (int i = 0; i < a.params().size(); i++) {
      if (Float.floatToRawIntBits(a.params().get(i)) != Float.floatToRawIntBits(b.params().get(i))) {
        return i;
      }
    }
    return -1;
  }
}
