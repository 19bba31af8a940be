package io.github.pathsgd.experiments.sweep;

import io.github.pathsgd.experiments.config.Components;
import io.github.pathsgd.experiments.config.TrainConfig;
import io.github.pathsgd.experiments.sweep.SweepSpec.SweepRun;
import io.github.pathsgd.train.history.RunResult;
import io.github.pathsgd.train.listener.TrainingCancelled;
import io.github.pathsgd.train.listener.TrainingListener;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * Runs a preset's sweep into an output folder, resumably.
 *
 * <p>Layout: {@code OUT/sweep.json} (preset, scale, seeds, version), {@code OUT/runs/<run_id>/} (config.json,
 * metrics.csv, summary.json, and checkpoint.bin while unfinished, or missing.json when its data are absent), and the
 * combined files {@code OUT/metrics.csv} (tidy, {@code run_id,epoch,split,metric,value}, without wall-clock metrics),
 * {@code OUT/timings.csv} ({@code run_id,epoch,seconds}), {@code OUT/runs.jsonl} (one line per finished run) and, for
 * presets with a step-size selection, {@code OUT/selection.csv} and {@code OUT/selection.json}. The combined files are
 * rebuilt atomically from the per-run files after every run, in expansion order, so an interrupted and resumed sweep
 * ends with the same metrics.csv, byte for byte, as an uninterrupted one.
 *
 * <p>Resume: a run whose files are intact ({@link RunFolder}) is skipped; an unfinished run resumes from its
 * checkpoint; a run whose files are damaged (an empty or unparsable summary.json, a truncated metrics.csv, a
 * config.json of another run, ...) has them moved into {@code runs/<run_id>/damaged-<time>/} and is trained again
 * (by the shard it belongs to; the others name it). Diverged runs are recorded (status diverged) and the sweep goes
 * on. With {@code jobs > 1}, runs go in parallel with one BLAS thread each (OpenBLAS threads are process-global). With
 * a shard k/N only runs whose index ≡ k (mod N) are run; the combined files cover every finished run in the folder,
 * whichever shard ran it. Data are loaded once per distinct request and shared, read-only, by the runs that need them.
 *
 * <p>Concurrency: several sweeps (copies, shards, processes or threads) may share one folder. Each run is trained
 * under an exclusive OS file lock on {@code OUT/.locks/<run_id>.lock} ({@link FileLocks}), checked again once held:
 * a sweep that finds a run locked goes on with the next and, after its other runs, waits for that lock, so every run
 * is trained once and every copy ends with the sweep finished. sweep.json, the combined files and the selection files
 * are written under {@code OUT/.locks/combined.lock}. The OS drops a killed process's locks, so its run is taken over
 * (from its checkpoint). A finished run's files are never written again. The combined files are only replaced by a
 * set of runs that keeps every intact run they list: while the step-size selection is pending (its retraining runs
 * are not yet known), they are left as they are if they list retraining runs that are still intact on disk.
 */
public final class SweepRunner {
  /**
   * @param out the output folder
   * @param jobs runs at once (1 = sequential, BLAS threads as the config says)
   * @param shardIndex k of k/N
   * @param shardCount N of k/N (1 = no sharding)
   * @param dataDir the data folder for every run (null = the config's, else the default)
   * @param log progress lines (null = quiet)
   * @param listeners a listener for each run this invocation trains, made when its training starts (null = none);
   *     it may throw {@link TrainingCancelled}, also when it is made, which ends the sweep as interrupted and leaves
   *     the run's checkpoint
   */
  public record Options(Path out, int jobs, int shardIndex, int shardCount, Path dataDir, PrintStream log,
      Function<SweepRun, TrainingListener> listeners) {
    public Options {
      if (jobs < 1) {
        throw new IllegalArgumentException("--jobs must be >= 1, got " + jobs);
      }
      if (shardCount < 1 || shardIndex < 0 || shardIndex >= shardCount) {
        throw new IllegalArgumentException("--shard must be k/N with 0 <= k < N, got " + shardIndex + "/" + shardCount);
      }
    }

    public static Options of(Path out) {
      return new Options(out, 1, 0, 1, null, null, null);
    }

    public Options withJobs(int j) {
      return new Options(out, j, shardIndex, shardCount, dataDir, log, listeners);
    }

    public Options withShard(int k, int n) {
      return new Options(out, jobs, k, n, dataDir, log, listeners);
    }

    public Options withDataDir(Path d) {
      return new Options(out, jobs, shardIndex, shardCount, d, log, listeners);
    }

    public Options withLog(PrintStream l) {
      return new Options(out, jobs, shardIndex, shardCount, dataDir, l, listeners);
    }

    public Options withListeners(Function<SweepRun, TrainingListener> f) {
      return new Options(out, jobs, shardIndex, shardCount, dataDir, log, f);
    }
  }

