package io.github.pathsgd.train.history;

/**
 * The measurements after one epoch (epoch 0 is the initialization, before any step). Losses are mean
 * cross-entropies, errors are fractions in [0, 1]. A split that was not measured is NaN.
 *
 * @param seconds wall time of the epoch's training steps (without evaluation)
 * @param evalSeconds wall time of the evaluation passes
 * @param kappaClamped Path-SGD: coordinates whose κ hit the floor at the epoch's last step (0 for other optimizers)
 */
public record EpochRecord(int epoch, double trainLoss, double trainError, double validationLoss,
    double validationError, double testLoss, double testError, double seconds, double evalSeconds,
    double kappaClamped) {}
