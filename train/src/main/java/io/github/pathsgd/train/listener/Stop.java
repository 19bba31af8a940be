package io.github.pathsgd.train.listener;

import io.github.pathsgd.train.history.RunResult;

/**
 * A listener's decision to end a run.
 *
 * @param status {@link RunResult#COMPLETED} or {@link RunResult#DIVERGED}
 * @param reason why, in words (the run's stop reason)
 */
public record Stop(String status, String reason) {
  public static Stop completed(String reason) {
    return new Stop(RunResult.COMPLETED, reason);
  }

  public static Stop diverged(String reason) {
    return new Stop(RunResult.DIVERGED, reason);
  }
}
