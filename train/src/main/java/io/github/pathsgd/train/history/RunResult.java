package io.github.pathsgd.train.history;

import io.github.pathsgd.core.nn.Network;
import java.util.List;

/**
 * The outcome of a training run.
 *
 * @param status "completed" or "diverged"
 * @param reason why the run stopped, in words
 * @param epochsCompleted the number of full training epochs done
 * @param history one record per epoch, epoch 0 (the initialization) first
 * @param network the final network
 */
public record RunResult(String status, String reason, int epochsCompleted, List<EpochRecord> history, Network network) {
  public static final String COMPLETED = "completed";
  public static final String DIVERGED = "diverged";

  public EpochRecord last() {
    return history.get(history.size() - 1);
  }
}
