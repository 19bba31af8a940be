package io.github.pathsgd.core.optim;

import static io.github.pathsgd.core.optim.Transforms.chain;
import static io.github.pathsgd.core.optim.Transforms.scale;
import static io.github.pathsgd.core.optim.Transforms.trace;

import io.github.pathsgd.core.path.PathSgd;
import io.github.pathsgd.core.path.PathSgdOptions;

/**
 * Path-SGD optimizers (Neyshabur, Salakhutdinov and Srebro, "Path-SGD: Path-Normalized Optimization in Deep Neural
 * Networks", NIPS 2015, Algorithm 1; chapter arXiv:1705.03071), as chains of {@link PathSgd#normalize} and the
 * elementary {@link Transforms}:
 *
 * <pre>
 *   path-sgd:             w ← w − η · ∇L ⊘ κ(w),       κ_{u→v} = (γ_in(u)·γ_out(v))^{2/p}
 *   path-sgd + momentum:  v ← μ·v + ∇L ⊘ κ(w);  w ← w − η·v   (Nesterov: w ← w − η·(∇L ⊘ κ + μ·v))
 * </pre>
 *
 * Both are exactly invariant under node-wise rescaling (the momentum buffer transforms like a gradient). The paper
 * itself uses no momentum; the authors' PyTorch code uses μ = 0.9.
 */
public final class PathOptimizers {
  /** The optimizer name used in configurations and reports. */
  public static final String NAME = "path-sgd";

  private PathOptimizers() {}

  /** Path-SGD with exponent p and the default options: chain(pathNormalize(p), scale(−η)). */
  public static Optimizer pathSgd(double lr, double p) {
    return pathSgd(lr, PathSgdOptions.ofP(p), 0, false);
  }

  /** Path-SGD with the given options and optional heavy-ball/Nesterov momentum μ (μ = 0: none). */
  public static Optimizer pathSgd(double lr, PathSgdOptions options, double momentum, boolean nesterov) {
    Optimizers.checkLr(lr);
    if (nesterov && momentum == 0) {
      throw new IllegalArgumentException("Nesterov momentum requires momentum > 0");
    }
    PathSgd normalize = PathSgd.normalize(options);
    if (momentum == 0) {
      return new Optimizer(NAME, chain(normalize, scale(-lr)), lr, normalize);
    }
    return new Optimizer(NAME, chain(normalize, trace(momentum, nesterov), scale(-lr)), lr);
  }

  /** Path-SGD with exponent p, default options and momentum: chain(pathNormalize, trace(μ, nesterov), scale(−η)). */
  public static Optimizer pathSgd(double lr, double p, double momentum, boolean nesterov) {
    return pathSgd(lr, PathSgdOptions.ofP(p), momentum, nesterov);
  }
}
