package io.github.pathsgd.experiments.sweep;

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
import io.github.pathsgd.experiments.results.AtomicFiles;
import io.github.pathsgd.experiments.results.MetricsCsv;
import io.github.pathsgd.experiments.results.Provenance;
import io.github.pathsgd.experiments.results.RunWriter;
import io.github.pathsgd.experiments.sweep.SweepSpec.SweepRun;
import io.github.pathsgd.experiments.train.RunResult;
import io.github.pathsgd.experiments.train.TrainRun;
import io.github.pathsgd.experiments.train.Trainer;
import io.github.pathsgd.experiments.train.TrainingListener;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
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
 * <p>Resume: a run with a summary.json is skipped; an unfinished run resumes from its checkpoint. Diverged runs are
 * recorded (status diverged) and the sweep goes on. With {@code jobs > 1}, runs go in parallel with one BLAS thread
 * each (OpenBLAS threads are process-global). With a shard k/N only runs whose index ≡ k (mod N) are run; the combined
 * files cover every finished run in the folder, whichever shard ran it. Data are loaded once per distinct request and
 * shared, read-only, by the runs that need them.
 */
public final class SweepRunner {
  /** Thrown by the test hook to simulate a kill. */
  public static final class Interrupted extends RuntimeException {
    Interrupted(String m) {
      super(m);
    }
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
   */
  public record Options(Path out, int jobs, int shardIndex, int shardCount, Path dataDir, PrintStream log,
      int stopAfterRuns, int interruptAtEpoch) {
    public Options {
      if (jobs < 1) {
        throw new IllegalArgumentException("--jobs must be >= 1, got " + jobs);
      }
      if (shardCount < 1 || shardIndex < 0 || shardIndex >= shardCount) {
        throw new IllegalArgumentException("--shard must be k/N with 0 <= k < N, got " + shardIndex + "/" + shardCount);
      }
    }

    public static Options of(Path out) {
      return new Options(out, 1, 0, 1, null, null, -1, 0);
    }

    public Options withJobs(int j) {
      return new Options(out, j, shardIndex, shardCount, dataDir, log, stopAfterRuns, interruptAtEpoch);
    }

    public Options withShard(int k, int n) {
      return new Options(out, jobs, k, n, dataDir, log, stopAfterRuns, interruptAtEpoch);
    }

    public Options withDataDir(Path d) {
      return new Options(out, jobs, shardIndex, shardCount, d, log, stopAfterRuns, interruptAtEpoch);
    }

    public Options withLog(PrintStream l) {
      return new Options(out, jobs, shardIndex, shardCount, dataDir, l, stopAfterRuns, interruptAtEpoch);
    }

    public Options withInterrupt(int afterRuns, int atEpoch) {
      return new Options(out, jobs, shardIndex, shardCount, dataDir, log, afterRuns, atEpoch);
    }
  }

  /** What a sweep invocation did. */
  public record Outcome(int planned, int trained, int skipped, int diverged, int missingData, boolean interrupted,
      boolean selectionPending, List<SweepRun> runs) {}

  static final String COMPLETED = RunResult.COMPLETED;
  static final String DIVERGED = RunResult.DIVERGED;
  static final String MISSING = "missing-data";

  private final SweepSpec spec;
  private final String scale;
  private final int seeds;
  private final Options opt;
  private final Object aggregateLock = new Object();
  private final AtomicInteger trained = new AtomicInteger();
  private final AtomicInteger skipped = new AtomicInteger();
  private final AtomicInteger diverged = new AtomicInteger();
  private final AtomicInteger missing = new AtomicInteger();
  private final AtomicBoolean interrupted = new AtomicBoolean();
  private final AtomicInteger started = new AtomicInteger();
  private volatile List<SweepRun> all = List.of();

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

