package io.github.pathsgd.train.listener;

import io.github.pathsgd.train.history.EpochRecord;
import java.util.List;

/**
 * Hooks into the training loop: notifications for progress display and result streaming, and two checks after
 * which a listener may end the run ({@link #afterStep}, {@link #afterEpoch}). All methods are optional. A listener
 * may also throw {@link TrainingCancelled} from any hook to end the run at once, leaving its last checkpoint.
 */
public interface TrainingListener {
  /** Called once; {@code firstEpoch} is 1, or later when resuming. */
  default void onStart(int firstEpoch, int epochs, int stepsPerEpoch) {}

  /** Called once when a run resumes from a checkpoint, with the epochs recorded before it was interrupted. */
  default void onResume(List<EpochRecord> earlier) {}

  /** Called after every mini-batch step with its (mean) loss, once {@link #afterStep} let the run go on. */
  default void onStep(int epoch, int step, double loss) {}

  /** Called after each epoch's evaluation (also for epoch 0). */
  default void onEpoch(EpochRecord record) {}

  /** Called after the epoch's checkpoint is on disk. */
  default void onCheckpoint(int epoch) {}

  /**
   * Asked after every mini-batch step, before {@link #onStep}: a non-null {@link Stop} ends the run there (the
   * epoch is not evaluated).
   */
  default Stop afterStep(int epoch, int step, int stepsPerEpoch, double loss) {
    return null;
  }

  /** Asked after {@link #onEpoch} of every epoch ≥ 1 (and by the trainer's checks for epoch 0): non-null ends it. */
  default Stop afterEpoch(EpochRecord record) {
    return null;
  }

  TrainingListener NONE = new TrainingListener() {};
}
