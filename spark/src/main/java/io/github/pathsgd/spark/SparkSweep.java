package io.github.pathsgd.spark;

import io.github.pathsgd.core.tensor.Blas;
import io.github.pathsgd.experiments.config.ConfigHash;
import io.github.pathsgd.experiments.config.Configs;
import io.github.pathsgd.experiments.config.TrainConfig;
import io.github.pathsgd.experiments.sweep.Selection;
import io.github.pathsgd.experiments.sweep.SweepSpec;
import io.github.pathsgd.experiments.sweep.SweepSpec.SweepRun;
import io.github.pathsgd.experiments.sweep.SweepTasks;
import io.github.pathsgd.train.listener.TrainingListener;
import java.io.IOException;
import java.io.PrintStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.Function;

/**
 * A sweep on Spark: each phase (all runs, or the step-size selection's "select" runs, then its "final" runs) is one
 * Spark job with one task per unfinished run (not the noise floor's: the driver trains those, see below). A task
 * trains its run into a scratch run folder on the executor (resuming from the checkpoint there when a retried attempt
 * finds one) and hands the run's result files back; only the driver writes into the output folder: each run folder
 * ({@link SweepTasks#install}), then the combined files, as the embedded runner does, so both end with the same
 * metrics.csv. A failed attempt hands nothing back, so a retried task can never leave a duplicate or partial row.
 *
 * <p>Successive halving ({@code step_size.rule: halving}): one Spark job per rung. The first rung is the first phase
 * (every α for the first budget); between rungs the driver decides the selection from the finished runs ({@link
 * SweepTasks#select}, which writes selection.csv/.json as the embedded runner does after each rung) and the next
 * rung's runs (the kept α with the next budget) are the next job; once the last rung is decided, the final runs are
 * the last job. The embedded runner continues a kept α's run from the previous rung's {@code continue.bin} in the
 * sweep folder; here the previous rung trained in an executor's scratch folder, deleted once installed, so a later
 * rung's run trains from epoch 0. A run's first b epochs do not depend on its epoch budget (the shuffle and dropout
 * streams are split per epoch), so it ends with the same files, and the sweep with the same selection and
 * metrics.csv, byte for byte; the cost is the from-scratch rung cost {@link
 * io.github.pathsgd.experiments.sweep.SuccessiveHalving.Plan#epochs} (6.75·E per group of 11 α with the default
 * plan) instead of the continued {@link io.github.pathsgd.experiments.sweep.SuccessiveHalving.Plan#continuedEpochs}
 * (4.75·E), still below the exhaustive 11·E.
 *
 * <p>Noise floor ({@code noise_floor}: the same run again with each of a few pinned BLAS thread counts): once the last
 * Spark job (the final runs, else the main runs) has ended and the plan is complete, the DRIVER trains the noise runs
 * ({@link SweepTasks#noiseRuns}, planned as the embedded runner plans them) itself, one at a time, in its own JVM, with
 * no Spark job: OpenBLAS's thread count is process-wide, and no task runs at that point (in local mode the executor
 * threads share the driver's JVM; in cluster mode the driver is a process of its own). Each trains as a task's run
 * does ({@link SweepTasks#trainOne}, whose {@code Components.trainer} sets the process's OpenBLAS thread count to the
 * run's pinned {@code threads}, as for the embedded runner's noise runs) into the driver's scratch folder
 * {@code SCRATCH/<run_id>/}, and is installed like a task's result ({@link SweepTasks#install}); afterwards the driver
 * sets the OpenBLAS thread count back to what it was. The driver reads the data there: {@code dataDir} must be a path
 * the driver sees too. The phase is reported as {@link Phase} {@code noise} with no Spark task and {@link
 * Phase#onDriver} runs trained. A resumed sweep skips the noise runs already finished.
 */
public final class SparkSweep {
  /** The Spark conf key of the fault injected by tests: {@code INDEX:EPOCH} (the run's index in the plan). */
  public static final String FAIL_ONCE = "spark.pathsgd.test.failOnce";

  /** The Spark conf key of the executors' scratch folder (default: the executor's java.io.tmpdir). */
  public static final String SCRATCH = "spark.pathsgd.scratch";

  /**
   * @param out the output folder (seen by the driver)
   * @param threadsPerTask BLAS threads of each run (the config's {@code threads}); 1 by default; not applied to the
   *     noise runs, whose thread count is pinned
   * @param dataDir the data folder for every run (null = the config's, else each process's {@code $PATHSGD_DATA}), as
   *     the executors see it and, for a sweep with a noise floor, the driver too: one path for both
   * @param scratch the executors' folder for unfinished runs, and the driver's for the noise runs (null = their
   *     java.io.tmpdir/pathsgd-spark)
   * @param log progress lines (null = quiet)
   */
  public record Options(Path out, int threadsPerTask, Path dataDir, Path scratch, PrintStream log) {}

