package io.github.pathsgd.experiments.demo;

import io.github.pathsgd.core.nn.DenseChain;
import io.github.pathsgd.core.nn.Dropout;
import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.core.nn.Network;
import io.github.pathsgd.core.optim.Optimizer;
import io.github.pathsgd.core.optim.Optimizers;
import io.github.pathsgd.core.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The chapter's toy illustration of rescaling sensitivity (arXiv:1705.03071, Figure 2(b); Path-SGD, NIPS 2015,
 * Figure 1; docs/paper-spec.md E2(b)): a chain network 1 → 1 → ... → 1 (ReLU hidden units, thresholds fixed at 0, linear
 * output) is given in two equivalent parameterizations, e.g. (1, 1, 1) and (0.1, 10, 1). From input x, with the output
 * gradient δ = ∂L/∂f given directly (δ = −1: "increase the output") and step size η, one step of SGD
 * (w ← w − η·∂L/∂w) and one step of Path-SGD (p = 2, w ← w − η·∂L/∂w ⊘ κ) are taken from each. Before the step both
 * compute the same output; after SGD they differ (4 vs 102.01 for the two-weight chain (1,1) vs (0.1,10)), after
 * Path-SGD they agree.
 *
 * <p>Pure computation with the library's own {@link LayerNet} forward pass (a fully connected one) and optimizers; the biases get zero gradient, so
 * they stay at 0.
 */
public final class RescalingDemo {
  private RescalingDemo() {}

  /** One parameterization: its weights, the output before, after one SGD step and after one Path-SGD step. */
  public record Row(double[] weights, double before, double afterSgd, double afterPathSgd, double[] weightsAfterSgd,
      double[] weightsAfterPathSgd) {}

  /** The rows of the demo and its settings. */
  public record Result(double x, double delta, double lr, List<Row> rows) {
    /** A plain-text table, one line per parameterization. */
    public String table() {
      StringBuilder sb = new StringBuilder();
      sb.append(String.format(Locale.ROOT, "chain network, x=%s, output gradient δ=%s, step size η=%s%n", x, delta, lr));
      sb.append(String.format(Locale.ROOT, "%-24s %10s %12s %14s%n", "weights", "f before", "f after SGD",
          "f after PathSGD"));
      for (Row r : rows) {
        sb.append(String.format(Locale.ROOT, "%-24s %10.4f %12.4f %14.4f%n", Arrays.toString(r.weights()), r.before(),
            r.afterSgd(), r.afterPathSgd()));
      }
      return sb.toString();
    }
  }

  /** The illustration with (1, 1, 1) vs (0.1, 10, 1), x = 1, δ = −1, η = 1. */
  public static Result paperExample() {
    return run(List.of(new double[] {1, 1, 1}, new double[] {0.1, 10, 1}), 1, -1, 1);
  }

  /**
   * Runs the demo for chain networks with the given weights (one array per parameterization, all of the same length
   * d ≥ 1: the chain has d weights and d−1 hidden units).
   */
  public static Result run(List<double[]> parameterizations, double x, double delta, double lr) {
    List<Row> rows = new ArrayList<>();
    for (double[] w : parameterizations) {
      double before = output(chain(w), x);
      LayerNet sgd = chain(w);
      step(sgd, Optimizers.sgd(lr), x, delta);
      LayerNet path = chain(w);
      step(path, Optimizers.pathSgd(lr, 2), x, delta);
      rows.add(new Row(w.clone(), before, output(sgd, x), output(path, x), weights(sgd), weights(path)));
    }
    return new Result(x, delta, lr, List.copyOf(rows));
  }

  private static LayerNet chain(double[] w) {
    int[] widths = new int[w.length + 1];
    Arrays.fill(widths, 1);
    DenseChain lay = new DenseChain(widths);
    LayerNet net = LayerNet.dense(lay);
    for (int l = 0; l < w.length; l++) {
      net.params().set(lay.weightOffset(l), (float) w[l]);
    }
    return net;
  }

  private static double[] weights(LayerNet net) {
    DenseChain lay = net.chain();
    double[] w = new double[lay.layers()];
    for (int l = 0; l < w.length; l++) {
      w[l] = net.params().get(lay.weightOffset(l));
    }
    return w;
  }

  private static double output(LayerNet net, double x) {
    Network.Workspace ws = net.workspace(1);
    ws.input().set(0, (float) x);
    return net.forward(ws, 1, Dropout.NONE, null).get(0);
  }

  /** Back-propagates the output gradient δ through the chain by hand, then applies one optimizer step. */
  private static void step(LayerNet net, Optimizer opt, double x, double delta) {
    DenseChain lay = net.chain();
    int d = lay.layers();
    double[] h = new double[d]; // h[k] = input of weight k
    h[0] = x;
    for (int k = 1; k < d; k++) {
      h[k] = Math.max(0, net.params().get(lay.weightOffset(k - 1)) * h[k - 1]);
    }
    Tensor g = new Tensor(lay.size()); // bias gradients stay 0: thresholds fixed
    double back = delta; // ∂L/∂(pre-activation of the unit after weight k)
    for (int k = d - 1; k >= 0; k--) {
      g.set(lay.weightOffset(k), (float) (back * h[k]));
      if (k > 0) {
        back = back * net.params().get(lay.weightOffset(k)) * (h[k] > 0 ? 1 : 0);
      }
    }
    opt.step(net.params(), g, opt.init(net.layout()));
  }
}
