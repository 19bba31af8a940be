package io.github.pathsgd.core.geometry;

import io.github.pathsgd.core.nn.DenseChain;
import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.core.tensor.Tensor;
import io.github.pathsgd.core.util.Rng;

/** Test helpers: random small networks and a brute-force path enumerator in double. */
final class TestNets {
  private TestNets() {}

  /** A network with i.i.d. N(0, 1) weights and biases (biases nonzero so bias-rooted paths matter). */
  static LayerNet random(DenseChain lay, Rng rng) {
    LayerNet net = LayerNet.dense(lay);
    for (int i = 0; i < lay.size(); i++) {
      net.params().set(i, (float) rng.nextGaussian());
    }
    return net;
  }

  /** Random widths of the given depth (number of weight layers), each in [1, 4]. */
  static DenseChain randomLayout(int depth, Rng rng) {
    int[] w = new int[depth + 1];
    for (int i = 0; i <= depth; i++) {
      w[i] = 1 + rng.nextInt(4);
    }
    return new DenseChain(w);
  }

  /**
   * φ_p by enumerating every path explicitly: from every input unit and, with biases, from the constant-1 source into
   * every non-input unit, to every output; p = ∞ gives the max path product.
   */
  static double bruteForcePhi(DenseChain lay, Tensor params, double p, boolean biases) {
    double[] acc = {0};
    int L = lay.layers();
    for (int i = 0; i < lay.inputs(); i++) {
      walk(lay, params, 0, i, 1.0, p, acc);
    }
    if (biases) {
      for (int l = 0; l < L; l++) {
        for (int v = 0; v < lay.out(l); v++) {
          double b = Math.abs(params.get(lay.biasOffset(l) + v));
          walk(lay, params, l + 1, v, b, p, acc);
        }
      }
    }
    return Double.isInfinite(p) ? acc[0] : Math.pow(acc[0], 1 / p);
  }

  /** Continues a path that has reached unit u of width index i with |product| prod. */
  private static void walk(DenseChain lay, Tensor w, int i, int u, double prod, double p, double[] acc) {
    if (i == lay.layers()) {
      acc[0] = Double.isInfinite(p) ? Math.max(acc[0], prod) : acc[0] + Math.pow(prod, p);
      return;
    }
    for (int v = 0; v < lay.out(i); v++) {
      double wv = Math.abs(w.get(lay.weightOffset(i) + v * lay.in(i) + u));
      walk(lay, w, i + 1, v, prod * wv, p, acc);
    }
  }
}
