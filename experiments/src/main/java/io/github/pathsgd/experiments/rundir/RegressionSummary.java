package io.github.pathsgd.experiments.rundir;

import io.github.pathsgd.core.nn.Loss;
import io.github.pathsgd.data.DataSplits;
import io.github.pathsgd.data.Dataset;
import io.github.pathsgd.train.history.EpochRecord;
import io.github.pathsgd.train.history.RunResult;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code regression} entry of a regression run's summary.json (the adding problem, docs/rnn.md): what its
 * metrics mean there (loss = mean squared error; error = the fraction of rows with |y − t| ≥ {@link
 * Loss#REGRESSION_TOLERANCE}), the baseline MSE of each split (predicting the constant 1, computed from that split's
 * targets: about 1/6 for the adding problem) and the final MSE of each split relative to its baseline.
 */
public final class RegressionSummary {
  private RegressionSummary() {}

  /** The entry for {@code result} over {@code data}; null when the data set is not a regression set. */
  public static Map<String, Object> of(RunResult result, DataSplits data) {
    if (!data.train().regression()) {
      return null;
    }
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("loss", "mean squared error");
    m.put("error", "fraction of rows with |prediction - target| >= " + Loss.REGRESSION_TOLERANCE
        + " (Hochreiter and Schmidhuber's adding-problem criterion)");
    m.put("baseline", "mean squared error of predicting the constant 1 on the split");
    Map<String, Object> base = new LinkedHashMap<>();
    Map<String, Object> rel = new LinkedHashMap<>();
    List<EpochRecord> h = result.history();
    EpochRecord last = h.get(h.size() - 1);
    put(base, rel, "train", data.train(), last.trainLoss());
    put(base, rel, "validation", data.validation(), last.validationLoss());
    put(base, rel, "test", data.test(), last.testLoss());
    m.put("baseline_mse", base);
    m.put("final_relative_mse", rel);
    return m;
  }

  private static void put(Map<String, Object> base, Map<String, Object> rel, String split, Dataset d, double mse) {
    if (d == null || d.n() == 0) {
      return;
    }
    double b = d.constantMse(1);
    base.put(split, b);
    rel.put(split, Double.isFinite(mse) ? mse / b : null);
  }
}