  /**
   * What a sweep invocation did.
   *
   * @param repaired runs found damaged, moved aside and trained again
   * @param busy runs left unfinished because another sweep held them and this one could not wait (0 normally)
   * @param damaged runs still damaged at the end ("run_id (what is wrong)"): other shards' runs, or left by an
   *     interruption
   * @param combinedKept true when the combined files were left as they were at the end, because rewriting them would
   *     have dropped intact retraining runs while the step-size selection is pending
   * @param failed runs refused because their config does not check against their data (a validation size larger
   *     than the training set, a downsample larger than the images, layers that do not fit the input ...), each
   *     "run_id (the reason)"; nothing is written for them, and the sweep fails once its other runs are done
   */
  public record Outcome(int planned, int trained, int skipped, int diverged, int missingData, boolean interrupted,
      boolean selectionPending, List<SweepRun> runs, int repaired, int busy, List<String> damaged,
      boolean combinedKept, List<String> failed) {}

  static final String COMPLETED = RunResult.COMPLETED;
  static final String DIVERGED = RunResult.DIVERGED;
  static final String MISSING = "missing-data";
  static final String LOCKS = ".locks";

  private final SweepPlan plan;
  final Options opt;
  private final SweepJob job = new SweepJob(this);
  final AtomicInteger trained = new AtomicInteger();
  final AtomicInteger skipped = new AtomicInteger();
  final AtomicInteger diverged = new AtomicInteger();
  final AtomicInteger missing = new AtomicInteger();
  final AtomicInteger repaired = new AtomicInteger();
  final AtomicInteger busy = new AtomicInteger();
  final AtomicBoolean interrupted = new AtomicBoolean();
  /** Runs refused because their config does not check ("run_id (reason)"), in the order found. */
  final List<String> failed = Collections.synchronizedList(new ArrayList<>());
  /** The sweep's state machine; this runner is its executor. */
  final SweepDriver driver;
  /** The successive-halving plan of the step-size selection, or null (exhaustive, or none). */
  final SuccessiveHalving.Plan halving;

  /** The runs planned so far (all of them once a step-size selection is decided), for the sweep's progress. */
  public int plannedRuns() {
    return driver.all().size();
  }

  public SweepRunner(SweepSpec spec, String scale, int seeds, Options opt) {
    this.opt = opt;
    // with several runs at once, one BLAS thread each (OpenBLAS's thread count is process-wide)
    this.plan = new SweepPlan(spec, scale, seeds, opt.dataDir(), opt.jobs() > 1 ? 1 : 0);
    this.driver = new SweepDriver(plan, opt.out(), this::log);
    SweepSpec.StepSize st = spec.stepSize(scale);
    this.halving = st == null ? null : st.plan();
  }

  /** The planned first-phase runs with this invocation's data dir and thread setting applied. */
  public List<SweepRun> plan() {
    return plan.first();
  }

