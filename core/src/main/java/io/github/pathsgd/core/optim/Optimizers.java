package io.github.pathsgd.core.optim;

import static io.github.pathsgd.core.optim.Transforms.chain;
import static io.github.pathsgd.core.optim.Transforms.identity;
import static io.github.pathsgd.core.optim.Transforms.scale;
import static io.github.pathsgd.core.optim.Transforms.scaleByRss;
import static io.github.pathsgd.core.optim.Transforms.trace;

/**
 * The standard optimizers as chains of {@link Transforms} and {@link PathNormalize} (optax's {@code alias.py}).
 *
 * <table>
 *   <caption>Optimizers and their updates (g is the mini-batch gradient of the mean loss)</caption>
 *   <tr><th>name</th><th>update</th><th>PyTorch equivalent</th></tr>
 *   <tr><td>sgd</td><td>θ ← θ − η·g</td><td>{@code SGD(lr)}</td></tr>
 *   <tr><td>sgd + momentum μ</td><td>v ← μ·v + g; θ ← θ − η·v (Nesterov: θ ← θ − η·(g + μ·v))</td>
 *       <td>{@code SGD(lr, momentum, nesterov)}</td></tr>
 *   <tr><td>adagrad</td><td>G ← G + g²; θ ← θ − η·g/(√G + ε)</td><td>{@code Adagrad(lr, eps)}</td></tr>
 *   <tr><td>path-sgd</td><td>w ← w − η · ∇L ⊘ κ(w), κ_{u→v} = (γ_in(u)·γ_out(v))^{2/p}</td><td>(none)</td></tr>
 *   <tr><td>path-sgd + momentum μ</td><td>v ← μ·v + ∇L ⊘ κ(w); w ← w − η·v (Nesterov: w ← w − η·(∇L ⊘ κ + μ·v))</td>
 *       <td>(none)</td></tr>
 * </table>
 *
 * Path-SGD: Neyshabur, Salakhutdinov and Srebro, "Path-SGD: Path-Normalized Optimization in Deep Neural Networks",
 * NIPS 2015, Algorithm 1 (chapter arXiv:1705.03071). Both Path-SGD forms are exactly invariant under node-wise
 * rescaling (the momentum buffer transforms like a gradient). The paper itself uses no momentum; the authors' PyTorch
 * code uses μ = 0.9. Chains without momentum are {@link Foldable}: their steps are folded into the GEMMs.
 */
public final class Optimizers {
  /** The Path-SGD optimizer's name in configurations and reports. */
  public static final String PATH_SGD = "path-sgd";

  private Optimizers() {}

  /** Plain SGD: chain(scale(−η)). */
  public static Optimizer sgd(double lr) {
    checkLr(lr);
    return new Optimizer("sgd", chain(scale(-lr)), lr);
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

  /** Path-SGD with exponent p and the default options: chain(path_normalize(p), scale(−η)). */
  public static Optimizer pathSgd(double lr, double p) {
    return pathSgd(lr, PathSgdOptions.ofP(p), 0, false);
  }

  /** Path-SGD with exponent p, default options and momentum: chain(path_normalize, trace(μ, nesterov), scale(−η)). */
  public static Optimizer pathSgd(double lr, double p, double momentum, boolean nesterov) {
    return pathSgd(lr, PathSgdOptions.ofP(p), momentum, nesterov);
  }

  /** Path-SGD with the given options and optional heavy-ball/Nesterov momentum μ (μ = 0: none). */
  public static Optimizer pathSgd(double lr, PathSgdOptions options, double momentum, boolean nesterov) {
    checkLr(lr);
    if (nesterov && momentum == 0) {
      throw new IllegalArgumentException("Nesterov momentum requires momentum > 0");
    }
    return new Optimizer(PATH_SGD, chain(PathNormalize.of(options), momentum(momentum, nesterov), scale(-lr)), lr);
  }

  /** {@code trace(μ, nesterov)}, or the identity for μ = 0. */
  static GradientTransform<?> momentum(double mu, boolean nesterov) {
    return mu == 0 ? identity() : trace(mu, nesterov);
  }

  static void checkLr(double lr) {
    if (!(lr > 0) || Double.isInfinite(lr)) {
      throw new IllegalArgumentException("learning rate must be a positive finite number, got " + lr);
    }
  }
}
