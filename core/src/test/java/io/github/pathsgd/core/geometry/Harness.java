package io.github.pathsgd.core.geometry;

import io.github.pathsgd.core.nn.DenseChain;
import io.github.pathsgd.core.nn.Dropout;
import io.github.pathsgd.core.nn.Init;
import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.core.nn.Network;
import io.github.pathsgd.core.optim.OptState;
import io.github.pathsgd.core.optim.Optimizer;
import io.github.pathsgd.core.tensor.Tensor;
import io.github.pathsgd.core.util.Rng;

/** Test harness: a tiny 5-7-6-3 network, random data and factors, training steps with reproducible dropout. */
final class Harness {
  static final DenseChain LAYOUT = new DenseChain(5, 7, 6, 3);
  static final int B = 8;

  final Rng rng;
  final float[][] batches;
  final int[][] labels;

  Harness(long seed, int steps) {
    rng = new Rng(seed);
    Rng d = rng.split("data");
    batches = new float[steps][B * LAYOUT.inputs()];
    labels = new int[steps][B];
    for (int s = 0; s < steps; s++) {
      for (int i = 0; i < batches[s].length; i++) {
        batches[s][i] = (float) d.nextGaussian();
      }
      for (int b = 0; b < B; b++) {
        labels[s][b] = d.nextInt(LAYOUT.outputs());
      }
    }
  }

  /** Balanced init plus small random biases (so the bias convention matters). */
  LayerNet net() {
    LayerNet net = Init.balanced(LAYOUT, rng.split("init"));
    Rng r = rng.split("bias");
    for (int l = 0; l < LAYOUT.layers(); l++) {
      for (int v = 0; v < LAYOUT.out(l); v++) {
        net.params().set(LAYOUT.biasOffset(l) + v, (float) (0.1 * r.nextGaussian()));
      }
    }
    return net;
  }

  /** factors[l][v] = e^{N(0,1)} for hidden layers (optionally with |log c| at least minLog). */
  double[][] factors(double minLog) {
    Rng r = rng.split("factors");
    double[][] f = new double[LAYOUT.layers() + 1][];
    for (int l = 1; l < LAYOUT.layers(); l++) {
      f[l] = new double[LAYOUT.width(l)];
      for (int v = 0; v < f[l].length; v++) {
        double z = r.nextGaussian();
        if (Math.abs(z) < minLog) {
          z = z < 0 ? -minLog : minLog;
        }
        f[l][v] = Math.exp(z);
      }
    }
    return f;
  }

  static double[][] inverse(double[][] f) {
    double[][] g = new double[f.length][];
    for (int l = 0; l < f.length; l++) {
      if (f[l] != null) {
        g[l] = new double[f[l].length];
        for (int v = 0; v < f[l].length; v++) {
          g[l][v] = 1 / f[l][v];
        }
      }
    }
    return g;
  }

  /** Steps [from, to) of training with the given dropout; masks come from an Rng seeded by the step index. */
  void train(LayerNet net, Optimizer opt, OptState st, int from, int to, Dropout dropout) {
    Network.Workspace ws = net.workspace(B);
    Tensor g = new Tensor(LAYOUT.size());
    for (int s = from; s < to; s++) {
      ws.input().copyFrom(batches[s], 0, 0, batches[s].length);
      net.lossAndGradient(ws, B, labels[s], 0, g, dropout, new Rng(1000 + s));
      opt.step(net.params(), g, st);
    }
  }

  /** max over layers of ‖a_l − b_l‖_∞ / ‖a_l‖_∞ (weights and bias of a layer together). */
  static double layerRelDiff(LayerNet a, LayerNet b) {
    double worst = 0;
    for (int l = 0; l < LAYOUT.layers(); l++) {
      double num = 0;
      double den = 0;
      int from = LAYOUT.weightOffset(l);
      int to = LAYOUT.biasOffset(l) + LAYOUT.out(l);
      for (int i = from; i < to; i++) {
        num = Math.max(num, Math.abs(a.params().get(i) - b.params().get(i)));
        den = Math.max(den, Math.abs(a.params().get(i)));
      }
      worst = Math.max(worst, num / den);
    }
    return worst;
  }

  float[] testBatch() {
    Rng r = rng.split("test");
    float[] x = new float[32 * LAYOUT.inputs()];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) r.nextGaussian();
    }
    return x;
  }
}
