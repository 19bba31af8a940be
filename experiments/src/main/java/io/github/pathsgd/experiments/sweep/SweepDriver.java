package io.github.pathsgd.experiments.sweep;

import io.github.pathsgd.experiments.sweep.SweepSpec.SweepRun;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * The one state machine of a sweep, whatever trains its runs: plan a phase ({@link SweepPlan}), have an {@link
 * Executor} train its runs (local threads and {@code --shard}: {@link SweepRunner}; Spark tasks: pathsgd-spark),
 * decide the step-size selection or, with successive halving, plan the next rung from the finished runs ({@link
 * SweepTasks#select}, which writes selection.csv/.json), then the retraining runs, then the noise-floor runs once the
 * rest of the plan is known, and rebuild the combined files (metrics.csv, timings.csv, runs.jsonl) between the steps.
 * The executor installs each run into {@code OUT/runs/<run_id>/} as it finishes (and may rebuild the combined files
 * then, {@link #aggregate}); the driver never trains.
 *
 * <p>The phases, in order: the first phase ({@code main}, or {@code select}; with successive halving {@code select
 * rung 0}); with a step-size selection, after every select phase either the next rung's runs ({@code select rung K},
 * numbered after the runs planned so far) or, once decided, the retraining runs ({@code final}); once the plan is
 * complete, the noise-floor runs ({@code noise}; empty when the scale has none). A resumed sweep plans the rungs and
 * the final runs decided already at once, so its combined files cover them from the start. When a select phase leaves
 * a select run unfinished (another shard's, an interruption), the selection is pending and the sweep ends there.
 */
public final class SweepDriver {
  /**
   * One phase to execute.
   *
   * @param name {@code main}, {@code select}, {@code select rung K} ({@code select rungs 1,2} for a resumed sweep's
   *     phase with runs of two rungs), {@code final} or {@code noise}
   * @param runs the phase's runs (finished ones included: the executor skips them)
   * @param all every run planned so far, in plan order (what the combined files cover)
   * @param complete false while the plan lacks the retraining runs of a pending step-size selection
   */
  public record Phase(String name, List<SweepRun> runs, List<SweepRun> all, boolean complete) {
    /** True for the noise-floor phase: runs with pinned BLAS thread counts, to be trained one at a time. */
    public boolean noise() {
      return name.equals(SweepRun.NOISE);
    }
  }

  /** What trains a phase's runs and installs them into the sweep folder. */
  public interface Executor {
    /** Trains the runs of {@code p} that are not finished in the sweep folder yet and installs them there. */
    void execute(Phase p);

    /** True once the sweep was interrupted: no further phase is planned. */
    default boolean stopped() {
      return false;
    }
  }

  /**
   * What the sweep came to.
   *
   * @param all every run planned, in plan order
   * @param complete false when the step-size selection is pending
   * @param pending true when a select run was left unfinished (the selection is pending)
   * @param damaged the damaged runs the last rebuild of the combined files left out ("run_id (what is wrong)")
   * @param written false when the last rebuild left the combined files as they were (they list retraining runs still
   *     intact on disk while the selection is pending)
   * @param kept those retraining runs, when not written
   */
  public record Result(List<SweepRun> all, boolean complete, boolean pending, List<String> damaged, boolean written,
      List<String> kept) {}

  private final SweepPlan plan;
  private final Path out;
  private final Consumer<String> log;
  private volatile List<SweepRun> all = List.of();
  private volatile boolean complete = true;

  /**
   * @param log progress lines (never null)
   */
  public SweepDriver(SweepPlan plan, Path out, Consumer<String> log) {
    this.plan = plan;
    this.out = out;
    this.log = log;
  }

  /** Every run planned so far (all of them once a step-size selection is decided). */
  public List<SweepRun> all() {
    return all;
  }

  /**
   * Checks the sweep folder (no link out of it among its own files and the first phase's run folders), creates {@code
   * OUT/runs} and {@code OUT/.locks} and writes {@code sweep.json} (under the combined lock).
   */
  public static void prepare(Path out, SweepPlan plan) {
    SweepTasks.checkSweepFolder(out);
    for (SweepRun r : plan.first()) {
      SweepTasks.checkRunFolder(out, out.resolve("runs").resolve(r.runId()));
    }
    try {
      Files.createDirectories(out.resolve("runs"));
      Path locks = out.resolve(SweepRunner.LOCKS);
      if (Files.isSymbolicLink(locks)) {
        throw new IllegalArgumentException(locks + " is a symbolic link; expected the sweep's own lock folder "
            + "(remove it)");
      }
      Files.createDirectories(locks);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create " + out + ": " + e.getMessage(), e);
    }
    try (FileLocks.Held h = SweepTasks.combinedLock(out)) {
      SweepAggregate.writeSweepJson(out, plan.spec(), plan.scale(), plan.seeds());
    }
  }

  /** Runs the sweep: every phase, each through {@code ex}. */
  public Result run(Executor ex) {
    prepare(out, plan);
    List<SweepRun> first = plan.first();
    SweepSpec.StepSize st = plan.stepSize();
    List<SweepRun> planned = first;
    boolean done = st == null;
    if (st != null) {
      // a resumed sweep: the combined files cover the rungs planned already, and the final runs once decided
      Selection sel = Selection.compute(first, out, st);
      planned = sel.selectRuns();
      if (sel.complete()) {
        planned = plan.withFinals(planned, sel);
        done = true;
      }
    }
    if (done) {
      planned = plan.withNoise(planned);
    }
    all = planned;
    complete = done;
    aggregate();
    ex.execute(new Phase(st == null ? SweepRun.MAIN : selectName(first, st), first, all, complete));
    boolean pending = false;
    int executed = first.size();
    // the exhaustive rule: one pass; successive halving: one pass per rung, each planned once the previous is decided
    while (st != null && !ex.stopped()) {
      Selection sel = SweepTasks.select(out, first, st); // decided, written, unneeded continue.bin pruned
      List<SweepRun> selects = sel.selectRuns();
      if (sel.complete()) {
        all = plan.withFinals(selects, sel);
        complete = true;
        aggregate();
        ex.execute(new Phase(SweepRun.FINAL, all.subList(selects.size(), all.size()), all, true));
        break;
      }
      if (selects.size() == executed) { // nothing new to train: the rest is other shards' (or was interrupted)
        pending = true;
        log.accept("step-size selection pending: " + sel.unfinished() + " selection runs not finished yet (other "
            + "shards?)");
        break;
      }
      all = selects;
      aggregate();
      List<SweepRun> next = selects.subList(executed, selects.size());
      ex.execute(new Phase(selectName(next, st), next, all, false));
      executed = selects.size();
    }
    if (complete && !ex.stopped()) {
      List<SweepRun> before = all;
      all = plan.withNoise(before);
      if (all.size() > before.size()) { // the combined files list the newly planned noise runs
        aggregate();
      }
      List<SweepRun> noise = all.stream().filter(r -> r.phase().equals(SweepRun.NOISE)).toList();
      if (!noise.isEmpty()) {
        ex.execute(new Phase(SweepRun.NOISE, noise, all, true));
      }
    }
    SweepAggregate.Result a = rebuild();
    return new Result(all, complete, pending, a.damaged(), a.written(), a.kept());
  }

  /**
   * Rebuilds the combined files from the run folders of every run planned so far, in plan order (under the folder's
   * combined lock); an executor calls it as runs are installed.
   */
  public void aggregate() {
    rebuild();
  }

  private SweepAggregate.Result rebuild() {
    try (FileLocks.Held h = SweepTasks.combinedLock(out)) {
      return SweepAggregate.write(out, all, complete);
    }
  }

  /** "select", or with successive halving "select rung K" (the rungs of {@code runs}, by their epoch budget). */
  static String selectName(List<SweepRun> runs, SweepSpec.StepSize st) {
    if (!st.halving()) {
      return SweepRun.SELECT;
    }
    List<Integer> budgets = st.plan().budgets();
    TreeSet<Integer> rungs = new TreeSet<>();
    for (SweepRun r : runs) {
      rungs.add(budgets.indexOf(r.config().epochs()));
    }
    return SweepRun.SELECT + (rungs.size() == 1 ? " rung " : " rungs ") + rungs.stream().map(String::valueOf)
        .collect(Collectors.joining(","));
  }
}
