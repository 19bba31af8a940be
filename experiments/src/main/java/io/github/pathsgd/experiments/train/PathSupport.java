package io.github.pathsgd.experiments.train;

import io.github.pathsgd.core.nn.Mlp;
import io.github.pathsgd.core.path.PathSgdOptions;
import io.github.pathsgd.core.path.Rescaling;
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

  /** The paper's unbalanced initialization with the config's count, factor form and log-normal parameters. */
  static Rescaling.Unbalance unbalanceOptions(TrainConfig cfg) {
    return new Rescaling.Unbalance(cfg.unbalanceCount(),
        cfg.unbalanceFactor().equals("10^c") ? Rescaling.FactorForm.TEN_TO_THE_C : Rescaling.FactorForm.TEN_TIMES_C,
        cfg.unbalanceMu(), cfg.unbalanceSigma());
  }

  static void unbalance(Mlp net, TrainConfig cfg, Rng rng) {
    Rescaling.unbalance(net, unbalanceOptions(cfg), rng);
  }
}
