package io.github.pathsgd.train.listener;

import io.github.pathsgd.train.history.EpochRecord;
import java.util.List;

/** Fan-out of several listeners. */
public final class Listeners {
  private Listeners() {}

  /**
   * One listener that passes every notification to each of {@code ls}, in order, and asks each in order in {@link
   * TrainingListener#afterStep} and {@link TrainingListener#afterEpoch}: the first {@link Stop} wins and the listeners
   * after it are not asked.
   */
  public static TrainingListener compose(TrainingListener... ls) {
    List<TrainingListener> all = List.of(ls);
    return new TrainingListener() {
      @Override
      public void onStart(int firstEpoch, int epochs, int stepsPerEpoch) {
        all.forEach(l -> l.onStart(firstEpoch, epochs, stepsPerEpoch));
      }

      @Override
      public void onResume(List<EpochRecord> earlier) {
        all.forEach(l -> l.onResume(earlier));
      }

      @Override
      public void onStep(int epoch, int step, double loss) {
        all.forEach(l -> l.onStep(epoch, step, loss));
      }

      @Override
      public void onEpoch(EpochRecord record) {
        all.forEach(l -> l.onEpoch(record));
      }

      @Override
      public void onCheckpoint(int epoch) {
        all.forEach(l -> l.onCheckpoint(epoch));
      }

      @Override
      public Stop afterStep(int epoch, int step, int stepsPerEpoch, double loss) {
        for (TrainingListener l : all) {
          Stop s = l.afterStep(epoch, step, stepsPerEpoch, loss);
          if (s != null) {
            return s;
          }
        }
        return null;
      }

      @Override
      public Stop afterEpoch(EpochRecord record) {
        for (TrainingListener l : all) {
          Stop s = l.afterEpoch(record);
          if (s != null) {
            return s;
          }
        }
        return null;
      }
    };
  }
}
