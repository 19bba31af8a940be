package io.github.pathsgd.core.rnn;

import io.github.pathsgd.core.tensor.Tensor;
import io.github.pathsgd.core.util.Rng;

/**
 * The two initializations of the RNN, as float32 values (returned in a double array so that double tests start from
 * exactly the float kernel's parameters).
 *
 * <ul>
 *   <li>{@link #random}: PyTorch's default for {@code nn.RNN} and {@code nn.Linear} with fan-in H: every weight and
 *       bias of the cell and of the output layer uniform in [−1/√H, 1/√H] (Debian python3-torch's
 *       {@code RNNBase.reset_parameters}; a Linear layer's default with fan-in H has the same bound).
 *   <li>{@link #irnn}: Le, Jaitly and Hinton 2015 (arXiv:1504.00941): W_rec = identity, hidden biases 0; input weights
 *       N(0, σ²) with σ = 0.001 (the settings of the paper's sequential-MNIST example as docs/rnn.md cites them); the
 *       output layer as in {@link #random} with b_out = 0.
 * </ul>
 */
public final class RnnInit {
  /** IRNN's input-weight standard deviation. */
  public static final double IRNN_INPUT_STD = 0.001;

  private RnnInit() {}

  /** PyTorch's default init, drawn from {@code rng} in parameter order. */
  public static double[] random(RnnLayout l, Rng rng) {
    double bound = 1 / Math.sqrt(l.hidden());
    double[] w = new double[l.size()];
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) ((2 * rng.nextDouble() - 1) * bound);
    }
    return w;
  }

  /** IRNN's init: W_in ~ N(0, 0.001²), W_rec = I, b = 0, W_out uniform ±1/√H, b_out = 0. */
  public static double[] irnn(RnnLayout l, Rng rng) {
    double[] w = new double[l.size()];
    for (int i = l.wIn(); i < l.wRec(); i++) {
      w[i] = (float) (IRNN_INPUT_STD * rng.nextGaussian());
    }
    for (int a = 0; a < l.hidden(); a++) {
      w[l.wRec() + a * l.hidden() + a] = 1;
    }
    double bound = 1 / Math.sqrt(l.hidden());
    for (int i = l.wOut(); i < l.bOut(); i++) {
      w[i] = (float) ((2 * rng.nextDouble() - 1) * bound);
    }
    return w;
  }

  /** The parameters as a float32 tensor. */
  public static Tensor toTensor(double[] w) {
    Tensor t = new Tensor(w.length);
    for (int i = 0; i < w.length; i++) {
      t.set(i, (float) w[i]);
    }
    return t;
  }
}
