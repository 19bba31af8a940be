package io.github.pathsgd.spark;

import io.github.pathsgd.core.tensor.Blas;
import io.github.pathsgd.experiments.config.ConfigHash;
import io.github.pathsgd.experiments.config.Configs;
import io.github.pathsgd.experiments.config.TrainConfig;
import io.github.pathsgd.experiments.rundir.RunDirectory;
import io.github.pathsgd.experiments.sweep.SuccessiveHalving;
import io.github.pathsgd.experiments.sweep.SweepDriver;
import io.github.pathsgd.experiments.sweep.SweepPlan;
import io.github.pathsgd.experiments.sweep.SweepSpec;
import io.github.pathsgd.experiments.sweep.SweepSpec.SweepRun;
import io.github.pathsgd.experiments.sweep.SweepTasks;
import io.github.pathsgd.train.listener.TrainingListener;
import java.io.IOException;
import java.io.PrintStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.spark.FutureAction;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.Function;
import scala.jdk.javaapi.CollectionConverters;
import scala.runtime.AbstractFunction0;
import scala.runtime.AbstractFunction1;
import scala.runtime.AbstractFunction2;
import scala.runtime.BoxedUnit;

/**
 * A sweep on Spark: each phase (all runs, or the step-size selection's "select" runs, then its "final" runs) is one
 * Spark job with one task per unfinished run (not the noise floor's: the driver trains those, see below). A task
 * trains its run into a scratch run folder on the executor (resuming from the checkpoint there when a retried attempt
 * finds one), uploads the result files to the {@link ResultStore} and hands back only a {@link RunRecord}; only the
 * driver writes into the output folder: each run folder as its task ends, streamed from the store and checked against
 * the record ({@link SweepTasks#install(Path, SweepRun, java.util.Set, SweepTasks.Source)}), then the combined files,
 * as the embedded runner does, so both end with the same metrics.csv. A failed attempt commits nothing, and the first
 * attempt to commit a run wins, so a retried task can never leave a duplicate or partial row.
 *
 * <p>Successive halving ({@code step_size.rule: halving}): one Spark job per rung. The first rung is the first phase
 * (every α for the first budget); between rungs the driver decides the selection from the finished runs ({@link
 * SweepTasks#select}, which writes selection.csv/.json as the embedded runner does after each rung) and the next
 * rung's runs (the kept α with the next budget) are the next job; once the last rung is decided, the final runs are
 * the last job. As the embedded runner's, a kept α's run continues from the previous rung's checkpoint: a rung's task
 * uploads its run's final checkpoint to the store ({@code STORE/continue/<run_id>.bin}, {@link ResultStore#continuation})
 * and the next rung's task starts from a copy of it ({@link SweepTasks#continueFrom}: only a checkpoint of the previous
 * rung's config, CRC-checked, is taken), so the rungs cost {@link
 * io.github.pathsgd.experiments.sweep.SuccessiveHalving.Plan#continuedEpochs} (4.75·E per group of 11 α with the
 * default plan) rather than {@link io.github.pathsgd.experiments.sweep.SuccessiveHalving.Plan#epochs} (6.75·E). Without
 * the checkpoint (pruned, unreadable) the run trains from epoch 0 to the same files: a run's first b epochs do not
 * depend on its epoch budget. The driver removes the checkpoints once no run needs them. The phases, their order and
 * the decisions between them are {@link SweepDriver}'s, as for the embedded runner; this class is its executor.
 *
 * <p>Noise floor ({@code noise_floor}: the same run again with each of a few pinned BLAS thread counts): once the last
 * Spark job (the final runs, else the main runs) has ended and the plan is complete, the DRIVER trains the noise runs
 * ({@link SweepPlan#withNoise}, planned as the embedded runner plans them) itself, one at a time, in its own JVM, with
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

  /** The Spark conf key of the fault injected by tests: {@code INDEX}, the run whose every task attempt fails. */
  public static final String FAIL_ALWAYS = "spark.pathsgd.test.failAlways";

  /**
   * The Spark conf key, for benchmarks, that skips the driver's look for runs committed to the store before a phase,
   * so that every run goes through a task (which finds it committed and hands back its record).
   */
  public static final String NO_STORE_SCAN = "spark.pathsgd.test.noStoreScan";

  /** The Spark conf key of the executors' scratch folder (default: the executor's java.io.tmpdir). */
  public static final String SCRATCH = "spark.pathsgd.scratch";

  /**
   * The Spark conf key of the result store: a Hadoop-compatible URI that the driver and every executor reach
   * ({@link ResultStore}).
   */
  public static final String STORE = "spark.pathsgd.store";

  /**
   * @param out the output folder (seen by the driver)
   * @param threadsPerTask BLAS threads of each run (the config's {@code threads}); 1 by default; not applied to the
   *     noise runs, whose thread count is pinned
   * @param dataDir the data folder for every run (null = the config's, else each process's {@code $PATHSGD_DATA}), as
   *     the executors see it and, for a sweep with a noise floor, the driver too: one path for both
   * @param scratch the executors' folder for unfinished runs, and the driver's for the noise runs (null = their
   *     java.io.tmpdir/pathsgd-spark)
   * @param log progress lines (null = quiet)
   * @param store the result store's URI (null = {@link SparkSweep#STORE}, else {@code SCRATCH/results}, else in
   *     local mode the driver's java.io.tmpdir/pathsgd-spark/results; a cluster master needs one of the first two)
   */
  public record Options(Path out, int threadsPerTask, Path dataDir, Path scratch, PrintStream log, String store) {
    /** Options with the default result store ({@link SparkSweep#STORE}, else as {@code store} says below). */
    public Options(Path out, int threadsPerTask, Path dataDir, Path scratch, PrintStream log) {
      this(out, threadsPerTask, dataDir, scratch, log, null);
    }
  }

  /**
   * What the sweep did.
   *
   * @param trained runs trained and installed, by Spark tasks and (noise runs) by the driver
   * @param retried runs whose result came from a retried task attempt (attempt number above 0)
   * @param fromStore runs installed from results already committed to the result store (by an earlier driver's
   *     tasks), without a task: not counted in {@code trained}
   * @param phases the phases this invocation went through, in order (a Spark job each that has tasks; the noise
   *     phase has none: the driver trains its runs)
   * @param continued runs of a later halving rung that continued from their previous rung's checkpoint (kept in the
   *     result store) instead of training from epoch 0
   */
  public record Outcome(int planned, int trained, int skipped, int retried, int fromStore, boolean selectionPending,
      List<String> damaged, List<Phase> phases, int continued) {
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
  private int fromStore;
  private int continued;
  private ResultStore store;
  private SweepDriver driver;
  /** The successive-halving plan of the step-size selection, or null. */
  private SuccessiveHalving.Plan halving;
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
    SweepPlan plan = new SweepPlan(spec, scale, seeds, opt.dataDir(), opt.threadsPerTask());
    SweepSpec.StepSize st = plan.stepSize();
    halving = st == null || !st.halving() ? null : st.plan();
    driver = new SweepDriver(plan, opt.out(), this::log);
    SweepDriver.Result res = driver.run(p -> {
      if (p.noise()) {
        noisePhase(p); // after the last Spark job: on the driver, one at a time
      } else {
        phase(sc, p);
      }
    });
    return new Outcome(res.all().size(), trained, skipped, retried, fromStore, res.pending(),
        res.damaged(), List.copyOf(phases), continued);
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

  /**
   * One Spark job: a task per run of {@code runs} that is not settled yet, nor committed to the result store already
   * (those are installed from there first). Each task uploads its run to the store and hands back only its {@link
   * RunRecord}; the driver installs each run as its task ends (streamed from the store, checked against the record),
   * then deletes its store entry. A failed job leaves every run installed so far in place.
   */
  private void phase(JavaSparkContext sc, SweepDriver.Phase p) {
    List<SweepRun> runs = p.runs();
    String name = p.name();
    List<SweepRun> all = p.all();
    ResultStore st = store(sc);
    List<Task> todo = new ArrayList<>();
    Map<String, SweepRun> byId = new HashMap<>();
    int stored = 0;
    boolean scan = !sc.getConf().getBoolean(NO_STORE_SCAN, false);
    for (SweepRun r : unsettled(runs)) {
      if (scan && installStored(st, r)) {
        stored++;
        continue;
      }
      todo.add(Task.of(r));
      byId.put(r.runId(), r);
    }
    log(String.format(Locale.ROOT, "phase %s: %d runs, %d already done%s, %d Spark tasks", name, runs.size(),
        runs.size() - todo.size() - stored, stored > 0 ? ", " + stored + " installed from the result store" : "",
        todo.size()));
    phases.add(new Phase(name, runs.size(), todo.size()));
    if (todo.isEmpty()) {
      if (stored > 0) {
        driver.aggregate();
      }
      pruneContinuations(st, p);
      return;
    }
    sc.setJobDescription("pathsgd " + spec.name() + " --scale " + scale + ": " + name + " (" + todo.size() + " runs)");
    String fail = sc.getConf().get(FAIL_ONCE, "");
    int failAlways = sc.getConf().getInt(FAIL_ALWAYS, -1);
    JavaRDD<RunRecord> rdd = sc.parallelize(todo, todo.size()).map(new Train(scratchPath(), fail, failAlways, st,
        halving == null ? null : new ArrayList<>(halving.budgets()), halving == null ? 0 : halving.keep(),
        sc.getConf().getInt("spark.task.cpus", 1)));
    BlockingQueue<RunRecord> done = new LinkedBlockingQueue<>();
    List<Object> parts = new ArrayList<>();
    for (int i = 0; i < todo.size(); i++) {
      parts.add(i);
    }
    FutureAction<BoxedUnit> job = sc.sc().submitJob(rdd.rdd(), new PartitionRecords(),
        CollectionConverters.asScala(parts).toSeq(), new Enqueue(done), new NoResult());
    int installed = 0;
    List<String> refused = new ArrayList<>();
    try {
      while (true) {
        RunRecord rec = done.poll(250, TimeUnit.MILLISECONDS);
        if (rec == null) {
          if (!job.isCompleted()) {
            continue;
          }
          rec = done.poll();
          if (rec == null) {
            break;
          }
        }
        SweepRun r = byId.get(rec.runId());
        String problem = installResult(st, r, rec, all.size());
        if (problem != null) {
          refused.add(problem);
        } else {
          installed++;
        }
      }
    } catch (InterruptedException e) {
      job.cancel();
      Thread.currentThread().interrupt();
      throw new IllegalStateException("phase " + name + ": interrupted after " + installed + " of " + todo.size()
          + " runs were installed", e);
    } finally {
      driver.aggregate();
    }
    try {
      job.get();
    } catch (Exception e) {
      Throwable c = e.getCause() != null && e.getMessage() == null ? e.getCause() : e;
      throw new IllegalStateException(String.format(Locale.ROOT, "phase %s: the Spark job failed after %d of %d "
          + "runs were installed (they stay installed; rerun to train the others): %s", name, installed, todo.size(),
          String.valueOf(c.getMessage()).lines().findFirst().orElse("")), e);
    }
    if (!refused.isEmpty()) {
      throw new IllegalStateException("phase " + name + ": " + refused.size() + " runs not installed (rerun to train "
          + "them again): " + String.join("; ", refused));
    }
    pruneContinuations(st, p);
  }

  /**
   * After phase p: removes the continuation checkpoints ({@link ResultStore#continuation}) no run will need, those of
   * every planned run except p's own when p is a halving rung before the last (the next rung continues from them).
   */
  private void pruneContinuations(ResultStore st, SweepDriver.Phase p) {
    if (halving == null) {
      return;
    }
    java.util.Set<String> keep = new java.util.HashSet<>();
    if (p.name().startsWith(SweepRun.SELECT)) {
      p.runs().forEach(r -> keep.add(r.runId()));
    }
    for (SweepRun r : p.all()) {
      if (!keep.contains(r.runId()) && r.phase().equals(SweepRun.SELECT)) {
        st.deleteContinuation(r.runId());
      }
    }
  }

  /**
   * Installs run r from the result store when an earlier driver's task committed it there and its record and files
   * check (the planned run id and config hash, each file's size and SHA-256); else deletes what the store holds of it.
   *
   * @return true when installed
   */
  private boolean installStored(ResultStore st, SweepRun r) {
    RunRecord rec;
    try {
      rec = st.record(r.runId());
      if (rec == null) {
        return false;
      }
    } catch (IOException e) {
      log(r.runId() + ": " + e.getMessage() + "; training it again");
      st.delete(r.runId());
      return false;
    }
    String problem = ResultStore.mismatch(rec, r);
    if (problem == null) {
      try {
        SweepTasks.install(opt.out(), r, ResultStore.names(rec), st.source(rec));
        st.delete(r.runId());
        fromStore++;
        log(String.format(Locale.ROOT, "%s %s: installed from the result store %s (trained earlier on %s)",
            r.runId(), r.phase(), st.entry(r.runId()), rec.host()));
        return true;
      } catch (UncheckedIOException | IllegalStateException e) {
        problem = e.getMessage();
      }
    }
    log(r.runId() + ": result in the store " + st.entry(r.runId()) + " refused (" + problem + "); training it again");
    st.delete(r.runId());
    return false;
  }

  /** Installs a task's run from the store; returns what was wrong when it was not installed, else null. */
  private String installResult(ResultStore st, SweepRun r, RunRecord rec, int planned) {
    if (r == null) {
      return "a task handed back run " + rec.runId() + ", which this phase did not plan";
    }
    String problem;
    try {
      RunRecord committed = st.record(r.runId());
      if (committed == null) {
        problem = "its task committed it, but " + st.entry(r.runId()) + "/" + ResultStore.RECORD + " is not there: "
            + "the driver must reach the result store at the same URI as every executor (a shared mount, hdfs://, "
            + "s3a://; --store)";
      } else if (!java.util.Objects.equals(committed.files(), rec.files())
          || !java.util.Objects.equals(committed.folder(), rec.folder())) {
        problem = "its record.json in the store differs from the one its task handed back";
      } else {
        problem = ResultStore.mismatch(committed, r);
      }
      if (problem == null) {
        if (rec.attempt() > 0) {
          retried++;
        }
        if (committed.continuedAfter() > 0) {
          continued++;
        }
        if (SweepTasks.install(opt.out(), r, ResultStore.names(committed), st.source(committed))) {
          trained++;
        } else {
          skipped++;
        }
        st.delete(r.runId());
        log(String.format(Locale.ROOT, "[%d/%d] %s %s: %s on %s (attempt %d%s, %.1fs)", r.index() + 1, planned,
            r.runId(), r.phase(), ResultStore.names(committed).contains(SweepTasks.MISSING_JSON) ? "no data"
                : "trained", rec.host(), rec.attempt(), committed.continuedAfter() > 0 ? ", continued from the "
                + "previous rung after epoch " + committed.continuedAfter() : "", rec.seconds()));
        return null;
      }
    } catch (IOException | UncheckedIOException | IllegalStateException e) {
      problem = e.getMessage();
    }
    st.delete(r.runId());
    log(r.runId() + ": not installed (" + problem + ")");
    return "run " + r.runId() + " (" + problem + ")";
  }

  /** The result store ({@link Options#store}, {@link #STORE}, SCRATCH/results, or local mode's tmpdir default). */
  private ResultStore store(JavaSparkContext sc) {
    if (store == null) {
      String uri = opt.store() != null ? opt.store() : sc.getConf().get(STORE, null);
      if (uri == null) {
        if (opt.scratch() != null) {
          uri = opt.scratch().toAbsolutePath().resolve("results").toUri().toString();
        } else if (sc.isLocal()) {
          uri = Path.of(System.getProperty("java.io.tmpdir"), "pathsgd-spark", "results").toUri().toString();
        } else {
          throw new IllegalArgumentException("no result store for master " + sc.master() + ": set --store URI (or "
              + STORE + "), a folder the driver and every executor reach (file:///shared/mount/results, "
              + "hdfs://namenode/path, s3a://bucket/path); tasks upload each finished run there and the driver "
              + "installs it from there");
        }
      }
      store = ResultStore.of(uri, sc.getConf());
    }
    return store;
  }

  /**
   * The noise-floor phase: no Spark job; the driver trains each unfinished noise run itself, one at a time (OpenBLAS's
   * thread count is process-wide, and no task runs now), into its scratch folder, and installs it as a task's result.
   * {@link SweepTasks#trainOne} pins the run's BLAS thread count (as the embedded runner's noise runs get it); the
   * driver's count before the phase is set back afterwards.
   */
  private void noisePhase(SweepDriver.Phase p) {
    List<SweepRun> runs = p.runs();
    List<SweepRun> all = p.all();
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
        untrusted(dir, r);
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
        driver.aggregate();
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

  /**
   * Deletes {@code dir} when it holds a finished run (or a missing-data record): a scratch folder's finished result is
   * never taken as it is (it may be a stale leftover, edited since); only a result committed to the store, with its
   * checksums, is. A checkpoint of an unfinished run stays (a retried attempt resumes from it).
   */
  static void untrusted(Path dir, SweepRun r) {
    if (Files.isDirectory(dir)) {
      String k = SweepTasks.kind(dir, r);
      if (k.equals("finished") || k.equals("missing-data")) {
        deleteQuietly(dir);
      }
    }
  }

  /** On the executor: the records of a partition (one task, one run). */
  static final class PartitionRecords extends AbstractFunction1<scala.collection.Iterator<RunRecord>,
      ArrayList<RunRecord>> implements Serializable {
    private static final long serialVersionUID = 1L;

    @Override
    public ArrayList<RunRecord> apply(scala.collection.Iterator<RunRecord> it) {
      ArrayList<RunRecord> l = new ArrayList<>();
      while (it.hasNext()) {
        l.add(it.next());
      }
      return l;
    }
  }

  /** On the driver, as each task ends: its records onto the queue the driver installs from. */
  static final class Enqueue extends AbstractFunction2<Object, ArrayList<RunRecord>, BoxedUnit> {
    private final BlockingQueue<RunRecord> queue;

    Enqueue(BlockingQueue<RunRecord> queue) {
      this.queue = queue;
    }

    @Override
    public BoxedUnit apply(Object partition, ArrayList<RunRecord> records) {
      queue.addAll(records);
      return BoxedUnit.UNIT;
    }
  }

  static final class NoResult extends AbstractFunction0<BoxedUnit> {
    @Override
    public BoxedUnit apply() {
      return BoxedUnit.UNIT;
    }
  }

  /**
   * The task: trains one run into its scratch folder (locked against another attempt of the run, which then trains in
   * a folder of its own), uploads the result files to the store and commits them, and hands back the small record.
   */
  static final class Train implements Function<Task, RunRecord> {
    private static final long serialVersionUID = 1L;
    private final String scratch;
    private final String failOnce;
    private final int failAlways;
    private final ResultStore store;
    private final ArrayList<Integer> budgets;
    private final double keep;
    private final int cpus;

    /**
     * @param budgets the successive-halving plan's budgets (null: no halving), with {@code keep} its fraction kept
     * @param cpus {@code spark.task.cpus}: the threads the task's κ work may use ({@link TaskThreads})
     */
    Train(String scratch, String failOnce, int failAlways, ResultStore store, ArrayList<Integer> budgets, double keep,
        int cpus) {
      this.scratch = scratch;
      this.failOnce = failOnce;
      this.failAlways = failAlways;
      this.store = store;
      this.budgets = budgets;
      this.keep = keep;
      this.cpus = cpus;
    }

    @Override
    public RunRecord call(Task t) throws Exception {
      TaskContext ctx = TaskContext.get(); // a thread-local of the task's thread: read here, not in the pool
      return TaskThreads.call(cpus, () -> train(t, ctx));
    }

    private RunRecord train(Task t, TaskContext ctx) throws Exception {
      long t0 = System.nanoTime();
      SuccessiveHalving.Plan halving = budgets == null ? null : new SuccessiveHalving.Plan(budgets, keep);
      SweepRun r = t.run();
      int attempt = ctx == null ? 0 : ctx.attemptNumber();
      String host;
      try {
        host = InetAddress.getLocalHost().getHostName();
      } catch (IOException e) {
        host = "?";
      }
      if (r.index() == failAlways) {
        throw new IllegalStateException(FAIL_ALWAYS + ": run " + r.runId() + " fails (attempt " + attempt + ")");
      }
      RunRecord had;
      try {
        had = store.record(r.runId());
      } catch (IOException e) {
        had = null;
        store.deleteRecord(r.runId()); // unreadable: no attempt of this run wrote it whole
      }
      if (had != null && ResultStore.mismatch(had, r) == null) { // an earlier attempt committed it already
        return had.seenBy(host, attempt, (System.nanoTime() - t0) / 1e9);
      }
      if (had != null) {
        store.deleteRecord(r.runId()); // another run's or config's record: no attempt of this run wrote it
      }
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
      String app = SparkEnv.get() == null ? "app" : SparkEnv.get().conf().getAppId();
      String tag = app + "-" + (ctx == null ? 0 : ctx.taskAttemptId());
      Path base = scratchDir(scratch, r.runId());
      Files.createDirectories(base.getParent());
      Path lockFile = base.resolveSibling(r.runId() + ".lock");
      try (FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
        FileLock lock;
        try {
          lock = ch.tryLock();
        } catch (OverlappingFileLockException e) {
          lock = null; // another attempt in this JVM holds it
        }
        Path dir = lock != null ? base : base.resolveSibling(r.runId() + "." + tag.replaceAll("[^A-Za-z0-9_.-]", "_"));
        try {
          untrusted(dir, r);
          int continuedAfter = 0;
          String prev = SweepTasks.previousRung(halving, r);
          if (prev != null && !Files.exists(RunDirectory.checkpoint(dir))) {
            // a kept α's later rung: continue from the previous rung's final checkpoint, as the embedded runner does
            Files.createDirectories(dir);
            Path copy = dir.resolve(".previous-rung.bin");
            if (store.fetchContinuation(prev, copy)) {
              continuedAfter = SweepTasks.continueFrom(halving, r, dir, copy);
            }
            Files.deleteIfExists(copy);
          }
          List<String> files = SweepTasks.trainInto(r, dir, fault, halving); // names: the store uploads from dir
          Path cont = dir.resolve(SweepTasks.CONTINUE);
          if (Files.isRegularFile(cont)) { // before the commit: a committed rung run's continuation is there
            store.putContinuation(r.runId(), cont, tag);
          }
          RunRecord rec = store.commit(r, dir, new java.util.LinkedHashSet<>(files), tag, host, attempt,
              (System.nanoTime() - t0) / 1e9, continuedAfter);
          deleteQuietly(dir);
          if (lock != null) {
            Files.deleteIfExists(lockFile); // while held: the run is committed, no attempt needs it any more
          }
          return rec;
        } finally {
          if (lock != null) {
            lock.release();
          }
        }
      }
    }
  }
}
