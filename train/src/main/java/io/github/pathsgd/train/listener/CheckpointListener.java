package io.github.pathsgd.train.listener;

import io.github.pathsgd.train.checkpoint.Checkpoint;
import io.github.pathsgd.train.history.EpochRecord;
import java.nio.file.Path;
import java.util.function.IntFunction;

/**
 * Writes the end-of-epoch checkpoint (atomically) after every epoch ≥ 1 that did not end the run as diverged, then
 * tells {@code notify} ({@link TrainingListener#onCheckpoint}).
 */
public final class CheckpointListener implements TrainingListener {
  private final Path file;
  private final IntFunction<Checkpoint> snapshot;
  private final TrainingListener notify;

  /**
   * @param snapshot the checkpoint of the run after a given epoch
   * @param notify told once each checkpoint is on disk
   */
  public CheckpointListener(Path file, IntFunction<Checkpoint> snapshot, TrainingListener notify) {
    this.file = file;
    this.snapshot = snapshot;
    this.notify = notify;
  }

  @Override
  public Stop afterEpoch(EpochRecord r) {
    snapshot.apply(r.epoch()).write(file);
    notify.onCheckpoint(r.epoch());
    return null;
  }
}
