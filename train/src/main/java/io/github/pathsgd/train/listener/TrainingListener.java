package io.github.pathsgd.train.listener;

import io.github.pathsgd.train.history.EpochRecord;

/** Hooks for progress display and result streaming. All methods are optional. */
public interface TrainingListener {
  /** Called once; {@code firstEpoch} is 1, or later when resuming. */
  default void onStart(int firstEpoch, int epochs, int stepsPerEpoch) {}

  /** Called once when a run resumes from a checkpoint, with the epochs recorded before it was interrupted. */
  default void onResume(java.util.List<EpochRecord> earlier) {}

  /** Called after every mini-batch step with its (mean) loss. */
  default void onStep(int epoch, int step, double loss) {}

  /** Called after each epoch's evaluation (also for epoch 0). */
  default void onEpoch(EpochRecord record) {}

  /** Called after the epoch's checkpoint is on disk. */
  default void onCheckpoint(int epoch) {}

  TrainingListener NONE = new TrainingListener() {};
}
