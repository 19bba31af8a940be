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
import io.github.pathsgd.model.SafeTensors;
import io.github.pathsgd.train.history.RunResult;
import io.github.pathsgd.train.io.AtomicFiles;
import io.github.pathsgd.train.io.OutputTarget;
import io.github.pathsgd.train.listener.TrainingListener;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The steps of a sweep that engines training each run somewhere else share (pathsgd-spark's executor, {@code
 * experiments merge}): train ONE planned run into a folder and take its result files ({@link #trainOne}), install them
 * into the sweep folder ({@link #install}), decide the step-size selection ({@link #select}; with successive halving
 * rung by rung), rebuild the combined files ({@link #aggregate}). The phases and their runs come from {@link
 * SweepPlan}, their order from {@link SweepDriver}. Every step writes what {@link SweepRunner} writes, by the same
 * code ({@link RunDirectory}, {@link RunFolder}, {@link SweepAggregate}, {@link Selection}), so a sweep run this way
 * ends with the same {@code metrics.csv}, byte for byte.
 *
 * <p>A later halving rung's run continues from the previous rung's {@code continue.bin} when {@link #trainOne} is
 * given it ({@link Continuation}), as the embedded runner's does; without it the run trains from epoch 0 to the same
 * files (a run's first b epochs do not depend on its epoch budget), at the cost {@link SuccessiveHalving.Plan#epochs}
 * instead of {@link SuccessiveHalving.Plan#continuedEpochs}.
 */
public final class SweepTasks {
  private SweepTasks() {}

  /** The files a finished run hands back, written in this order ({@code summary.json} last: it marks the run done). */
  public static final List<String> RESULT_FILES = List.of(RunFolder.CONFIG, RunFolder.METRICS, RunFolder.SUMMARY);

  /**
   * The run's final network in safetensors format, written before summary.json; a result carries it when the run
   * folder has it (folders of sweeps before it was written do not).
   */
  public static final String MODEL = RunFolder.MODEL;

  /** The file of a run whose data are absent. */
  public static final String MISSING_JSON = RunFolder.MISSING_JSON;

  /** The files a sweep writes into its folder itself (the run folders are under {@code runs/}). */
  public static final List<String> SWEEP_FILES = List.of("sweep.json", "metrics.csv", "timings.csv", "runs.jsonl",
      "selection.csv", "selection.json", "runs");

  /**
   * Checks that none of the sweep's own files in {@code out} ({@link #SWEEP_FILES}, {@code runs/} included) is a
   * symbolic link that leads out of {@code out} ({@link OutputTarget#checkInside}).
   *
   * @throws OutputTarget.Refused naming the link and where it leads
   */
  public static void checkSweepFolder(Path out) {
    for (String f : SWEEP_FILES) {
      OutputTarget.checkInside(out, out.resolve(f));
    }
  }

  /**
   * Checks that the run folder {@code dir} (in {@code out/runs}) is not reached through a symbolic link that leads out
   * of the sweep folder {@code out}. The files inside it are checked where they are written ({@link
   * RunWriter#checkFolder}, {@link AtomicFiles#writeInside}); a finished run's result file that is a link is damage,
   * moved aside with the run's other files ({@link RunFolder}).
   *
   * @throws OutputTarget.Refused naming the link and where it leads
   */
  public static void checkRunFolder(Path out, Path dir) {
    OutputTarget.checkInside(out, dir);
  }

  /**
   * Refuses a sweep with a noise-floor phase, for {@code experiments merge}: it copies the first phase's and the final
   * runs of shard folders, and does not plan the noise runs (planned after the final runs). The embedded runner and
   * pathsgd-spark (whose driver trains them, one at a time) run them.
   */
  public static void requireNoNoiseFloor(SweepSpec spec, String scale) {
    if (spec.noiseFloor(scale) != null) {
      throw new ConfigException("noise_floor", "sweep " + spec.name() + " (scale " + scale + ") has a noise-floor "
          + "phase (runs with pinned BLAS thread counts, planned after the final runs), which 'pathsgd experiments "
          + "merge' does not plan; run it with 'pathsgd experiments run' (--shard k/N on one shared folder) or with "
          + "pathsgd-spark, or use a scale without one");
    }
  }

  /**
   * Refuses a sweep whose step-size selection is successive halving, for {@code experiments merge}: it copies the
   * first phase's and the final runs of shard folders, and does not plan halving's later rungs (which the selection
   * plans from the earlier rungs' results). pathsgd-spark runs halving ({@link #select} plans each rung).
   */
  public static void requireExhaustive(SweepSpec spec, String scale) {
    SweepSpec.StepSize st = spec.stepSize(scale);
    if (st != null && st.halving()) {
      throw new ConfigException("step_size.rule", "sweep " + spec.name() + " (scale " + scale + ") selects the step "
          + "size by successive halving, whose later rungs 'pathsgd experiments merge' does not plan (it merges the "
          + "first phase and the final runs); run it with 'pathsgd experiments run' (--shard k/N on one shared "
          + "folder) or with pathsgd-spark, or use --set scales." + scale + ".step_size.rule=exhaustive for the "
          + "shards and the merge");
    }
  }

  /** True when run r needs no training: its folder in {@code out/runs} is finished and intact, or records absent data. */
  public static boolean settled(Path out, SweepRun r) {
    RunFolder.Kind k = RunFolder.inspect(out.resolve("runs").resolve(r.runId()), r).kind();
    return k == RunFolder.Kind.FINISHED || k == RunFolder.Kind.MISSING_DATA;
  }

  /** What {@link #settled} found wrong with a damaged run folder, or null. */
  public static String damage(Path out, SweepRun r) {
    RunFolder.State s = RunFolder.inspect(out.resolve("runs").resolve(r.runId()), r);
    return s.kind() == RunFolder.Kind.DAMAGED ? s.problem() : null;
  }

  /**
   * Trains run r into the run folder {@code dir} (resuming from its checkpoint; moving damaged files aside first), or
   * takes the result already there, and returns the result files by name: config.json, metrics.csv, summary.json, or
   * missing.json alone when its data are absent.
   *
   * @param extra told of every training event (progress, fault injection in tests); may throw to end the run
   */
  public static Map<String, byte[]> trainOne(SweepRun r, Path dir, TrainingListener extra) {
    return trainOne(r, dir, extra, null);
  }

  /** The file a halving rung's run leaves next to its result for the next rung to continue from ({@link #trainOne}). */
  public static final String CONTINUE = Continuation.FILE;

  /**
   * The run id of the previous rung's run that successive halving's run r continues ({@link Continuation}), or null
   * when r is not a later rung's run of {@code halving} (null: no halving).
   */
  public static String previousRung(SuccessiveHalving.Plan halving, SweepRun r) {
    return halving == null ? null : Continuation.previous(halving, r);
  }

  /**
   * Before {@link #trainOne}: seeds the empty run folder {@code dir} of a later halving rung's run r with the
   * checkpoint {@code from}, a copy of its previous rung's {@link #CONTINUE}, so that r resumes after the previous
   * rung's last epoch, as the embedded runner's run does; nothing happens when {@code dir} has a checkpoint or summary
   * already or {@code from} is not a checkpoint of the previous rung's config.
   *
   * @return the epoch r continues after, 0 when it trains from scratch (or resumes its own checkpoint)
   */
  public static int continueFrom(SuccessiveHalving.Plan halving, SweepRun r, Path dir, Path from) {
    try {
      return halving == null ? 0 : Continuation.seedFrom(halving, r, dir, from);
    } catch (IOException e) {
      throw new UncheckedIOException("run " + r.runId() + ": cannot write its checkpoint from " + from + ": "
          + e.getMessage(), e);
    }
  }

  /**
   * As {@link #trainOne(SweepRun, Path, TrainingListener)}; with {@code halving} (null: none), a halving rung's run
   * before the last that completes leaves its final checkpoint as {@link #CONTINUE} in {@code dir} (not a result file).
   */
  public static Map<String, byte[]> trainOne(SweepRun r, Path dir, TrainingListener extra,
      SuccessiveHalving.Plan halving) {
    List<String> names = trainInto(r, dir, extra, halving);
    try {
      Map<String, byte[]> files = new LinkedHashMap<>();
      for (String f : names) {
        files.put(f, Files.readAllBytes(dir.resolve(f)));
      }
      return files;
    } catch (IOException e) {
      throw new UncheckedIOException("run " + r.runId() + " in " + dir + ": " + e.getMessage(), e);
    }
  }

  /**
   * As {@link #trainOne(SweepRun, Path, TrainingListener, SuccessiveHalving.Plan)}, returning only the result files'
   * names (in install order), none of them read: for an engine that uploads them from {@code dir} itself, so that a
   * model is never held whole in memory.
   */
  public static List<String> trainInto(SweepRun r, Path dir, TrainingListener extra, SuccessiveHalving.Plan halving) {
    try {
      Files.createDirectories(dir);
      RunFolder.State state = RunFolder.inspect(dir, r);
      if (state.kind() == RunFolder.Kind.DAMAGED) {
        RunFolder.moveAside(dir);
      }
      if (!state.finished()) {
        DataSplits data;
        try {
          data = Components.loadData(r.config());
        } catch (DataException e) {
          if (!(e instanceof DataMissingException)) { // data there, but the config does not fit them: the run fails
            throw new DataException("run " + r.runId() + ": refused, its config does not check (" + e.getMessage()
                + ")", e);
          }
          Map<String, Object> m = new LinkedHashMap<>();
          m.put("run_id", r.runId());
          m.put("status", SweepRunner.MISSING);
          m.put("reason", e.getMessage());
          RunWriter.writeJson(dir.resolve(RunFolder.MISSING_JSON), m);
          return List.of(RunFolder.MISSING_JSON);
        }
        TrainConfig cfg = r.config();
        RunDirectory.run(cfg, Components.trainer(cfg, data), data, dir,
            extra == null ? TrainingListener.NONE : extra, done -> {
              saveModel(dir, r, done);
              if (halving != null) {
                Continuation.keep(halving, r, dir, done);
              }
            },
            () -> modelEntry(dir)).result();
        Files.deleteIfExists(dir.resolve(RunFolder.MISSING_JSON));
        if (!RunFolder.inspect(dir, r).finished()) {
          throw new IllegalStateException("run " + r.runId() + " trained into " + dir + " but its files do not check: "
              + RunFolder.inspect(dir, r).problem());
        }
      }
      return resultNames(dir);
    } catch (IOException e) {
      throw new UncheckedIOException("run " + r.runId() + " in " + dir + ": " + e.getMessage(), e);
    }
  }

  /**
   * The result files of a finished run folder, by name, in the order they are installed: config.json, metrics.csv,
   * model.safetensors (when the folder has it), summary.json.
   */
  public static Map<String, byte[]> resultFiles(Path dir) throws IOException {
    Map<String, byte[]> files = new LinkedHashMap<>();
    for (String f : resultNames(dir)) {
      files.put(f, Files.readAllBytes(dir.resolve(f)));
    }
    return files;
  }

  /** The names of {@link #resultFiles}, in the same order, none of them read. */
  public static List<String> resultNames(Path dir) {
    List<String> names = new java.util.ArrayList<>();
    for (String f : RESULT_FILES) {
      if (f.equals(RunFolder.SUMMARY) && Files.isRegularFile(dir.resolve(MODEL))) {
        names.add(MODEL);
      }
      names.add(f);
    }
    return names;
  }

  /** Writes a sweep run's final network into its folder as {@link #MODEL} (before its summary.json). */
  static void saveModel(Path dir, SweepRun r, RunResult result) {
    OutputTarget.checkInside(dir, dir.resolve(MODEL));
    SafeTensors.write(result.network(), dir.resolve(MODEL), Map.of("pathsgd_run_id", r.runId(), "pathsgd_dataset",
        r.config().dataset(), "pathsgd_optimizer", r.config().optimizer(), "pathsgd_epochs",
        String.valueOf(result.epochsCompleted()), "pathsgd_status", result.status()));
  }

  /**
   * The {@code model} entry of a sweep run's summary.json: the model file's name, size in bytes and SHA-256, so that
   * a finished run whose model is deleted, cut short or replaced no longer counts as finished ({@link RunFolder}).
   */
  static Map<String, Object> modelEntry(Path dir) {
    Path f = dir.resolve(MODEL);
    java.security.MessageDigest md;
    try {
      md = java.security.MessageDigest.getInstance("SHA-256");
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    long n = 0;
    try (var in = Files.newInputStream(f, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      byte[] b = new byte[1 << 16];
      for (int k; (k = in.read(b)) > 0; ) {
        md.update(b, 0, k);
        n += k;
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + f + " back: " + e.getMessage(), e);
    }
    Map<String, Object> entry = new LinkedHashMap<>();
    entry.put("file", MODEL);
    entry.put("bytes", n);
    entry.put("sha256", java.util.HexFormat.of().formatHex(md.digest()));
    return Map.of("model", entry);
  }

  /**
   * Writes the result files of run r (from {@link #trainOne}) into {@code out/runs/<run_id>/}, under the run's lock:
   * each file atomically, summary.json (or missing.json) last, then the run's checkpoint is removed. A run folder
   * finished meanwhile (by another sweep) is left as it is; a damaged one has its files moved aside first.
   *
   * @return false when the folder was finished already and left alone
   */
  public static boolean install(Path out, SweepRun r, Map<String, byte[]> files) {
    return install(out, r, files.keySet(), name -> new java.io.ByteArrayInputStream(files.get(name)));
  }

  /** Where {@link #install(Path, SweepRun, java.util.Set, Source)} reads a result file from (a stream per file). */
  @FunctionalInterface
  public interface Source {
    /**
     * Opens result file {@code name}; the stream may throw an IOException while it is read (a checksum that does not
     * match), and then the file is not installed.
     */
    java.io.InputStream open(String name) throws IOException;
  }

  /**
   * As {@link #install(Path, SweepRun, Map)}, each file streamed from {@code src} (the model is never held whole in
   * memory): the files named by {@code names}, written in {@link #install(Path, SweepRun, Map)}'s order.
   */
  public static boolean install(Path out, SweepRun r, java.util.Set<String> names, Source src) {
    Path dir = out.resolve("runs").resolve(r.runId());
    boolean missing = names.contains(RunFolder.MISSING_JSON);
    if (!missing && !names.containsAll(RESULT_FILES)) {
      throw new IllegalArgumentException("run " + r.runId() + ": result lacks " + RESULT_FILES + ", got " + names);
    }
    checkRunFolder(out, dir); // no link out of the sweep folder on the way to the files written here
    FileLocks.Held lock = FileLocks.lock(out.resolve(SweepRunner.LOCKS).resolve(r.runId() + ".lock"));
    if (lock == null) {
      throw new IllegalStateException("cannot lock run " + r.runId() + ": this process holds it under another name");
    }
    try {
      RunFolder.State state = RunFolder.inspect(dir, r);
      if (state.finished()) {
        return false;
      }
      Files.createDirectories(dir);
      if (state.kind() == RunFolder.Kind.DAMAGED) {
        RunFolder.moveAside(dir);
      }
      if (missing) {
        copy(out, dir, RunFolder.MISSING_JSON, src);
        return true;
      }
      if (names.contains(MODEL)) { // before summary.json, which marks the run done
        copy(out, dir, MODEL, src);
      }
      for (String f : RESULT_FILES) {
        copy(out, dir, f, src);
      }
      Files.deleteIfExists(dir.resolve(RunFolder.MISSING_JSON));
      Files.deleteIfExists(RunDirectory.checkpoint(dir));
      RunFolder.State now = RunFolder.inspect(dir, r);
      if (!now.finished()) {
        throw new IllegalStateException("run " + r.runId() + ": the files handed back do not check (" + now.problem()
            + ")");
      }
      return true;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write run " + r.runId() + " into " + dir + ": " + e.getMessage(), e);
    } finally {
      lock.close();
    }
  }

  private static void copy(Path out, Path dir, String name, Source src) {
    AtomicFiles.writeInside(out, dir.resolve(name), o -> {
      try (java.io.InputStream in = src.open(name)) {
        in.transferTo(o);
      }
    });
  }

  /**
   * Computes the step-size selection from the finished select runs and writes selection.csv/.json (under the lock),
   * as the embedded runner does after each phase. With successive halving, {@link Selection#selectRuns} then holds
   * the runs of every rung whose previous rung is decided (train the new ones, then call this again), and the {@code
   * continue.bin} files no run will need are removed ({@code Continuation.prune}): an engine that trains elsewhere
   * never writes them, but a folder the embedded runner began may hold some.
   *
   * @param first the first phase's runs ({@link SweepPlan#first})
   */
  public static Selection select(Path out, List<SweepRun> first, SweepSpec.StepSize st) {
    Selection sel;
    try (FileLocks.Held h = combinedLock(out)) {
      sel = Selection.compute(first, out, st);
      sel.write(out);
    }
    if (st.halving()) {
      Continuation.prune(sel, st.plan(), out.resolve("runs"));
    }
    return sel;
  }

  /**
   * Rebuilds metrics.csv, timings.csv and runs.jsonl from the run folders of {@code runs}, in their order (under the
   * combined lock), as {@link SweepRunner} does.
   *
   * @param planComplete false while a step-size selection is pending (its retraining runs not in {@code runs})
   * @return the damaged runs left out ("run_id (what is wrong)"), empty when none
   */
  public static List<String> aggregate(Path out, List<SweepRun> runs, boolean planComplete) {
    try (FileLocks.Held h = combinedLock(out)) {
      return SweepAggregate.write(out, runs, planComplete).damaged();
    }
  }

  /** True when {@code dir} is a run folder name of this sweep layout: a 12-hex run id. */
  public static boolean isRunId(String name) {
    return name.matches("[0-9a-f]{12}");
  }

  /** The run folder kinds, for merging: "finished", "missing-data", "damaged" or "unfinished". */
  public static String kind(Path dir, SweepRun r) {
    return switch (RunFolder.inspect(dir, r).kind()) {
      case FINISHED -> "finished";
      case MISSING_DATA -> "missing-data";
      case DAMAGED -> "damaged";
      case UNFINISHED -> "unfinished";
    };
  }

  /** The sweep folder's combined-files lock ({@code .locks/combined.lock}), held for moments only (no message). */
  static FileLocks.Held combinedLock(Path out) {
    Path f = out.resolve(SweepRunner.LOCKS).resolve("combined.lock");
    FileLocks.Held h = FileLocks.lock(f);
    if (h == null) {
      throw new IllegalStateException("cannot lock " + f + ": this process holds it under another name");
    }
    return h;
  }
}
