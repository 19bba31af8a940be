package io.github.pathsgd.core.rnn;

import io.github.pathsgd.core.tensor.Tensor;
import java.nio.FloatBuffer;

/**
 * Path-SGD's coordinate-wise step on an RNN's parameters, with heavy-ball momentum: v ← μ·v + g/κ, θ ← θ − η·v, κ
 * from {@link RnnGeometry} (κ^(1) only, the paper's first variant, or κ^(1) + κ^(2)). Under a node rescaling, g/κ
 * transforms like θ, so the step commutes with it (RnnInvarianceTest). A stand-alone step until the op graph connects
 * κ to core's optimizer chain.
 */
public final class RnnPathSgd {
  private RnnPathSgd() {}

  /** One step in double; {@code velocity} may be null when {@code momentum} is 0. */
  public static void step(double[] w, double[] grad, RnnKappa k, boolean withSecond, double lr, double momentum,
      double[] velocity, double floor) {
    for (int i = 0; i < w.length; i++) {
      double u = k.divide(grad[i], i, withSecond, floor);
      if (momentum != 0) {
        u = momentum * velocity[i] + u;
        velocity[i] = u;
      }
      w[i] -= lr * u;
    }
  }

  /** One step on float parameters; the update is formed in double and rounded once per coordinate. */
  public static void step(Tensor w, int off, Tensor grad, int gOff, RnnKappa k, boolean withSecond, double lr,
      double momentum, double[] velocity, double floor) {
    FloatBuffer wb = w.buffer();
    FloatBuffer gb = grad.buffer();
    int n = k.layout().size();
    for (int i = 0; i < n; i++) {
      double u = k.divide(gb.get(gOff + i), i, withSecond, floor);
      if (momentum != 0) {
        u = momentum * velocity[i] + u;
        velocity[i] = u;
      }
      wb.put(off + i, (float) (wb.get(off + i) - lr * u));
    }
  }
}
