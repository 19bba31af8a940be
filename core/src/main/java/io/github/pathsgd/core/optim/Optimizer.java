package io.github.pathsgd.core.optim;

import io.github.pathsgd.core.nn.NetLayout;
import io.github.pathsgd.core.tensor.Blas;
import io.github.pathsgd.core.tensor.Tensor;

/**
 * A named {@link GradientTransform} that ends in {@code scale(-lr)}, together with the rule that applies its updates:
 * {@code θ ← θ + u} (optax's {@code apply_updates}). Factories for the standard optimizers are in {@link Optimizers};
 * a training step, folded into the GEMMs when the transform is {@link Foldable}, is {@code core.step.TrainStep}.
 */
public final class Optimizer {
  private final String name;
  private final GradientTransform<?> transform;
  private final double lr;

  public Optimizer(String name, GradientTransform<?> transform, double lr) {
    this.name = name;
    this.transform = transform;
    this.lr = lr;
  }

  public String name() {
    return name;
  }

  public GradientTransform<?> transform() {
    return transform;
  }

  /** The step size η. */
  public double lr() {
    return lr;
  }

  public OptState init(NetLayout layout) {
    return transform.init(layout);
  }

  /**
   * One step: transforms {@code grads} into updates in place (so {@code grads} is consumed), then adds them to
   * {@code params}.
   */
  public void step(Tensor params, Tensor grads, OptState state) {
    transform.updateUnchecked(grads, state, params);
    Blas.saxpy(params.size(), 1f, grads, 0, params, 0);
  }

  @Override
  public String toString() {
    return name + ": " + transform.describe();
  }
}
