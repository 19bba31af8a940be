package io.github.pathsgd.experiments.train;

import static io.github.pathsgd.core.optim.Transforms.chain;
import static io.github.pathsgd.core.optim.Transforms.scale;
import static io.github.pathsgd.core.optim.Transforms.scaleByRss;
import static io.github.pathsgd.core.optim.Transforms.trace;

import io.github.pathsgd.core.nn.Mlp;
import io.github.pathsgd.core.optim.GradientTransform;
import io.github.pathsgd.core.optim.Optimizer;
import io.github.pathsgd.core.optim.Optimizers;
import io.github.pathsgd.core.geometry.Rescaling;
import io.github.pathsgd.core.util.Rng;
import io.github.pathsgd.experiments.config.ConfigException;
import io.github.pathsgd.experiments.config.TrainConfig;
import java.util.ArrayList;
import java.util.List;

/** Builds the optimizer and the unbalanced initialization a {@link TrainConfig} names. */
public final class OptimizerFactory {
  private OptimizerFactory() {}

  /**
   * The optimizer: {@code sgd} = [trace(μ)] → scale(-η); {@code adagrad} = scale_by_rss(ε) → [trace(μ)] → scale(-η);
   * {@code path-sgd} = path_normalize(p) → [trace(μ)] → scale(-η). Momentum composes with each.
   */
  public static Optimizer create(TrainConfig cfg) {
    List<GradientTransform> ts = new ArrayList<>();
    switch (cfg.optimizer()) {
      case "sgd":
        return Optimizers.sgd(cfg.lr(), cfg.momentum(), cfg.nesterov());
      case "adagrad":
        ts.add(scaleByRss(cfg.adagradEps(), 0.0));
        break;
      case "path-sgd":
        return Optimizers.pathSgd(cfg.lr(), PathSupport.options(cfg), cfg.momentum(),
            cfg.nesterov());
      default:
        throw new ConfigException("optimizer", "unknown optimizer '" + cfg.optimizer() + "'");
    }
    if (cfg.momentum() > 0) {
      ts.add(trace(cfg.momentum(), cfg.nesterov()));
    }
    ts.add(scale(-cfg.lr()));
    return new Optimizer(cfg.optimizer(), chain(ts.toArray(GradientTransform[]::new)), cfg.lr());
  }

  /**
   * Applies the paper's unbalanced initialization to a balanced network, in place, with the config's density ({@code
   * unbalance_fraction} of each hidden layer, default 0.25, or an absolute {@code unbalance_count}), factor and
   * log-normal, and checks the result ({@link Rescaling#unbalanceChecked}).
   *
   * @return the per-unit products of the factors applied, {@code f[l][v]} for the hidden layers l = 1..L−1
   * @throws Rescaling.Refused (an IllegalArgumentException) if a rescaled weight or bias would overflow to infinity or
   *     underflow to zero or a subnormal float, or the result is not equivalent to the balanced network; one line
   *     naming the largest factor with its layer and unit; {@code net} is then unchanged
   */
  public static double[][] unbalance(Mlp net, TrainConfig cfg, Rng rng) {
    return PathSupport.unbalance(net, cfg, rng);
  }
}
