package io.github.pathsgd.experiments.sweep;

import io.github.pathsgd.experiments.config.ConfigHash;
import io.github.pathsgd.experiments.config.TrainConfig;
import io.github.pathsgd.experiments.rundir.RunDirectory;
import io.github.pathsgd.experiments.sweep.SweepSpec.SweepRun;
import io.github.pathsgd.train.checkpoint.Checkpoint;
import io.github.pathsgd.train.history.RunResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;

/**
 * Successive halving's promoted runs continue from the previous rung instead of training again from epoch 0.
 *
 * <p>The rule: the rung-k run of an α is the run whose config has {@code epochs} = b_k (its own run id, since the
 * config hash includes {@code epochs}); the last rung's run is the full-budget run, the very run (same run id) the
 * exhaustive rule trains. A run's first b epochs do not depend on its epoch budget (the shuffle and dropout streams
 * are split per epoch, the loop reads the budget only as its bound), so the state of the b_k-run after its last epoch
 * is the state of the b_{k+1}-run after epoch b_k. A finished rung-k run (not the last rung, not diverged) therefore
 * keeps its end-of-budget checkpoint as {@code continue.bin}; before the b_{k+1}-run starts in an empty folder, that
 * checkpoint is written as its {@code checkpoint.bin}, with the b_{k+1}-run's config hash, and the run resumes from
 * it by the ordinary resume path (its metrics.csv holds epochs 0..b_k as the rung-k run recorded them). Without a
 * usable {@code continue.bin} (pruned, damaged, another machine) the run trains from epoch 0 to the same result.
 * pathsgd-spark's tasks keep it in the result store and continue from a copy ({@link SweepTasks#continueFrom}).
 * {@code continue.bin} is removed once its rung is decided and the α was not kept, or once the continuing run has
 * finished.
 */
final class Continuation {
  private Continuation() {}

  static final String FILE = "continue.bin";

  /** The rung of a select run under {@code plan} (-1: not a halving select run). */
  static int rung(SuccessiveHalving.Plan plan, SweepRun r) {
    if (plan == null || !SweepRun.SELECT.equals(r.phase())) {
      return -1;
    }
    return plan.budgets().indexOf(r.config().epochs());
  }

  /**
   * Before training run r in {@code dir}: when r is a later rung's run with neither a checkpoint nor a summary yet,
   * and its previous rung's run left a {@code continue.bin} of its own config, writes r's checkpoint from it.
   *
   * @return the epoch r continues after, 0 when it starts from scratch (or resumes its own checkpoint)
   */
  static int seed(SuccessiveHalving.Plan plan, SweepRun r, Path dir, Path runs) throws IOException {
    String prev = previous(plan, r);
    return prev == null ? 0 : seedFrom(plan, r, dir, runs.resolve(prev).resolve(FILE));
  }

  /** The run id of the previous rung's run that run r continues, or null (not a later rung's halving run). */
  static String previous(SuccessiveHalving.Plan plan, SweepRun r) {
    int k = rung(plan, r);
    return k <= 0 || stops(r) ? null : ConfigHash.runId(SweepPlan.with(r.config(), "epochs", plan.budgets().get(k - 1)));
  }

  /**
   * As {@link #seed}, the previous rung's {@code continue.bin} read from {@code from} (a copy fetched from elsewhere):
   * used only when it is a checkpoint of the previous rung's config.
   */
  static int seedFrom(SuccessiveHalving.Plan plan, SweepRun r, Path dir, Path from) throws IOException {
    int k = rung(plan, r);
    Path ck = RunDirectory.checkpoint(dir);
    if (k <= 0 || stops(r) || Files.exists(ck) || Files.exists(dir.resolve(RunFolder.SUMMARY))) {
      return 0;
    }
    TrainConfig prev = SweepPlan.with(r.config(), "epochs", plan.budgets().get(k - 1));
    if (!Files.isRegularFile(from)) {
      return 0;
    }
    Checkpoint c;
    try {
      c = Checkpoint.read(from);
    } catch (IOException e) {
      return 0; // damaged: train from scratch, to the same result
    }
    if (!c.configHash().equals(ConfigHash.configHash(prev))) {
      return 0;
    }
    Files.createDirectories(dir);
    new Checkpoint(ConfigHash.configHash(r.config()), c.widths(), c.epoch(), c.stepsPerEpoch(), c.params(),
        c.optState(), c.history()).write(ck);
    return c.epoch();
  }

  /**
   * Whether run r has a stop rule: the rung-k run may have stopped at (or before) b_k where the b_{k+1}-run from
   * scratch stops too, and a resumed run does not test the rule on its checkpoint's epoch, so such a run neither
   * continues a previous rung nor keeps a checkpoint for the next (no continue.bin written, uploaded or fetched).
   */
  private static boolean stops(SweepRun r) {
    return r.config().stopTrainLoss() != null && r.config().stopTrainLoss() > 0
        || Boolean.TRUE.equals(r.config().stopAtZeroTrainError());
  }

  /** After run r trained, before its summary: a rung run before the last keeps its final checkpoint (no stop rule). */
  static void keep(SuccessiveHalving.Plan plan, SweepRun r, Path dir, RunResult result) throws IOException {
    int k = rung(plan, r);
    Path ck = RunDirectory.checkpoint(dir);
    if (k < 0 || k == plan.budgets().size() - 1 || stops(r) || !RunResult.COMPLETED.equals(result.status())
        || !Files.isRegularFile(ck)) {
      return;
    }
    Path tmp = dir.resolve("." + FILE + ".tmp");
    Files.copy(ck, tmp, StandardCopyOption.REPLACE_EXISTING);
    Files.move(tmp, dir.resolve(FILE), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  /** Removes the continue.bin files no run will need: of α not kept, and of runs whose continuation has finished. */
  static void prune(Selection sel, SuccessiveHalving.Plan plan, Path runs) {
    for (Map.Entry<SweepRun, SweepRun> e : sel.continuations(plan).entrySet()) {
      SweepRun to = e.getValue();
      if (to == null || RunFolder.inspect(runs.resolve(to.runId()), to).finished()) {
        try {
          Files.deleteIfExists(runs.resolve(e.getKey().runId()).resolve(FILE));
        } catch (IOException ex) {
          // left behind: harmless, a later sweep removes it
        }
      }
    }
  }
}
