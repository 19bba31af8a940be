package io.github.pathsgd.experiments.sweep;

import io.github.pathsgd.experiments.sweep.SweepSpec.SweepRun;
import io.github.pathsgd.train.listener.TrainingCancelled;
import io.github.pathsgd.train.listener.TrainingListener;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/** The tests' hooks into a sweep, as listener factories ({@link SweepRunner.Options#withListeners}). */
final class SweepHooks {
  private SweepHooks() {}

  /** Called after each checkpoint of a run the sweep trains (it may block, or throw). */
  @FunctionalInterface
  interface CheckpointHook {
    /**
     * @param run the run
     * @param started how many runs this invocation had started training before this one (0 for its first)
     * @param epoch the epoch just checkpointed
     */
    void afterCheckpoint(SweepRun run, int started, int epoch);
  }

  /** Calls {@code hook} after every checkpoint. */
  static Function<SweepRun, TrainingListener> afterCheckpoint(CheckpointHook hook) {
    AtomicInteger started = new AtomicInteger();
    return r -> {
      int n = started.getAndIncrement();
      return new TrainingListener() {
        @Override
        public void onCheckpoint(int epoch) {
          hook.afterCheckpoint(r, n, epoch);
        }
      };
    };
  }

  /**
   * A kill: after {@code afterRuns} trained runs, the next one stops after writing its checkpoint of epoch {@code
   * atEpoch} (0 = before it starts).
   */
  static Function<SweepRun, TrainingListener> interrupt(int afterRuns, int atEpoch) {
    AtomicInteger started = new AtomicInteger();
    return r -> {
      if (started.getAndIncrement() != afterRuns) {
        return TrainingListener.NONE;
      }
      if (atEpoch == 0) {
        throw new TrainingCancelled("test hook: interrupted before it started");
      }
      return new TrainingListener() {
        @Override
        public void onCheckpoint(int epoch) {
          if (epoch >= atEpoch) {
            throw new TrainingCancelled("test hook: interrupted after epoch " + epoch);
          }
        }
      };
    };
  }
}
