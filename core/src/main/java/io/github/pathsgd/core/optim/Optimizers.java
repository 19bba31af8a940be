package io.github.pathsgd.core.optim;

import static io.github.pathsgd.core.optim.Transforms.chain;
import static io.github.pathsgd.core.optim.Transforms.scale;
import static io.github.pathsgd.core.optim.Transforms.scaleByRss;
import static io.github.pathsgd.core.optim.Transforms.trace;

/**
 * The standard optimizers as chains of {@link Transforms}.
 *
 * <table>
 *   <caption>Optimizers and their updates (g is the mini-batch gradient of the mean loss)</caption>
 *   <tr><th>name</th><th>update</th><th>PyTorch equivalent</th></tr>
 *   <tr><td>sgd</td><td>θ ← θ − η·g</td><td>{@code SGD(lr)}</td></tr>
 *   <tr><td>sgd + momentum μ</td><td>v ← μ·v + g; θ ← θ − η·v (Nesterov: θ ← θ − η·(g + μ·v))</td>
 *       <td>{@code SGD(lr, momentum, nesterov)}</td></tr>
 *   <tr><td>adagrad</td><td>G ← G + g²; θ ← θ − η·g/(√G + ε)</td><td>{@code Adagrad(lr, eps)}</td></tr>
 * </table>
 */
public final class Optimizers {
  private Optimizers() {}

  /** Plain SGD. */
  public static Optimizer sgd(double lr) {
    checkLr(lr);
    return Optimizer.fusedSgd("sgd", chain(scale(-lr)), lr);
  }

  /** SGD with heavy-ball (or Nesterov) momentum μ; μ = 0 is plain SGD. */
  public static Optimizer sgd(double lr, double momentum, boolean nesterov) {
    checkLr(lr);
    if (momentum == 0 && !nesterov) {
      return sgd(lr);
    }
    if (nesterov && momentum == 0) {
      throw new IllegalArgumentException("Nesterov momentum requires momentum > 0");
    }
    return new Optimizer("sgd", chain(trace(momentum, nesterov), scale(-lr)), lr);
  }

  /** AdaGrad with PyTorch's defaults: ε = 1e-10 outside the square root, accumulator starting at 0. */
  public static Optimizer adagrad(double lr) {
    return adagrad(lr, 1e-10, 0.0);
  }

  /** AdaGrad; see {@link Transforms#scaleByRss}. */
  public static Optimizer adagrad(double lr, double eps, double initialAccumulator) {
    checkLr(lr);
    return new Optimizer("adagrad", chain(scaleByRss(eps, initialAccumulator), scale(-lr)), lr);
  }

  static void checkLr(double lr) {
    if (!(lr > 0) || Double.isInfinite(lr)) {
      throw new IllegalArgumentException("learning rate must be a positive finite number, got " + lr);
    }
  }
}
