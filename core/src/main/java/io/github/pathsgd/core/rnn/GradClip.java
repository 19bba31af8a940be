package io.github.pathsgd.core.rnn;

import io.github.pathsgd.core.tensor.Tensor;
import java.nio.FloatBuffer;

/**
 * Gradient clipping by norm, as the IRNN protocol uses it (Le, Jaitly and Hinton 2015, arXiv:1504.00941; its Keras
 * port clips at norm 1): when ‖g‖₂ over a range exceeds {@code maxNorm}, the range is scaled by maxNorm/‖g‖₂.
 */
public final class GradClip {
  private GradClip() {}

  /**
   * Clips {@code grads[off..off+len)} to Euclidean norm {@code maxNorm} in place; returns the norm before clipping
   * (summed in double). A non-finite norm leaves the gradient as it is (the caller sees it in the return value).
   */
  public static double clipByNorm(Tensor grads, int off, int len, double maxNorm) {
    if (!(maxNorm > 0) || Double.isInfinite(maxNorm)) {
      throw new IllegalArgumentException("clip norm must be positive and finite, got " + maxNorm);
    }
    FloatBuffer g = grads.buffer();
    double s = 0;
    for (int i = off; i < off + len; i++) {
      double v = g.get(i);
      s += v * v;
    }
    double norm = Math.sqrt(s);
    if (norm > maxNorm && Double.isFinite(norm)) {
      float f = (float) (maxNorm / norm);
      for (int i = off; i < off + len; i++) {
        g.put(i, g.get(i) * f);
      }
    }
    return norm;
  }
}
