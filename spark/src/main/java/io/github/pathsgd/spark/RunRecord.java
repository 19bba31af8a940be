package io.github.pathsgd.spark;

import java.io.Serializable;
import java.util.List;

/**
 * What a task hands back to the driver, and what the result store keeps as a run's {@code record.json}: which run it
 * is, the config it trained, and where and what its files are, never the files themselves (a few hundred bytes
 * whatever the model's size).
 *
 * @param index the run's index in the plan
 * @param runId the run id (12 hex digits)
 * @param configHash the full SHA-256 config hash the run id is cut from ({@link
 *     io.github.pathsgd.experiments.config.ConfigHash#configHash})
 * @param folder the attempt folder in the run's store entry that holds the files ({@code attempt-APP-TASK})
 * @param files each result file's name, size and SHA-256, in the order they are installed
 * @param host the executor's host name
 * @param attempt the Spark task attempt number that trained it
 * @param seconds the task's time, training and upload
 * @param continuedAfter the epoch the run continued after from its previous halving rung's checkpoint ({@link
 *     io.github.pathsgd.experiments.sweep.SweepTasks#continueFrom}), 0 when it trained from epoch 0 (or resumed its
 *     own checkpoint)
 */
public record RunRecord(int index, String runId, String configHash, String folder, List<FileSum> files, String host,
    int attempt, double seconds, int continuedAfter) implements Serializable {

  /** One result file: its name, size in bytes and SHA-256 (hex). */
  public record FileSum(String name, long bytes, String sha256) implements Serializable {}

  /** The same record as seen by another task attempt (which found it committed already). */
  RunRecord seenBy(String host, int attempt, double seconds) {
    return new RunRecord(index, runId, configHash, folder, files, host, attempt, seconds, continuedAfter);
  }
}
