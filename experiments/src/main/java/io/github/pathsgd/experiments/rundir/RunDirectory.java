package io.github.pathsgd.experiments.rundir;

import io.github.pathsgd.data.DataSplits;
import io.github.pathsgd.experiments.config.ConfigHash;
import io.github.pathsgd.experiments.config.TrainConfig;
import io.github.pathsgd.train.Trainer;
import io.github.pathsgd.train.history.RunResult;
import io.github.pathsgd.train.listener.Listeners;
import io.github.pathsgd.train.listener.TrainingListener;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Trains one config into one run folder: the one path of {@code pathsgd train} and of every sweep run. It writes
 * config.json at the start, metrics.csv after every epoch and checkpoint.bin after every epoch ({@link RunWriter}),
 * resumes from the checkpoint when the folder holds one, and at the end writes what the caller adds (a model file),
 * then summary.json, and only then removes the checkpoint, so a run that fails at the end resumes there.
 */
public final class RunDirectory {
  private RunDirectory() {}

  /** The checkpoint file of the run folder {@code dir}. */
  public static Path checkpoint(Path dir) {
    return dir.resolve("checkpoint.bin");
  }

  /** What the caller writes after training, before summary.json (a model file); it may throw to keep the run open. */
  @FunctionalInterface
  public interface BeforeSummary {
    void accept(RunResult result) throws IOException;
  }

  /**
   * A finished run.
   *
   * @param summary the summary.json object
   */
  public record Finished(RunResult result, Map<String, Object> summary) {}

  /**
   * Trains {@code cfg} with {@code trainer} (built from it, over {@code data}) into {@code dir}.
   *
   * @param listener told of every event after the run's writer (progress, test hooks)
   */
  public static Finished run(TrainConfig cfg, Trainer trainer, DataSplits data, Path dir, TrainingListener listener,
      BeforeSummary beforeSummary) throws IOException {
    return run(cfg, trainer, data, dir, listener, beforeSummary, () -> null);
  }

  /**
   * {@link #run(TrainConfig, Trainer, DataSplits, Path, TrainingListener, BeforeSummary)}, adding the fields {@code
   * summaryFields} gives, asked after {@code beforeSummary} has run, to summary.json (null = none).
   */
  public static Finished run(TrainConfig cfg, Trainer trainer, DataSplits data, Path dir, TrainingListener listener,
      BeforeSummary beforeSummary, Supplier<Map<String, Object>> summaryFields) throws IOException {
    RunWriter.checkFolder(dir); // before a folder is created through a link that leaves the output folder
    if (!Files.isDirectory(dir)) {
      Files.createDirectories(dir);
    }
    RunWriter writer = new RunWriter(dir, ConfigHash.runId(cfg), ConfigHash.configHash(cfg), cfg, data.provenance());
    Path ckpt = checkpoint(dir);
    RunResult result = trainer.run(Listeners.compose(writer, listener), ckpt);
    beforeSummary.accept(result);
    Map<String, Object> extra = summaryFields.get();
    Map<String, Object> regression = RegressionSummary.of(result, data);
    if (regression != null) { // a regression run: what its loss and error mean, and the MSE against the baseline
      extra = new java.util.LinkedHashMap<>(extra == null ? Map.of() : extra);
      extra.put("regression", regression);
    }
    Map<String, Object> summary = writer.finish(result, extra);
    Files.deleteIfExists(ckpt);
    return new Finished(result, summary);
  }
}
