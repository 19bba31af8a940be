package io.github.pathsgd.experiments.sweep;

import io.github.pathsgd.experiments.config.ConfigHash;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.github.pathsgd.data.DataException;
import io.github.pathsgd.data.DataRequest;
import io.github.pathsgd.data.DataSplits;
import io.github.pathsgd.data.Datasets;
import io.github.pathsgd.data.Preprocessing;
import io.github.pathsgd.experiments.config.Configs;
import io.github.pathsgd.experiments.config.TrainConfig;
import io.github.pathsgd.train.io.AtomicFiles;
import io.github.pathsgd.experiments.rundir.MetricsCsv;
import io.github.pathsgd.experiments.rundir.Provenance;
import io.github.pathsgd.experiments.rundir.RunWriter;
import io.github.pathsgd.experiments.sweep.SweepSpec.SweepRun;
import io.github.pathsgd.train.history.RunResult;
import io.github.pathsgd.experiments.config.Components;
import io.github.pathsgd.train.Trainer;
import io.github.pathsgd.train.listener.TrainingListener;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

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
  /** Thrown by the test hook to simulate a kill. */
  public static final class Interrupted extends RuntimeException {
    Interrupted(String m) {
      super(m);
    }
  }

  /** Test hook: called after each checkpoint of a run this invocation trains (it may block, or throw). */
  @FunctionalInterface
  public interface CheckpointHook {
    /**
     * @param run the run
     * @param started how many runs this invocation had started training before this one (0 for its first)
     * @param epoch the epoch just checkpointed
     */
    void afterCheckpoint(SweepRun run, int started, int epoch);
  }

  /**
   * @param out the output folder
   * @param jobs runs at once (1 = sequential, BLAS threads as the config says)
   * @param shardIndex k of k/N
   * @param shardCount N of k/N (1 = no sharding)
   * @param dataDir the data folder for every run (null = the config's, else the default)
   * @param log progress lines (null = quiet)
   * @param stopAfterRuns test hook: after this many trained runs, interrupt the next one (-1 = never)
   * @param interruptAtEpoch test hook: the interrupted run stops after writing its checkpoint of this epoch
   *     (0 = before it starts)
   * @param hook test hook called after every checkpoint (null = none)
   */
  public record Options(Path out, int jobs, int shardIndex, int shardCount, Path dataDir, PrintStream log,
      int stopAfterRuns, int interruptAtEpoch, CheckpointHook hook) {
    public Options {
      if (jobs < 1) {
        throw new IllegalArgumentException("--jobs must be >= 1, got " + jobs);
      }
      if (shardCount < 1 || shardIndex < 0 || shardIndex >= shardCount) {
        throw new IllegalArgumentException("--shard must be k/N with 0 <= k < N, got " + shardIndex + "/" + shardCount);
      }
    }

    public static Options of(Path out) {
      return new Options(out, 1, 0, 1, null, null, -1, 0, null);
    }

    public Options withJobs(int j) {
      return new Options(out, j, shardIndex, shardCount, dataDir, log, stopAfterRuns, interruptAtEpoch, hook);
    }

    public Options withShard(int k, int n) {
      return new Options(out, jobs, k, n, dataDir, log, stopAfterRuns, interruptAtEpoch, hook);
    }

    public Options withDataDir(Path d) {
      return new Options(out, jobs, shardIndex, shardCount, d, log, stopAfterRuns, interruptAtEpoch, hook);
    }

    public Options withLog(PrintStream l) {
      return new Options(out, jobs, shardIndex, shardCount, dataDir, l, stopAfterRuns, interruptAtEpoch, hook);
    }

    public Options withInterrupt(int afterRuns, int atEpoch) {
      return new Options(out, jobs, shardIndex, shardCount, dataDir, log, afterRuns, atEpoch, hook);
    }

    public Options withHook(CheckpointHook h) {
      return new Options(out, jobs, shardIndex, shardCount, dataDir, log, stopAfterRuns, interruptAtEpoch, h);
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
   */
  public record Outcome(int planned, int trained, int skipped, int diverged, int missingData, boolean interrupted,
      boolean selectionPending, List<SweepRun> runs, int repaired, int busy, List<String> damaged,
      boolean combinedKept) {}

  static final String COMPLETED = RunResult.COMPLETED;
  static final String DIVERGED = RunResult.DIVERGED;
  static final String MISSING = "missing-data";
  static final String LOCKS = ".locks";

  private enum Result { DONE, TRAINED, MISSING, BUSY, INTERRUPTED }

  private final SweepSpec spec;
  private final String scale;
  private final int seeds;
  private final Options opt;
  private final AtomicInteger trained = new AtomicInteger();
  private final AtomicInteger skipped = new AtomicInteger();
  private final AtomicInteger diverged = new AtomicInteger();
  private final AtomicInteger missing = new AtomicInteger();
  private final AtomicInteger repaired = new AtomicInteger();
  private final AtomicInteger busy = new AtomicInteger();
  private final AtomicBoolean interrupted = new AtomicBoolean();
  private final AtomicInteger started = new AtomicInteger();
  private volatile List<SweepRun> all = List.of();
  /** False while the plan lacks the retraining runs of a step-size selection (not yet decided). */
  private volatile boolean planComplete = true;
  private volatile Aggregate lastAggregate;

  public SweepRunner(SweepSpec spec, String scale, int seeds, Options opt) {
    this.spec = spec;
    this.scale = scale;
    this.seeds = seeds;
    this.opt = opt;
    spec.scale(scale);
  }

  /** The planned first-phase runs with this invocation's data dir and thread setting applied. */
  public List<SweepRun> plan() {
    List<SweepRun> out = new ArrayList<>();
    for (SweepRun r : spec.expand(scale, seeds)) {
      out.add(adapt(r));
    }
    return out;
  }

  private SweepRun adapt(SweepRun r) {
    TrainConfig c = r.config();
    if (opt.dataDir() != null) {
      c = SweepSpec.with(c, "data_dir", opt.dataDir().toString());
    }
    if (opt.jobs() > 1) {
      c = SweepSpec.with(c, "threads", 1);
    }
    return new SweepRun(r.index(), r.phase(), r.runId(), c, r.alpha());
  }

  private List<SweepRun> withFinals(List<SweepRun> first, Selection sel) {
    List<SweepRun> both = new ArrayList<>(first);
    for (SweepRun r : SweepSpec.finals(sel.chosenRuns(), seeds, first.size())) {
      both.add(adapt(r));
    }
    return both;
  }

  public Outcome run() {
    try {
      Files.createDirectories(opt.out().resolve("runs"));
      Path locks = opt.out().resolve(LOCKS);
      if (Files.isSymbolicLink(locks)) {
        throw new IllegalArgumentException(locks + " is a symbolic link; expected the sweep's own lock folder "
            + "(remove it)");
      }
      Files.createDirectories(locks);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create " + opt.out() + ": " + e.getMessage(), e);
    }
    List<SweepRun> first = plan();
    SweepSpec.StepSize st = spec.stepSize(scale);
    FileLocks.Held lock = combinedLock();
    try {
      writeSweepJson();
      all = first;
      planComplete = st == null;
      if (st != null) {
        // a resumed sweep whose selection is already decided: the combined files cover its retraining runs at once
        Selection sel = Selection.compute(first, opt.out(), st);
        if (sel.complete()) {
          all = withFinals(first, sel);
          planComplete = true;
        }
      }
      aggregateHeld();
    } finally {
      lock.close();
    }
    execute(first);
    boolean pending = false;
    if (st != null && !interrupted.get()) {
      Selection sel;
      lock = combinedLock();
      try {
        sel = Selection.compute(first, opt.out(), st);
        sel.write(opt.out());
      } finally {
        lock.close();
      }
      if (sel.complete()) {
        List<SweepRun> both = withFinals(first, sel);
        all = both;
        planComplete = true;
        aggregate();
        execute(both.subList(first.size(), both.size()));
      } else {
        pending = true;
        log("step-size selection pending: " + sel.unfinished() + " selection runs not finished yet (other shards?)");
      }
    }
    aggregate();
    Aggregate a = lastAggregate;
    for (String d : a.damaged()) {
      log("damaged run left out of the combined files: " + d + (opt.shardCount() > 1 ? "; the shard it belongs to "
          + "trains it again" : "; rerun the sweep to train it again"));
    }
    if (!a.written()) {
      log("combined files left as they were: the step-size selection is pending and they list " + a.kept().size()
          + " retraining run(s) still intact on disk (" + String.join(", ", a.kept()) + "); rerun once every "
          + "selection run has finished");
    }
    return new Outcome(all.size(), trained.get(), skipped.get(), diverged.get(), missing.get(), interrupted.get(),
        pending, all, repaired.get(), busy.get(), a.damaged(), !a.written());
  }

  private void execute(List<SweepRun> runs) {
    List<SweepRun> mine = new ArrayList<>();
    for (SweepRun r : runs) {
      if (r.index() % opt.shardCount() == opt.shardIndex()) {
        mine.add(r);
      }
    }
    DataCache cache = new DataCache();
    Set<String> expected = ConcurrentHashMap.newKeySet();
    for (SweepRun r : mine) {
      if (!RunFolder.inspect(dir(r), r).finished()) {
        cache.expect(request(r.config()));
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
      if (opt.jobs() == 1) {
        for (SweepRun r : todo) {
          if (interrupted.get()) {
            return;
          }
          if (runOne(r, cache, expected, wait) == Result.BUSY) {
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
            if (!interrupted.get() && runOne(r, cache, expected, wait) == Result.BUSY) {
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

  private Path dir(SweepRun r) {
    return opt.out().resolve("runs").resolve(r.runId());
  }

  private Path lockFile(SweepRun r) {
    return opt.out().resolve(LOCKS).resolve(r.runId() + ".lock");
  }

  private FileLocks.Held combinedLock() {
    Path f = opt.out().resolve(LOCKS).resolve("combined.lock");
    FileLocks.Held h = FileLocks.lock(f); // held for moments only: no message
    if (h == null) {
      throw new IllegalStateException("cannot lock " + f + ": this process holds it under another name");
    }
    return h;
  }

  /** Forgets the run's data request once it is settled (not for a run left to another sweep). */
  private static void settle(SweepRun r, DataCache cache, Set<String> expected) {
    if (expected.remove(r.runId())) {
      cache.release(request(r.config()));
    }
  }

  private Result runOne(SweepRun r, DataCache cache, Set<String> expected, boolean wait) {
    Path dir = dir(r);
    String head = String.format(Locale.ROOT, "[%d/%d] %s %s", r.index() + 1, all.size(), r.runId(), label(r));
    if (RunFolder.inspect(dir, r).finished()) {
      skipped.incrementAndGet();
      settle(r, cache, expected);
      log(head + ": already done, skipped");
      return Result.DONE;
    }
    Path lf = lockFile(r);
    FileLocks.Held lock = FileLocks.tryLock(lf);
    if (lock == null && wait) {
      log(head + ": waiting for " + FileLocks.holder(lf) + ", which is training it");
      lock = FileLocks.lock(lf);
    }
    if (lock == null) {
      log(head + ": being trained by another sweep (" + FileLocks.holder(lf) + "); coming back to it after the "
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
      aggregate();
    }
    return res;
  }

  /** Trains run r (or records its absent data); only while holding its lock. */
  private Result train(SweepRun r, Path dir, String head, DataCache cache) {
    RunFolder.State state = RunFolder.inspect(dir, r);
    if (state.finished()) {
      skipped.incrementAndGet();
      log(head + ": already done (by another sweep), skipped");
      return Result.DONE;
    }
    if (state.kind() == RunFolder.Kind.DAMAGED) {
      Path to = RunFolder.moveAside(dir);
      repaired.incrementAndGet();
      log(head + ": damaged (" + state.problem() + "); its files moved to " + opt.out().relativize(to)
          + ", training it again");
    }
    DataRequest req = request(r.config());
    int n = started.getAndIncrement();
    boolean victim = opt.stopAfterRuns() >= 0 && n == opt.stopAfterRuns();
    if (victim && opt.interruptAtEpoch() == 0) {
      interrupted.set(true);
      return Result.INTERRUPTED;
    }
    DataSplits data;
    try {
      data = cache.get(req);
    } catch (DataException e) {
      missing.incrementAndGet();
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("run_id", r.runId());
      m.put("status", MISSING);
      m.put("reason", e.getMessage());
      RunWriter.writeJson(dir.resolve("missing.json"), m);
      log(head + ": no data (" + e.getMessage() + "), skipped");
      return Result.MISSING;
    }
    long t0 = System.nanoTime();
    try {
      TrainConfig cfg = r.config();
      Trainer trainer = Components.trainer(cfg, data);
      RunWriter writer = new RunWriter(dir, r.runId(), ConfigHash.configHash(cfg), cfg, data.provenance());
      Path ckpt = dir.resolve("checkpoint.bin");
      int[] resumedAfter = {-1};
      RunResult res = trainer.run(new TrainingListener() {
        @Override
        public void onResume(List<io.github.pathsgd.train.history.EpochRecord> earlier) {
          writer.onResume(earlier);
          resumedAfter[0] = earlier.get(earlier.size() - 1).epoch();
        }

        @Override
        public void onEpoch(io.github.pathsgd.train.history.EpochRecord rec) {
          writer.onEpoch(rec);
        }

        @Override
        public void onCheckpoint(int epoch) {
          if (opt.hook() != null) {
            opt.hook().afterCheckpoint(r, n, epoch);
          }
          if (victim && epoch >= opt.interruptAtEpoch()) {
            interrupted.set(true);
            throw new Interrupted("test hook: interrupted after epoch " + epoch);
          }
        }
      }, ckpt);
      writer.finish(res);
      Files.deleteIfExists(ckpt);
      Files.deleteIfExists(dir.resolve("missing.json"));
      trained.incrementAndGet();
      if (DIVERGED.equals(res.status())) {
        diverged.incrementAndGet();
      }
      log(String.format(Locale.ROOT, "%s: %s after %d epochs%s, train err %.4f, test err %.4f (%.1fs)", head,
          res.status(), res.epochsCompleted(), resumedAfter[0] >= 0 ? " (resumed after epoch " + resumedAfter[0]
          + ")" : "", res.last().trainError(), res.last().testError(), (System.nanoTime() - t0) / 1e9));
      return Result.TRAINED;
    } catch (Interrupted e) {
      log(head + ": " + e.getMessage());
      return Result.INTERRUPTED;
    } catch (IOException e) {
      throw new UncheckedIOException(e.getMessage(), e);
    }
  }

  static String label(SweepRun r) {
    TrainConfig c = r.config();
    return String.format(Locale.ROOT, "%s %s %s %s h=%s d=%s lr=%s seed %d", r.phase(), c.dataset(), c.optimizer(),
        c.init(), c.hidden(), c.dropout(), c.lr(), c.seed());
  }

  private void log(String s) {
    if (opt.log() != null) {
      synchronized (opt.log()) {
        opt.log().println(s);
        opt.log().flush();
      }
    }
  }

  /** The data request a config makes (as {@link Components#loadData(TrainConfig)} does). */
  static DataRequest request(TrainConfig cfg) {
    Preprocessing pre = new Preprocessing(cfg.standardize(), cfg.downsample(), cfg.grayscale(), cfg.perClassTrain());
    return new DataRequest(cfg.dataset(), cfg.dataDir() == null ? null : Path.of(cfg.dataDir()),
        Components.validationSize(cfg), cfg.seed(), pre);
  }

  /** Loads each distinct request once; forgets it when the last run that needs it has finished. */
  static final class DataCache {
    private static final class Entry {
      int remaining;
      DataSplits value;
      DataException error;
    }

    private final Map<DataRequest, Entry> entries = new HashMap<>();

    synchronized void expect(DataRequest r) {
      entries.computeIfAbsent(r, k -> new Entry()).remaining++;
    }

    DataSplits get(DataRequest r) {
      Entry e;
      synchronized (this) {
        e = entries.computeIfAbsent(r, k -> new Entry());
      }
      synchronized (e) {
        if (e.value == null && e.error == null) {
          try {
            e.value = Datasets.load(r);
          } catch (DataException ex) {
            e.error = ex;
          }
        }
        if (e.error != null) {
          throw e.error;
        }
        return e.value;
      }
    }

    synchronized void release(DataRequest r) {
      Entry e = entries.get(r);
      if (e != null && --e.remaining <= 0) {
        entries.remove(r);
      }
    }
  }

  private void writeSweepJson() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("experiment", spec.name());
    m.put("description", spec.description());
    m.put("figure", spec.figure());
    m.put("claim", spec.claim());
    m.put("scale", scale);
    m.put("scale_description", spec.scale(scale).description());
    m.put("seeds", seeds);
    m.put("pathsgd_version", Provenance.version());
    SweepSpec.StepSize st = spec.stepSize(scale);
    if (st != null) {
      Map<String, Object> s = new LinkedHashMap<>();
      s.put("alphas", st.alphas());
      s.put("tolerance", st.tol());
      s.put("group_by", st.group());
      s.put("rule", Selection.RULE);
      m.put("step_size", s);
    }
    Path f = opt.out().resolve("sweep.json");
    try {
      byte[] now = Configs.json().writeValueAsBytes(m);
      if (Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS) && Arrays.equals(Files.readAllBytes(f), now)) {
        return; // another copy of this sweep wrote it: leave its time stamp alone
      }
    } catch (IOException e) {
      // rewrite it below
    }
    RunWriter.writeJson(f, m);
  }

  /**
   * What rebuilding the combined files found.
   *
   * @param written false when they were left as they were
   * @param damaged planned runs left out because their files are damaged, "run_id (what is wrong)"
   * @param kept when not written: the intact runs they list that the plan lacks
   */
  record Aggregate(boolean written, List<String> damaged, List<String> kept) {}

  /** Rebuilds the combined files from the per-run files, in expansion order (under the folder's combined lock). */
  public void aggregate() {
    FileLocks.Held lock = combinedLock();
    try {
      aggregateHeld();
    } finally {
      lock.close();
    }
  }

  private void aggregateHeld() {
    lastAggregate = aggregate(opt.out(), all, planComplete);
  }

  /**
   * Rebuilds the combined files from every intact run folder of {@code runs}. With {@code planComplete} false (the
   * retraining runs of a pending step-size selection are not in {@code runs}) they are left as they are when the
   * current runs.jsonl lists a run outside {@code runs} whose folder is still intact, so they never lose one.
   */
  static Aggregate aggregate(Path out, List<SweepRun> runs, boolean planComplete) {
    StringBuilder metrics = new StringBuilder(MetricsCsv.HEADER).append('\n');
    StringBuilder timings = new StringBuilder("run_id,epoch,seconds\n");
    StringBuilder jsonl = new StringBuilder();
    ObjectWriter w = Configs.json().writer().without(SerializationFeature.INDENT_OUTPUT);
    List<String> damaged = new ArrayList<>();
    Set<String> included = new HashSet<>();
    try {
      for (SweepRun r : runs) {
        Path d = out.resolve("runs").resolve(r.runId());
        RunFolder.State st = RunFolder.inspect(d, r);
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("index", r.index());
        line.put("phase", r.phase());
        line.put("run_id", r.runId());
        switch (st.kind()) {
          case FINISHED -> {
            JsonNode s = st.json();
            JsonNode c = st.config();
            line.put("status", s.path("status").asText());
            line.put("reason", s.path("reason").asText());
            line.put("alpha", r.alpha());
            line.put("config", c.get("config"));
            line.put("summary", s);
            line.put("data", c.get("data"));
            line.put("provenance", c.get("provenance"));
            jsonl.append(w.writeValueAsString(line)).append('\n');
            included.add(r.runId());
            for (MetricsCsv.Row row : st.metrics()) {
              if (row.split().equals("train") && row.metric().equals("seconds")) {
                String[] f = row.line().split(",", -1);
                timings.append(f[0]).append(',').append(f[1]).append(',').append(f[4]).append('\n');
              } else {
                metrics.append(row.line()).append('\n');
              }
            }
          }
          case MISSING_DATA -> {
            line.put("status", MISSING);
            line.put("reason", st.json().path("reason").asText());
            line.put("alpha", r.alpha());
            line.put("config", Configs.toMap(r.config()));
            line.put("provenance", Map.of("pathsgd_version", Provenance.version()));
            jsonl.append(w.writeValueAsString(line)).append('\n');
            included.add(r.runId());
          }
          case DAMAGED -> damaged.add(r.runId() + " (" + st.problem() + ")");
          case UNFINISHED -> {
            // not yet
          }
          default -> throw new IllegalStateException(st.kind().toString());
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the run files in " + out + ": " + e.getMessage(), e);
    }
    if (!planComplete) {
      List<String> kept = listedAndIntact(out, included);
      if (!kept.isEmpty()) {
        return new Aggregate(false, damaged, kept);
      }
    }
    AtomicFiles.writeString(out.resolve("metrics.csv"), metrics.toString());
    AtomicFiles.writeString(out.resolve("timings.csv"), timings.toString());
    AtomicFiles.writeString(out.resolve("runs.jsonl"), jsonl.toString());
    return new Aggregate(true, damaged, List.of());
  }

  /** The runs the current runs.jsonl lists, outside {@code included}, whose folders are still intact. */
  private static List<String> listedAndIntact(Path out, Set<String> included) {
    Path jl = out.resolve("runs.jsonl");
    List<String> kept = new ArrayList<>();
    if (!Files.isRegularFile(jl, LinkOption.NOFOLLOW_LINKS)) {
      return kept;
    }
    List<String> lines;
    try {
      lines = Files.readAllLines(jl, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return kept; // unreadable: it lists nothing that could be lost
    }
    for (String l : lines) {
      JsonNode n;
      try {
        n = Configs.json().readTree(l);
      } catch (IOException e) {
        continue;
      }
      if (n == null || !n.path("run_id").isTextual()) {
        continue;
      }
      String id = n.path("run_id").asText();
      if (included.contains(id) || !id.matches("[0-9a-f]{12}")) {
        continue;
      }
      Path d = out.resolve("runs").resolve(id);
      boolean intact;
      try {
        TrainConfig c = Configs.json().treeToValue(n.path("config"), TrainConfig.class);
        SweepRun r = new SweepRun(n.path("index").asInt(), n.path("phase").asText(), id, c,
            n.path("alpha").isInt() ? n.path("alpha").asInt() : null);
        RunFolder.Kind k = RunFolder.inspect(d, r).kind();
        intact = k == RunFolder.Kind.FINISHED || k == RunFolder.Kind.MISSING_DATA;
      } catch (IOException | RuntimeException e) {
        intact = Files.exists(d.resolve(RunFolder.SUMMARY)); // cannot check it: keep it when in doubt
      }
      if (intact) {
        kept.add(id);
      }
    }
    return kept;
  }
}