  public Outcome run() {
    SweepDriver.Result res = driver.run(new SweepDriver.Executor() {
      @Override
      public void execute(SweepDriver.Phase p) {
        // noise runs one at a time: OpenBLAS's thread count is process-wide, so a pinned run must not share the process
        SweepRunner.this.execute(p.runs(), p.noise());
      }

      @Override
      public boolean stopped() {
        return interrupted.get();
      }
    });
    for (String d : res.damaged()) {
      log("damaged run left out of the combined files: " + d + (opt.shardCount() > 1 ? "; the shard it belongs to "
          + "trains it again" : "; rerun the sweep to train it again"));
    }
    if (!res.written()) {
      log("combined files left as they were: the step-size selection is pending and they list " + res.kept().size()
          + " retraining run(s) still intact on disk (" + String.join(", ", res.kept()) + "); rerun once every "
          + "selection run has finished");
    }
    return new Outcome(res.all().size(), trained.get(), skipped.get(), diverged.get(), missing.get(),
        interrupted.get(), res.pending(), res.all(), repaired.get(), busy.get(), res.damaged(), !res.written(),
        List.copyOf(failed));
  }

  private void execute(List<SweepRun> runs, boolean oneAtATime) {
    List<SweepRun> mine = new ArrayList<>();
    for (SweepRun r : runs) {
      if (r.index() % opt.shardCount() == opt.shardIndex()) {
        mine.add(r);
      }
    }
    DataCache cache = new DataCache();
    Set<String> expected = ConcurrentHashMap.newKeySet();
    for (SweepRun r : mine) {
      if (!RunFolder.inspect(opt.out().resolve("runs").resolve(r.runId()), r).finished()) {
        cache.expect(Components.dataRequest(r.config()));
        expected.add(r.runId());
      }
    }
    // first pass: every run not locked by another sweep; second pass: wait for those that were
    List<SweepRun> later = Collections.synchronizedList(new ArrayList<>());
    for (int pass = 0; pass < 2; pass++) {
      boolean wait = pass == 1;
      List<SweepRun> todo = pass == 0 ? mine : new ArrayList<>(later);
      if (wait) {
        // in plan order, whichever thread found them busy
        todo.sort(java.util.Comparator.comparingInt(SweepRun::index));
      }
      if (opt.jobs() == 1 || oneAtATime) {
        for (SweepRun r : todo) {
          if (interrupted.get()) {
            return;
          }
          if (job.run(r, cache, expected, wait) == SweepJob.Result.BUSY) {
            if (wait) {
              busy.incrementAndGet();
            } else {
              later.add(r);
            }
          }
        }
        continue;
      }
      ExecutorService pool = Executors.newFixedThreadPool(opt.jobs(), t -> {
        Thread th = new Thread(t, "sweep");
        th.setDaemon(true);
        return th;
      });
      try {
        List<Future<?>> fs = new ArrayList<>();
        for (SweepRun r : todo) {
          fs.add(pool.submit(() -> {
            if (!interrupted.get() && job.run(r, cache, expected, wait) == SweepJob.Result.BUSY) {
              if (wait) {
                busy.incrementAndGet();
              } else {
                later.add(r);
              }
            }
          }));
        }
        for (Future<?> f : fs) {
          try {
            f.get();
          } catch (ExecutionException e) {
            Throwable c = e.getCause();
            throw c instanceof RuntimeException re ? re : new IllegalStateException(c);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
          }
        }
      } finally {
        pool.shutdownNow();
      }
    }
  }

  static String label(SweepRun r) {
    TrainConfig c = r.config();
    return String.format(Locale.ROOT, "%s %s %s %s h=%s d=%s lr=%s seed %d%s", r.phase(), c.dataset(), c.optimizer(),
        c.init(), c.layers() != null ? c.layers().get(0) : c.hidden(), c.dropout(), c.lr(), c.seed(),
        Boolean.TRUE.equals(c.pinThreads()) ? ", " + c.threads() + " BLAS thread(s)" : "");
  }

  void log(String s) {
    if (opt.log() != null) {
      synchronized (opt.log()) {
        opt.log().println(s);
        opt.log().flush();
      }
    }
  }

  /** Rebuilds the combined files from the per-run files, in expansion order (under the folder's combined lock). */
  public void aggregate() {
    driver.aggregate();
  }
}
