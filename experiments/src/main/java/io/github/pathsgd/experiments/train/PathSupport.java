package io.github.pathsgd.experiments.train;

import io.github.pathsgd.core.geometry.Unbalance;
import io.github.pathsgd.core.nn.Mlp;
import io.github.pathsgd.core.optim.PathSgdOptions;
import io.github.pathsgd.core.geometry.Rescaling;
import io.github.pathsgd.core.util.Rng;
import io.github.pathsgd.experiments.config.TrainConfig;

/** Maps config keys onto the path-geometry package. */
final class PathSupport {
  private PathSupport() {}

  /** Path-SGD's g ⊘ κ transform with the config's p, bias policy, κ cadence and ratio option; default κ floors. */
  static PathSgdOptions options(TrainConfig cfg) {
    PathSgdOptions d = PathSgdOptions.DEFAULT;
    return new PathSgdOptions(cfg.p(), cfg.pathBiases(), cfg.kappaEvery(), d.absoluteFloor(), d.relativeFloor(),
        cfg.pathRatio());
  }

  /**
   * The paper's unbalanced initialization with the config's density ({@code unbalance_count}: an absolute total over
   * all hidden layers if set, else {@code unbalance_fraction} of each hidden layer), factor form and log-normal
   * parameters.
   */
  static Unbalance unbalanceOptions(TrainConfig cfg) {
    TrainConfig c = cfg.resolve();
    Unbalance.Density d = c.unbalanceCount() != null ? new Unbalance.Total(c.unbalanceCount())
        : new Unbalance.PerLayer(c.unbalanceFraction());
    return new Unbalance(d, Unbalance.FactorForm.parse(c.unbalanceFactor()), c.unbalanceMu(),
        c.unbalanceSigma());
  }

  /** {@link Rescaling#unbalanceChecked}: throws {@link Rescaling.Refused} for an overflowing or inexact result. */
  static double[][] unbalance(Mlp net, TrainConfig cfg, Rng rng) {
    return Rescaling.unbalanceChecked(net, unbalanceOptions(cfg), rng);
  }
}