  public Outcome run() {
    try {
      Files.createDirectories(opt.out().resolve("runs"));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create " + opt.out() + ": " + e.getMessage(), e);
    }
    writeSweepJson();
    List<SweepRun> first = plan();
    all = first;
    aggregate();
    execute(first);
    boolean pending = false;
    SweepSpec.StepSize st = spec.stepSize(scale);
    if (st != null && !interrupted.get()) {
      Selection sel = Selection.compute(first, opt.out(), st);
      sel.write(opt.out());
      if (sel.complete()) {
        List<SweepRun> finals = new ArrayList<>();
        for (SweepRun r : SweepSpec.finals(sel.chosenRuns(), seeds, first.size())) {
          finals.add(adapt(r));
        }
        List<SweepRun> both = new ArrayList<>(first);
        both.addAll(finals);
        all = both;
        aggregate();
        execute(finals);
      } else {
        pending = true;
        log("step-size selection pending: " + sel.unfinished() + " selection runs not finished yet (other shards?)");
      }
    }
    aggregate();
    return new Outcome(all.size(), trained.get(), skipped.get(), diverged.get(), missing.get(), interrupted.get(),
        pending, all);
  }

  private void execute(List<SweepRun> runs) {
    List<SweepRun> mine = new ArrayList<>();
    for (SweepRun r : runs) {
      if (r.index() % opt.shardCount() == opt.shardIndex()) {
        mine.add(r);
      }
    }
    DataCache cache = new DataCache();
    for (SweepRun r : mine) {
      if (!done(r)) {
        cache.expect(request(r.config()));
      }
    }
    if (opt.jobs() == 1) {
      for (SweepRun r : mine) {
        if (interrupted.get()) {
          return;
        }
        runOne(r, cache);
      }
      return;
    }
    ExecutorService pool = Executors.newFixedThreadPool(opt.jobs(), t -> {
      Thread th = new Thread(t, "sweep");
      th.setDaemon(true);
      return th;
    });
    try {
      List<Future<?>> fs = new ArrayList<>();
      for (SweepRun r : mine) {
        fs.add(pool.submit(() -> {
          if (!interrupted.get()) {
            runOne(r, cache);
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

  private Path dir(SweepRun r) {
    return opt.out().resolve("runs").resolve(r.runId());
  }

  private boolean done(SweepRun r) {
    return Files.exists(dir(r).resolve("summary.json"));
  }

  private void runOne(SweepRun r, DataCache cache) {
    Path dir = dir(r);
    String label = label(r);
    if (done(r)) {
      skipped.incrementAndGet();
      log(String.format(Locale.ROOT, "[%d/%d] %s %s: already done, skipped", r.index() + 1, all.size(), r.runId(),
          label));
      return;
    }
    DataRequest req = request(r.config());
    int n = started.getAndIncrement();
    boolean victim = opt.stopAfterRuns() >= 0 && n == opt.stopAfterRuns();
    if (victim && opt.interruptAtEpoch() == 0) {
      interrupted.set(true);
      cache.release(req);
      return;
    }
    DataSplits data;
    try {
      data = cache.get(req);
    } catch (DataException e) {
      cache.release(req);
      missing.incrementAndGet();
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("run_id", r.runId());
      m.put("status", MISSING);
      m.put("reason", e.getMessage());
      RunWriter.writeJson(dir.resolve("missing.json"), m);
      log(String.format(Locale.ROOT, "[%d/%d] %s %s: no data (%s), skipped", r.index() + 1, all.size(), r.runId(),
          label, e.getMessage()));
      aggregate();
      return;
    }
    long t0 = System.nanoTime();
    try {
      TrainConfig cfg = r.config();
      Trainer trainer = TrainRun.trainer(cfg, data);
      RunWriter writer = new RunWriter(dir, r.runId(), TrainRun.configHash(cfg), cfg, data.provenance());
      Path ckpt = dir.resolve("checkpoint.bin");
      RunResult res = trainer.run(new TrainingListener() {
        @Override
        public void onEpoch(io.github.pathsgd.experiments.train.EpochRecord rec) {
          writer.onEpoch(rec);
        }

        @Override
        public void onCheckpoint(int epoch) {
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
      log(String.format(Locale.ROOT, "[%d/%d] %s %s: %s after %d epochs, train err %.4f, test err %.4f (%.1fs)",
          r.index() + 1, all.size(), r.runId(), label, res.status(), res.epochsCompleted(), res.last().trainError(),
          res.last().testError(), (System.nanoTime() - t0) / 1e9));
    } catch (Interrupted e) {
      log(String.format(Locale.ROOT, "[%d/%d] %s %s: %s", r.index() + 1, all.size(), r.runId(), label,
          e.getMessage()));
      return;
    } catch (IOException e) {
      throw new UncheckedIOException(e.getMessage(), e);
    } finally {
      cache.release(req);
    }
    aggregate();
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

  /** The data request a config makes (as {@link TrainRun#loadData(TrainConfig)} does). */
  static DataRequest request(TrainConfig cfg) {
    Preprocessing pre = new Preprocessing(cfg.standardize(), cfg.downsample(), cfg.grayscale(), cfg.perClassTrain());
    return new DataRequest(cfg.dataset(), cfg.dataDir() == null ? null : Path.of(cfg.dataDir()),
        TrainRun.validationSize(cfg), cfg.seed(), pre);
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
    RunWriter.writeJson(opt.out().resolve("sweep.json"), m);
  }

  /** Rebuilds the combined files from the per-run files, in expansion order. */
  public void aggregate() {
    synchronized (aggregateLock) {
      aggregate(opt.out(), all);
    }
  }

  static void aggregate(Path out, List<SweepRun> runs) {
    StringBuilder metrics = new StringBuilder(MetricsCsv.HEADER).append('\n');
    StringBuilder timings = new StringBuilder("run_id,epoch,seconds\n");
    StringBuilder jsonl = new StringBuilder();
    ObjectWriter w = Configs.json().writer().without(SerializationFeature.INDENT_OUTPUT);
    try {
      for (SweepRun r : runs) {
        Path d = out.resolve("runs").resolve(r.runId());
        Path summary = d.resolve("summary.json");
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("index", r.index());
        line.put("phase", r.phase());
        line.put("run_id", r.runId());
        if (Files.exists(summary)) {
          JsonNode s = Configs.json().readTree(Files.readAllBytes(summary));
          JsonNode c = Configs.json().readTree(Files.readAllBytes(d.resolve("config.json")));
          line.put("status", s.path("status").asText());
          line.put("reason", s.path("reason").asText());
          line.put("alpha", r.alpha());
          line.put("config", c.get("config"));
          line.put("summary", s);
          line.put("data", c.get("data"));
          line.put("provenance", c.get("provenance"));
          jsonl.append(w.writeValueAsString(line)).append('\n');
          List<String> lines = Files.readAllLines(d.resolve("metrics.csv"), StandardCharsets.UTF_8);
          for (int i = 1; i < lines.size(); i++) {
            String l = lines.get(i);
            if (l.isEmpty()) {
              continue;
            }
            String[] f = l.split(",", -1);
            if (f.length == 5 && f[2].equals("train") && f[3].equals("seconds")) {
              timings.append(f[0]).append(',').append(f[1]).append(',').append(f[4]).append('\n');
            } else {
              metrics.append(l).append('\n');
            }
          }
        } else if (Files.exists(d.resolve("missing.json"))) {
          JsonNode s = Configs.json().readTree(Files.readAllBytes(d.resolve("missing.json")));
          line.put("status", MISSING);
          line.put("reason", s.path("reason").asText());
          line.put("alpha", r.alpha());
          line.put("config", Configs.toMap(r.config()));
          line.put("provenance", Map.of("pathsgd_version", Provenance.version()));
          jsonl.append(w.writeValueAsString(line)).append('\n');
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the run files in " + out + ": " + e.getMessage(), e);
    }
    AtomicFiles.writeString(out.resolve("metrics.csv"), metrics.toString());
    AtomicFiles.writeString(out.resolve("timings.csv"), timings.toString());
    AtomicFiles.writeString(out.resolve("runs.jsonl"), jsonl.toString());
  }
}
