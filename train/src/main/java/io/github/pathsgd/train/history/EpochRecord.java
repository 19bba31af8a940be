package io.github.pathsgd.train.history;

import io.github.pathsgd.core.geometry.ModelNorms;

/**
 * The measurements after one epoch (epoch 0 is the initialization, before any step). Losses are mean
 * cross-entropies, errors are fractions in [0, 1]. A split that was not measured is NaN.
 *
 * @param seconds wall time of the epoch's training steps (without evaluation)
 * @param evalSeconds wall time of the evaluation passes
 * @param kappaClamped Path-SGD: coordinates whose κ hit the floor at the epoch's last step (0 for other optimizers)
 * @param norms the network's norms after the epoch ({@link ModelNorms}); null when not recorded
 * @param normSeconds wall time of computing {@code norms}; NaN when not recorded
 */
public record EpochRecord(int epoch, double trainLoss, double trainError, double validationLoss,
    double validationError, double testLoss, double testError, double seconds, double evalSeconds,
    double kappaClamped, ModelNorms norms, double normSeconds) {
  /** A record without norms. */
  public EpochRecord(int epoch, double trainLoss, double trainError, double validationLoss, double validationError,
      double testLoss, double testError, double seconds, double evalSeconds, double kappaClamped) {
    this(epoch, trainLoss, trainError, validationLoss, validationError, testLoss, testError, seconds, evalSeconds,
        kappaClamped, null, Double.NaN);
  }

  /** This record with the norms {@code n}, computed in {@code s} seconds. */
  public EpochRecord withNorms(ModelNorms n, double s) {
    return new EpochRecord(epoch, trainLoss, trainError, validationLoss, validationError, testLoss, testError, seconds,
        evalSeconds, kappaClamped, n, s);
  }
}