  /**
   * What the sweep did.
   *
   * @param trained runs trained and installed, by Spark tasks and (noise runs) by the driver
   * @param retried runs whose result came from a retried task attempt (attempt number above 0)
   * @param phases the phases this invocation went through, in order (a Spark job each that has tasks; the noise
   *     phase has none: the driver trains its runs)
   */
  public record Outcome(int planned, int trained, int skipped, int retried, boolean selectionPending,
      List<String> damaged, List<Phase> phases) {
    /** The Spark jobs run: one per phase with tasks. */
    public long jobs() {
      return phases.stream().filter(p -> p.tasks() > 0).count();
    }

    /** The runs the driver trained itself (the noise floor's). */
    public int onDriver() {
      return phases.stream().mapToInt(Phase::onDriver).sum();
    }
  }

  /**
   * One phase.
   *
   * @param name {@code main}, {@code select}, {@code final}, or with successive halving {@code select rung K} (K = 0
   *     for the first budget, as selection.csv numbers the rungs; {@code select rungs 1,2} for a resumed sweep's phase
   *     with runs of two rungs planned already); {@code noise} for the noise floor, trained on the driver
   * @param runs the phase's runs
   * @param tasks the Spark tasks: its runs not finished in the output folder yet (0: no Spark job); always 0 for
   *     {@code noise}
   * @param onDriver the runs the driver trained itself, one at a time ({@code noise}: its runs not finished yet; 0
   *     for the other phases)
   */
  public record Phase(String name, int runs, int tasks, int onDriver) {
    /** A phase run as a Spark job ({@code onDriver} 0). */
    public Phase(String name, int runs, int tasks) {
      this(name, runs, tasks, 0);
    }
  }

  private final SweepSpec spec;
  private final String scale;
  private final int seeds;
  private final Options opt;
  private int trained;
  private int skipped;
  private int retried;
  private final List<Phase> phases = new ArrayList<>();

  public SparkSweep(SweepSpec spec, String scale, int seeds, Options opt) {
    if (opt.threadsPerTask() < 1) {
      throw new IllegalArgumentException("--threads-per-task must be >= 1, got " + opt.threadsPerTask());
    }
    this.spec = spec;
    this.scale = scale;
    this.seeds = seeds;
    this.opt = opt;
    spec.scale(scale);
  }

  public Outcome run(JavaSparkContext sc) {
    Path out = opt.out();
    SweepTasks.prepare(out, spec, scale, seeds);
    List<SweepRun> first = SweepTasks.firstPhase(spec, scale, seeds, opt.dataDir(), opt.threadsPerTask());
    SweepSpec.StepSize st = spec.stepSize(scale);
    List<SweepRun> all = first;
    boolean complete = st == null;
    if (st != null) {
      // a resumed sweep: the combined files cover the rungs planned already, and the final runs once decided
      Selection sel = SweepTasks.peekSelection(out, first, st);
      all = sel.selectRuns();
      if (sel.complete()) {
        all = concat(all, SweepTasks.finals(sel, seeds, opt.dataDir(), opt.threadsPerTask()));
        complete = true;
      }
    }
    if (complete) {
      all = withNoise(all);
    }
    SweepTasks.aggregate(out, all, complete);
    phase(sc, first, st == null ? SweepRun.MAIN : selectName(first, st), all, complete);
    boolean pending = false;
    int executed = first.size();
    // the driver decides between phases: the exhaustive rule once; successive halving after every rung, whose
    // decision plans the next rung's runs (numbered after the runs planned so far), as SweepRunner does
    while (st != null) {
      Selection sel = SweepTasks.select(out, first, st);
      List<SweepRun> selects = sel.selectRuns();
      if (sel.complete()) {
        List<SweepRun> fin = SweepTasks.finals(sel, seeds, opt.dataDir(), opt.threadsPerTask());
        all = concat(selects, fin);
        complete = true;
        SweepTasks.aggregate(out, all, true);
        phase(sc, fin, SweepRun.FINAL, all, true);
        break;
      }
      if (selects.size() == executed) { // nothing new planned: a selection run is still unfinished
        pending = true;
        log("step-size selection pending: " + sel.unfinished() + " selection runs not finished");
        break;
      }
      all = selects;
      SweepTasks.aggregate(out, all, false);
      List<SweepRun> next = selects.subList(executed, selects.size());
      phase(sc, next, selectName(next, st), all, false);
      executed = selects.size();
    }
    if (complete) {
      // after the last Spark job: the noise runs, on the driver, one at a time
      List<SweepRun> before = all;
      all = withNoise(all);
      if (all.size() > before.size()) { // the combined files list the newly planned noise runs, as the runner's do
        SweepTasks.aggregate(out, all, true);
      }
      noisePhase(all.stream().filter(r -> r.phase().equals(SweepRun.NOISE)).toList(), all);
    }
    List<String> damaged = SweepTasks.aggregate(out, all, complete);
    return new Outcome(all.size(), trained, skipped, retried, pending, damaged, List.copyOf(phases));
  }

