package io.github.pathsgd.experiments.rundir;

import io.github.pathsgd.experiments.config.Configs;
import io.github.pathsgd.experiments.config.TrainConfig;
import io.github.pathsgd.train.history.EpochRecord;
import io.github.pathsgd.train.history.RunResult;
import io.github.pathsgd.train.io.AtomicFiles;
import io.github.pathsgd.train.io.OutputTarget;
import io.github.pathsgd.train.listener.TrainingListener;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes one run's result files into its output folder, each atomically:
 *
 * <ul>
 *   <li>{@code config.json}: the resolved config, the run id and config hash, the data provenance and the machine
 *       provenance (version, git commit, Java, OS, CPU, BLAS threads, start and end time);
 *   <li>{@code metrics.csv}: tidy long-format metrics ({@link MetricsCsv}), rewritten after every epoch;
 *   <li>{@code summary.json}: status, stop reason, epochs completed, final and best-validation figures.
 * </ul>
 *
 * <p>{@code summary.json} is written last, so that its presence says the run's other files are complete; a caller
 * writes the final model before {@link #finish} and removes the checkpoint after it. A new writer removes the
 * temporary files that a killed run left in the folder ({@link AtomicFiles#cleanOrphans(Path, java.util.Set)}).
 */
public final class RunWriter implements TrainingListener {
  private final Path dir;
  private final String runId;
  private final String configHash;
  private final TrainConfig config;
  private final Map<String, String> dataProvenance;
  private final Map<String, Object> machine;
  private final String start;
  private final List<EpochRecord> history = new ArrayList<>();

  /** The files a run writes into its folder (the checkpoint only while it is unfinished). */
  public static final List<String> FILES = List.of("config.json", "metrics.csv", "summary.json", "checkpoint.bin");

  public RunWriter(Path dir, String runId, String configHash, TrainConfig config, Map<String, String> dataProvenance) {
    checkFolder(dir);
    AtomicFiles.cleanOrphans(dir, java.util.Set.copyOf(FILES));
    this.dir = dir;
    this.runId = runId;
    this.configHash = configHash;
    this.config = config;
    this.dataProvenance = dataProvenance;
    this.machine = Provenance.machine();
    this.start = Instant.now().toString();
    writeConfig(null);
  }

  public Path dir() {
    return dir;
  }

  /**
   * Checks, before a run starts, that {@code dir} can hold a run's files: a writable folder, or a new one, whose
   * {@link #FILES} are each absent or something {@link OutputTarget} writes, and none a symbolic link that leads out of
   * the folder ({@link OutputTarget#checkInside}).
   *
   * @throws OutputTarget.Refused naming the path and what it is otherwise
   */
  public static void checkFolder(Path dir) {
    OutputTarget.checkFolder(dir);
    for (String f : FILES) {
      OutputTarget.checkInside(dir, dir.resolve(f));
      OutputTarget.of(dir.resolve(f));
    }
  }

  @Override
  public void onEpoch(EpochRecord record) {
    history.removeIf(r -> r.epoch() >= record.epoch());
    history.add(record);
    AtomicFiles.writeStringInside(dir, dir.resolve("metrics.csv"), MetricsCsv.csv(runId, history));
  }

  /** Seeds the history with the records of a resumed run, so metrics.csv keeps the epochs before the interruption. */
  @Override
  public void onResume(List<EpochRecord> earlier) {
    history.clear();
    history.addAll(earlier);
  }

  private void writeConfig(String end) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("run_id", runId);
    m.put("config_hash", configHash);
    m.put("config", config);
    m.put("data", dataProvenance);
    Map<String, Object> prov = new LinkedHashMap<>(machine);
    prov.put("start_time", start);
    prov.put("end_time", end);
    if (config.initModel() != null) { // the model the run started from: its file and content
      Map<String, Object> im = new LinkedHashMap<>();
      im.put("file", Path.of(config.initModel()).toAbsolutePath().normalize().toString());
      im.put("sha256", config.initModelSha256());
      prov.put("init_model", im);
    }
    m.put("provenance", prov);
    writeJson(dir, dir.resolve("config.json"), m);
  }

  /** Writes metrics.csv, the end time into config.json, and then summary.json, the last file of a run. */
  public Map<String, Object> finish(RunResult result) {
    return finish(result, null);
  }

  /**
   * {@link #finish(RunResult)} with {@code extra} fields added to summary.json after the run's own (null = none), e.g.
   * a sweep run's {@code model} entry.
   */
  public Map<String, Object> finish(RunResult result, Map<String, Object> extra) {
    AtomicFiles.writeStringInside(dir, dir.resolve("metrics.csv"), MetricsCsv.csv(runId, result.history()));
    writeConfig(Instant.now().toString());
    Map<String, Object> s = summary(runId, result);
    if (extra != null) {
      s.putAll(extra);
    }
    writeJson(dir, dir.resolve("summary.json"), s);
    return s;
  }

  /** The summary object of a run. */
  public static Map<String, Object> summary(String runId, RunResult result) {
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("run_id", runId);
    s.put("status", result.status());
    s.put("reason", result.reason());
    s.put("epochs_completed", result.epochsCompleted());
    EpochRecord last = result.last();
    Map<String, Object> fin = new LinkedHashMap<>();
    fin.put("epoch", last.epoch());
    fin.put("train_loss", num(last.trainLoss()));
    fin.put("train_error", num(last.trainError()));
    fin.put("validation_loss", num(last.validationLoss()));
    fin.put("validation_error", num(last.validationError()));
    fin.put("test_loss", num(last.testLoss()));
    fin.put("test_error", num(last.testError()));
    s.put("final", fin);
    EpochRecord best = null;
    for (EpochRecord r : result.history()) {
      if (r.epoch() > 0 && !Double.isNaN(r.validationError())
          && (best == null || r.validationError() < best.validationError())) {
        best = r;
      }
    }
    if (best != null) {
      Map<String, Object> b = new LinkedHashMap<>();
      b.put("epoch", best.epoch());
      b.put("validation_error", num(best.validationError()));
      b.put("test_error", num(best.testError()));
      s.put("best_validation", b);
    }
    double train = 0;
    for (EpochRecord r : result.history()) {
      train += r.seconds();
    }
    s.put("train_seconds", train);
    double norms = 0;
    boolean anyNorms = false;
    for (EpochRecord r : result.history()) {
      if (r.norms() != null) {
        norms += r.normSeconds();
        anyNorms = true;
      }
    }
    if (anyNorms) {
      s.put("norms_seconds", norms); // the cost of the model split's norms, all epochs (epoch 0 too) together
    }
    return s;
  }

  /** JSON has no NaN/Infinity: they become null (NaN) or the strings "inf"/"-inf". */
  static Object num(double v) {
    if (Double.isNaN(v)) {
      return null;
    }
    if (Double.isInfinite(v)) {
      return v > 0 ? "inf" : "-inf";
    }
    return v;
  }

  public static void writeJson(Path file, Object value) {
    AtomicFiles.write(file, out -> out.write(Configs.json().writeValueAsBytes(value)));
  }

  /** {@link #writeJson(Path, Object)} of a file inside the output folder {@code folder} ({@link AtomicFiles#writeInside}). */
  public static void writeJson(Path folder, Path file, Object value) {
    AtomicFiles.writeInside(folder, file, out -> out.write(Configs.json().writeValueAsBytes(value)));
  }
}
