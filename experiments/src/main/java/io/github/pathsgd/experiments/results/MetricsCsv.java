package io.github.pathsgd.experiments.results;

import io.github.pathsgd.experiments.train.EpochRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Tidy (long-format) metrics: one row per run, epoch, split and metric, with the header
 * {@code run_id,epoch,split,metric,value}. Splits are {@code train}, {@code validation} and {@code test}; metrics are
 * {@code loss} (mean cross-entropy), {@code error} (fraction misclassified), and for {@code train} also
 * {@code seconds} (wall time of the epoch's steps) and, for Path-SGD, {@code kappa_clamped}. Unmeasured values (NaN)
 * are left out.
 */
public final class MetricsCsv {
  public static final String HEADER = "run_id,epoch,split,metric,value";

  private MetricsCsv() {}

  /** The rows of one epoch record, without a trailing newline on the last. */
  public static List<String> rows(String runId, EpochRecord r) {
    List<String> out = new ArrayList<>();
    add(out, runId, r.epoch(), "train", "loss", r.trainLoss());
    add(out, runId, r.epoch(), "train", "error", r.trainError());
    add(out, runId, r.epoch(), "validation", "loss", r.validationLoss());
    add(out, runId, r.epoch(), "validation", "error", r.validationError());
    add(out, runId, r.epoch(), "test", "loss", r.testLoss());
    add(out, runId, r.epoch(), "test", "error", r.testError());
    if (r.epoch() > 0) {
      add(out, runId, r.epoch(), "train", "seconds", r.seconds());
    }
    if (r.kappaClamped() > 0) {
      add(out, runId, r.epoch(), "train", "kappa_clamped", r.kappaClamped());
    }
    return out;
  }

  private static void add(List<String> out, String runId, int epoch, String split, String metric, double v) {
    if (!Double.isNaN(v)) {
      out.add(runId + "," + epoch + "," + split + "," + metric + "," + format(v));
    }
  }

  /** Shortest round-trip decimal for doubles; infinities as "inf"/"-inf". */
  public static String format(double v) {
    if (Double.isInfinite(v)) {
      return v > 0 ? "inf" : "-inf";
    }
    return String.format(Locale.ROOT, "%s", v);
  }

  /** The whole CSV text for the records of one run. */
  public static String csv(String runId, List<EpochRecord> history) {
    StringBuilder sb = new StringBuilder(HEADER).append('\n');
    for (EpochRecord r : history) {
      for (String row : rows(runId, r)) {
        sb.append(row).append('\n');
      }
    }
    return sb.toString();
  }
}