  /** "select", or with successive halving "select rung K" (the rungs of {@code runs}, by their epoch budget). */
  private static String selectName(List<SweepRun> runs, SweepSpec.StepSize st) {
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

  /** The complete plan followed by its noise-floor runs, if any (unchanged when it holds them already). */
  private List<SweepRun> withNoise(List<SweepRun> planned) {
    return concat(planned, SweepTasks.noiseRuns(spec, scale, planned, opt.dataDir(), opt.threadsPerTask()));
  }

  private static List<SweepRun> concat(List<SweepRun> a, List<SweepRun> b) {
    List<SweepRun> l = new ArrayList<>(a);
    l.addAll(b);
    return l;
  }

  /** The runs of {@code runs} still to train (counting the settled ones as skipped, naming the damaged ones). */
  private List<SweepRun> unsettled(List<SweepRun> runs) {
    List<SweepRun> todo = new ArrayList<>();
    for (SweepRun r : runs) {
      if (SweepTasks.settled(opt.out(), r)) {
        skipped++;
        continue;
      }
      String d = SweepTasks.damage(opt.out(), r);
      if (d != null) {
        log(r.runId() + ": damaged (" + d + "), training it again");
      }
      todo.add(r);
    }
    return todo;
  }

  /** One Spark job: a task per run of {@code runs} that is not settled yet; each result installed by the driver. */
  private void phase(JavaSparkContext sc, List<SweepRun> runs, String name, List<SweepRun> all, boolean complete) {
    List<Task> todo = new ArrayList<>();
    Map<String, SweepRun> byId = new HashMap<>();
    for (SweepRun r : unsettled(runs)) {
      todo.add(Task.of(r));
      byId.put(r.runId(), r);
    }
    log(String.format(Locale.ROOT, "phase %s: %d runs, %d already done, %d Spark tasks", name, runs.size(),
        runs.size() - todo.size(), todo.size()));
    phases.add(new Phase(name, runs.size(), todo.size()));
    if (todo.isEmpty()) {
      return;
    }
    sc.setJobDescription("pathsgd " + spec.name() + " --scale " + scale + ": " + name + " (" + todo.size() + " runs)");
    String scratch = scratchPath();
    String fail = sc.getConf().get(FAIL_ONCE, "");
    List<Result> results = sc.parallelize(todo, todo.size()).map(new Train(scratch, fail)).collect();
    results = new ArrayList<>(results);
    results.sort(Comparator.comparingInt(Result::index));
    for (Result res : results) {
      SweepRun r = byId.get(res.runId());
      if (res.attempt() > 0) {
        retried++;
      }
      if (SweepTasks.install(opt.out(), r, res.files())) {
        trained++;
      } else {
        skipped++;
      }
      log(String.format(Locale.ROOT, "[%d/%d] %s %s: %s on %s (attempt %d, %.1fs)", r.index() + 1, all.size(),
          r.runId(), r.phase(), res.files().containsKey(SweepTasks.MISSING_JSON) ? "no data" : "trained", res.host(),
          res.attempt(), res.seconds()));
      deleteQuietly(scratchDir(scratch, res.runId()));
    }
    SweepTasks.aggregate(opt.out(), all, complete);
  }

  /**
   * The noise-floor phase: no Spark job; the driver trains each unfinished noise run itself, one at a time (OpenBLAS's
   * thread count is process-wide, and no task runs now), into its scratch folder, and installs it as a task's result.
   * {@link SweepTasks#trainOne} pins the run's BLAS thread count (as the embedded runner's noise runs get it); the
   * driver's count before the phase is set back afterwards.
   */
  private void noisePhase(List<SweepRun> runs, List<SweepRun> all) {
    if (runs.isEmpty()) {
      return;
    }
    List<SweepRun> todo = unsettled(runs);
    log(String.format(Locale.ROOT, "phase %s: %d runs, %d already done, %d to train on the driver, one at a time "
        + "(pinned BLAS threads; no Spark job)", SweepRun.NOISE, runs.size(), runs.size() - todo.size(), todo.size()));
    phases.add(new Phase(SweepRun.NOISE, runs.size(), 0, todo.size()));
    if (todo.isEmpty()) {
      return;
    }
    String scratch = scratchPath();
    int before = Blas.threads();
    try {
      for (SweepRun r : todo) {
        long t0 = System.nanoTime();
        Path dir = scratchDir(scratch, r.runId());
        Map<String, byte[]> files = SweepTasks.trainOne(r, dir, TrainingListener.NONE);
        if (SweepTasks.install(opt.out(), r, files)) {
          trained++;
        } else {
          skipped++;
        }
        log(String.format(Locale.ROOT, "[%d/%d] %s %s: %s on the driver with %d BLAS thread(s) (%.1fs)", r.index() + 1,
            all.size(), r.runId(), r.phase(), files.containsKey(SweepTasks.MISSING_JSON) ? "no data" : "trained",
            r.config().threads(), (System.nanoTime() - t0) / 1e9));
        deleteQuietly(dir);
        SweepTasks.aggregate(opt.out(), all, true);
      }
    } finally {
      Blas.setThreads(before);
    }
  }

  private void log(String s) {
    if (opt.log() != null) {
      opt.log().println(s);
      opt.log().flush();
    }
  }

  /** The executors' (and the driver's) scratch folder as an absolute path, or null for their java.io.tmpdir. */
  private String scratchPath() {
    return opt.scratch() == null ? null : opt.scratch().toAbsolutePath().toString();
  }

  static Path scratchDir(String scratch, String runId) {
    Path base = scratch != null ? Path.of(scratch) : Path.of(System.getProperty("java.io.tmpdir"), "pathsgd-spark");
    return base.resolve(runId);
  }

  private static void deleteQuietly(Path dir) {
    if (!Files.isDirectory(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> {
        try {
          Files.deleteIfExists(p);
        } catch (IOException e) {
          // left for the next sweep
        }
      });
    } catch (IOException | UncheckedIOException e) {
      // left for the next sweep
    }
  }

  /** A run as it travels to an executor: its config as JSON (TrainConfig is not Serializable). */
  record Task(int index, String phase, String runId, String config, Integer alpha) implements Serializable {
    static Task of(SweepRun r) {
      try {
        return new Task(r.index(), r.phase(), r.runId(), Configs.json().writeValueAsString(r.config()), r.alpha());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    SweepRun run() throws IOException {
      TrainConfig c = Configs.json().readValue(config, TrainConfig.class);
      if (!ConfigHash.runId(c).equals(runId)) {
        throw new IllegalStateException("the task's config hashes to run " + ConfigHash.runId(c) + ", not " + runId);
      }
      return new SweepRun(index, phase, runId, c, alpha);
    }
  }

  /** A task's result: the run's result files by name. */
  record Result(int index, String runId, LinkedHashMap<String, byte[]> files, String host, int attempt, double seconds)
      implements Serializable {}

  /** The task: trains one run into its scratch folder and hands back its result files. */
  static final class Train implements Function<Task, Result> {
    private static final long serialVersionUID = 1L;
    private final String scratch;
    private final String failOnce;

    Train(String scratch, String failOnce) {
      this.scratch = scratch;
      this.failOnce = failOnce;
    }

    @Override
    public Result call(Task t) throws Exception {
      long t0 = System.nanoTime();
      SweepRun r = t.run();
      TaskContext ctx = TaskContext.get();
      int attempt = ctx == null ? 0 : ctx.attemptNumber();
      TrainingListener fault = TrainingListener.NONE;
      if (!failOnce.isEmpty() && attempt == 0) {
        String[] p = failOnce.split(":");
        int index = Integer.parseInt(p[0].trim());
        int epoch = p.length > 1 ? Integer.parseInt(p[1].trim()) : 1;
        if (index == r.index()) {
          fault = new TrainingListener() {
            @Override
            public void onCheckpoint(int e) {
              if (e == epoch) {
                throw new IllegalStateException(FAIL_ONCE + ": run " + r.runId() + " killed after its checkpoint of "
                    + "epoch " + e + " (attempt " + attempt + ")");
              }
            }
          };
        }
      }
      Map<String, byte[]> files = SweepTasks.trainOne(r, scratchDir(scratch, r.runId()), fault);
      String host;
      try {
        host = InetAddress.getLocalHost().getHostName();
      } catch (IOException e) {
        host = "?";
      }
      return new Result(t.index(), t.runId(), new LinkedHashMap<>(files), host, attempt,
          (System.nanoTime() - t0) / 1e9);
    }
  }
}
