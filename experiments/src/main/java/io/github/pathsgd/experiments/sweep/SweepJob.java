package io.github.pathsgd.experiments.sweep;

import io.github.pathsgd.data.DataException;
import io.github.pathsgd.data.DataMissingException;
import io.github.pathsgd.data.DataSplits;
import io.github.pathsgd.experiments.config.Components;
import io.github.pathsgd.experiments.config.ConfigException;
import io.github.pathsgd.experiments.config.TrainConfig;
import io.github.pathsgd.experiments.rundir.RunDirectory;
import io.github.pathsgd.experiments.rundir.RunWriter;
import io.github.pathsgd.experiments.sweep.SweepSpec.SweepRun;
import io.github.pathsgd.train.Trainer;
import io.github.pathsgd.train.history.EpochRecord;
import io.github.pathsgd.train.history.RunResult;
import io.github.pathsgd.train.listener.Listeners;
import io.github.pathsgd.train.listener.TrainingCancelled;
import io.github.pathsgd.train.listener.TrainingListener;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * One run of a sweep: skipped when its folder is finished, else trained (or its absent data recorded) under the run's
 * file lock, after its damaged files, if any, are moved aside. Training goes through {@link RunDirectory}, as {@code
 * pathsgd train} does.
 */
final class SweepJob {
  enum Result { DONE, TRAINED, MISSING, FAILED, BUSY, INTERRUPTED }

  private final SweepRunner sweep;

  SweepJob(SweepRunner sweep) {
    this.sweep = sweep;
  }

  private Path dir(SweepRun r) {
    return sweep.opt.out().resolve("runs").resolve(r.runId());
  }

  private Path lockFile(SweepRun r) {
    return sweep.opt.out().resolve(SweepRunner.LOCKS).resolve(r.runId() + ".lock");
  }

  /** Forgets the run's data request once it is settled (not for a run left to another sweep). */
  private static void settle(SweepRun r, DataCache cache, Set<String> expected) {
    if (expected.remove(r.runId())) {
      cache.release(Components.dataRequest(r.config()));
    }
  }

  Result run(SweepRun r, DataCache cache, Set<String> expected, boolean wait) {
    Path dir = dir(r);
    SweepTasks.checkRunFolder(sweep.opt.out(), dir); // no link out of the sweep folder, before anything is read
    String head = String.format(Locale.ROOT, "[%d/%d] %s %s", r.index() + 1, sweep.driver.all().size(), r.runId(),
        SweepRunner.label(r));
    if (RunFolder.inspect(dir, r).finished()) {
      sweep.skipped.incrementAndGet();
      settle(r, cache, expected);
      sweep.log(head + ": already done, skipped");
      return Result.DONE;
    }
    Path lf = lockFile(r);
    FileLocks.Held lock = FileLocks.tryLock(lf);
    if (lock == null && wait) {
      sweep.log(head + ": waiting for " + FileLocks.holder(lf) + ", which is training it");
      lock = FileLocks.lock(lf);
    }
    if (lock == null) {
      sweep.log(head + ": being trained by another sweep (" + FileLocks.holder(lf) + "); coming back to it after the "
          + "other runs");
      return Result.BUSY;
    }
    Result res;
    try {
      res = train(r, dir, head, cache);
    } finally {
      lock.close();
      settle(r, cache, expected);
    }
    if (res == Result.TRAINED || res == Result.MISSING) {
      sweep.aggregate();
    }
    return res;
  }

  /** Trains run r (or records its absent data); only while holding its lock. */
  private Result train(SweepRun r, Path dir, String head, DataCache cache) {
    RunFolder.State state = RunFolder.inspect(dir, r);
    if (state.finished()) {
      sweep.skipped.incrementAndGet();
      sweep.log(head + ": already done (by another sweep), skipped");
      return Result.DONE;
    }
    if (state.kind() == RunFolder.Kind.DAMAGED) {
      Path to = RunFolder.moveAside(dir);
      sweep.repaired.incrementAndGet();
      sweep.log(head + ": damaged (" + state.problem() + "); its files moved to " + sweep.opt.out().relativize(to)
          + ", training it again");
    }
    try {
      TrainingListener extra = sweep.opt.listeners() == null ? TrainingListener.NONE
          : sweep.opt.listeners().apply(r);
      DataSplits data;
      Trainer trainer;
      TrainConfig cfg = r.config();
      try {
        data = cache.get(Components.dataRequest(r.config()));
        trainer = Components.trainer(cfg, data);
      } catch (DataMissingException e) {
        sweep.missing.incrementAndGet();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("run_id", r.runId());
        m.put("status", SweepRunner.MISSING);
        m.put("reason", e.getMessage());
        RunWriter.writeJson(dir, dir.resolve(RunFolder.MISSING_JSON), m);
        sweep.log(head + ": no data (" + e.getMessage() + "), skipped");
        return Result.MISSING;
      } catch (DataException | ConfigException e) {
        // the data are there, but the run's config does not fit them (or is wrong): a failed run, not absent data
        sweep.failed.add(r.runId() + " (" + e.getMessage() + ")");
        sweep.log(head + ": refused, its config does not check (" + e.getMessage() + "); nothing written");
        return Result.FAILED;
      }
      long t0 = System.nanoTime();
      int[] resumedAfter = {-1};
      TrainingListener resumed = new TrainingListener() {
        @Override
        public void onResume(List<EpochRecord> earlier) {
          resumedAfter[0] = earlier.get(earlier.size() - 1).epoch();
        }
      };
      int continued = Continuation.seed(sweep.halving, r, dir, sweep.opt.out().resolve("runs"));
      RunResult res = RunDirectory.run(cfg, trainer, data, dir,
          Listeners.compose(resumed, extra), done -> {
            SweepTasks.saveModel(dir, r, done);
            Continuation.keep(sweep.halving, r, dir, done);
          }, () -> SweepTasks.modelEntry(dir)).result();
      Files.deleteIfExists(dir.resolve(RunFolder.MISSING_JSON));
      sweep.trained.incrementAndGet();
      if (RunResult.DIVERGED.equals(res.status())) {
        sweep.diverged.incrementAndGet();
      }
      sweep.log(String.format(Locale.ROOT, "%s: %s after %d epochs%s, train err %.4f, test err %.4f (%.1fs)", head,
          res.status(), res.epochsCompleted(), continued > 0 ? " (continued from the previous rung after epoch "
          + continued + ")" : resumedAfter[0] >= 0 ? " (resumed after epoch " + resumedAfter[0] + ")" : "",
          res.last().trainError(), res.last().testError(), (System.nanoTime() - t0) / 1e9));
      return Result.TRAINED;
    } catch (TrainingCancelled e) {
      sweep.interrupted.set(true);
      sweep.log(head + ": " + e.getMessage());
      return Result.INTERRUPTED;
    } catch (IOException e) {
      throw new UncheckedIOException(e.getMessage(), e);
    }
  }
}
