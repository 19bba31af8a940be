package io.github.pathsgd.core.nn;

import io.github.pathsgd.core.tensor.Tensor;
import java.nio.FloatBuffer;

/**
 * The loss at a network's output, as a {@link Network.Workspace} carries it ({@link Network.Workspace#loss(Loss)}):
 * softmax cross-entropy over class labels (the default, {@link #SOFTMAX_CROSS_ENTROPY}) or the mean squared error of
 * one real output against real targets ({@link #mse}), the adding problem's loss (docs/rnn.md).
 *
 * <p>{@link #apply} writes into {@code out} the summed loss over the B rows ({@code out[0]}) and the count of rows
 * that are wrong ({@code out[1]}), and, when {@code delta} is not null, dL/d(output) of the <em>mean</em> loss over the
 * batch.
 */
public interface Loss {
  /**
   * The absolute error at or above which a regression row counts as wrong: 0.04, the criterion of Hochreiter and
   * Schmidhuber's adding problem (LSTM, 1997: a sequence is processed correctly when the absolute error at its end is
   * below 0.04).
   */
  double REGRESSION_TOLERANCE = 0.04;

  /** Softmax cross-entropy over the labels ({@link Layers#softmaxCrossEntropy}); a row is wrong when its argmax is. */
  Loss SOFTMAX_CROSS_ENTROPY = new Loss() {
    @Override
    public void apply(Tensor out, int[] labels, int yOff, int B, int K, Tensor delta, double[] result) {
      Layers.softmaxCrossEntropy(out, labels, yOff, B, K, delta, result);
    }

    @Override
    public String toString() {
      return "softmax cross-entropy";
    }
  };

  /**
   * Writes the loss of the outputs {@code out} (B rows of K) into {@code result} (the sum over rows, and the count of
   * wrong rows) and, if {@code delta} is not null, the gradient of the mean loss with respect to {@code out}.
   *
   * @param labels class labels, row b's at {@code labels[yOff + b]} (read by the cross-entropy only)
   */
  void apply(Tensor out, int[] labels, int yOff, int B, int K, Tensor delta, double[] result);

  /**
   * Mean squared error of one output against {@code targets}: row b's target is {@code targets[yOff + b]} (the array
   * is read at each call, so a caller may refill it between steps). Loss (y − t)² per row, so the mean loss is the MSE;
   * the gradient of the mean is 2(y − t)/B; a row is wrong when |y − t| ≥ {@link #REGRESSION_TOLERANCE}. Refuses
   * K ≠ 1 outputs and rows beyond the targets.
   */
  static Loss mse(float[] targets) {
    if (targets == null) {
      throw new IllegalArgumentException("mse: the targets are null; expected one float per row");
    }
    return new Loss() {
      @Override
      public void apply(Tensor out, int[] labels, int yOff, int B, int K, Tensor delta, double[] result) {
        if (K != 1) {
          throw new IllegalArgumentException("mse: the network has " + K + " outputs, expected 1 (one real output "
              + "per row: the regression target)");
        }
        if (yOff < 0 || yOff + B > targets.length) {
          throw new IllegalArgumentException("mse: rows " + yOff + ".." + (yOff + B) + " read past the "
              + targets.length + " targets");
        }
        FloatBuffer o = out.buffer();
        FloatBuffer d = delta == null ? null : delta.buffer();
        double sum = 0;
        int wrong = 0;
        double scale = 2.0 / B;
        for (int b = 0; b < B; b++) {
          double e = (double) o.get(b) - targets[yOff + b];
          sum += e * e;
          if (!(Math.abs(e) < REGRESSION_TOLERANCE)) {
            wrong++;
          }
          if (d != null) {
            d.put(b, (float) (scale * e));
          }
        }
        result[0] = sum;
        result[1] = wrong;
      }

      @Override
      public String toString() {
        return "mean squared error";
      }
    };
  }
}
