package io.github.pathsgd.core.optim;

import io.github.pathsgd.core.nn.NetLayout;
import io.github.pathsgd.core.tensor.Tensor;
import java.nio.FloatBuffer;

/**
 * Gradient clipping by global norm (optax's {@code clip_by_global_norm}; the IRNN protocol clips at norm 1, Le, Jaitly
 * and Hinton 2015, arXiv:1504.00941): when ‖u‖₂ over every parameter exceeds {@code maxNorm}, u ← u·maxNorm/‖u‖₂
 * (the factor rounded to float); otherwise u is left as it is, as it is when the norm is not finite (the loss then
 * reports the NaN). The norm is summed in double.
 *
 * <p>Put first in a chain, it clips the raw mini-batch gradient, before Path-SGD's division by κ, AdaGrad's scaling or
 * momentum: the threshold then means the same for every optimizer (IRNN's criterion on the gradient). A clipped step
 * is not invariant under node rescaling (‖g‖₂ is not), so Path-SGD with clipping is invariant only on the steps the
 * clip leaves alone. State: the step count only.
 */
public final class ClipByNorm implements GradientTransform<Transforms.CountState> {
  private final double maxNorm;

  private ClipByNorm(double maxNorm) {
    this.maxNorm = maxNorm;
  }

  /** Clipping at {@code maxNorm} > 0 (finite). */
  public static ClipByNorm of(double maxNorm) {
    if (!(maxNorm > 0) || Double.isInfinite(maxNorm)) {
      throw new IllegalArgumentException("clip norm must be a positive finite number, got " + maxNorm);
    }
    return new ClipByNorm(maxNorm);
  }

  /** The threshold. */
  public double maxNorm() {
    return maxNorm;
  }

  @Override
  public Transforms.CountState init(NetLayout layout) {
    return new Transforms.CountState(layout);
  }

  @Override
  public void update(Tensor u, Transforms.CountState state, Tensor params) {
    FloatBuffer g = u.buffer();
    int n = u.size();
    double s = 0;
    for (int i = 0; i < n; i++) {
      double v = g.get(i);
      s += v * v;
    }
    double norm = Math.sqrt(s);
    if (norm > maxNorm && Double.isFinite(norm)) {
      float f = (float) (maxNorm / norm);
      for (int i = 0; i < n; i++) {
        g.put(i, g.get(i) * f);
      }
    }
    state.advance();
  }

  @Override
  public String describe() {
    return "clip_by_global_norm(" + maxNorm + ")";
  }
}
