package io.github.pathsgd.train.listener;

import io.github.pathsgd.train.history.EpochRecord;

/**
 * The early-stop rules: the epoch's training loss below {@code stop_train_loss} (0 = never), or a training error of 0
 * ({@code stop_at_zero_train_error}). The run then ends as completed.
 */
public final class StopRules implements TrainingListener {
  private final double stopTrainLoss;
  private final boolean stopAtZeroTrainError;

  public StopRules(double stopTrainLoss, boolean stopAtZeroTrainError) {
    this.stopTrainLoss = stopTrainLoss;
    this.stopAtZeroTrainError = stopAtZeroTrainError;
  }

  /** Why the run stops after epoch record {@code r}, or null. */
  @Override
  public Stop afterEpoch(EpochRecord r) {
    if (stopTrainLoss > 0 && r.trainLoss() < stopTrainLoss) {
      return Stop.completed("training loss " + r.trainLoss() + " fell below " + stopTrainLoss + " after epoch "
          + r.epoch());
    }
    if (stopAtZeroTrainError && r.trainError() == 0) {
      return Stop.completed("training error reached 0 after epoch " + r.epoch());
    }
    return null;
  }
}
