package io.github.pathsgd.experiments.rundir;

import io.github.pathsgd.core.geometry.ModelNorms;
import io.github.pathsgd.train.history.EpochRecord;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Tidy (long-format) metrics: one row per run, epoch, split and metric, with the header
 * {@code run_id,epoch,split,metric,value}. Splits are {@code train}, {@code validation} and {@code test}; metrics are
 * {@code loss} (mean cross-entropy), {@code error} (fraction misclassified), and for {@code train} also
 * {@code seconds} (wall time of the epoch's steps) and, for Path-SGD, {@code kappa_clamped}. The split {@code model}
 * holds the network's norms after the epoch when they are recorded ({@link ModelNorms#NAMES}: {@code path_norm_1},
 * {@code path_norm_2}, {@code path_norm_inf}, {@code l2_norm}, {@code max_unit_norm}, {@code spectral_norm_product}).
 * Unmeasured values (NaN) are left out.
 *
 * <p>Reading ({@link #parse}) is strict, because a sweep decides from a run's metrics.csv whether the run is intact:
 * the exact header, five fields per row, the expected run id, a non-negative integer epoch, a known split, a metric
 * name, a value as {@link #format} writes it, no (epoch, split, metric) twice, and a newline at the end (a file cut
 * short mid-row has none).
 */
public final class MetricsCsv {
  public static final String HEADER = "run_id,epoch,split,metric,value";

  private static final Pattern VALUE = Pattern.compile("-?(\\d+(\\.\\d*)?|\\.\\d+)([eE][-+]?\\d+)?");
  private static final Pattern RUN_ID = Pattern.compile("[0-9a-f]{12}");
  private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9_]*");
  /** The split of the network's own measures ({@link ModelNorms#NAMES}). */
  public static final String MODEL = "model";
  private static final Set<String> SPLITS = Set.of("train", "validation", "test", MODEL);

  private MetricsCsv() {}

  /**
   * One row as read back.
   *
   * @param line the row's text, exactly as in the file (without the newline)
   */
  public record Row(String runId, int epoch, String split, String metric, double value, String line) {
    /** The value exactly as the file spells it. */
    public String valueText() {
      return line.substring(line.lastIndexOf(',') + 1);
    }
  }

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
    if (r.norms() != null) {
      double[] v = r.norms().values();
      for (int i = 0; i < v.length; i++) {
        add(out, runId, r.epoch(), MODEL, ModelNorms.NAMES.get(i), v[i]);
      }
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

  /**
   * Parses a run's metrics.csv text.
   *
   * @param text the file's content
   * @param source how to name the file in errors (e.g. its path)
   * @param runId the run id every row must carry; null for a sweep's combined file, whose rows may be of any run (a
   *     run id of 12 hex digits; no (run, epoch, split, metric) twice)
   * @throws IllegalArgumentException naming the source, the line and what was expected
   */
  public static List<Row> parse(String text, String source, String runId) {
    if (text.isEmpty()) {
      throw new IllegalArgumentException(source + ": empty file, expected the header " + HEADER);
    }
    if (!text.endsWith("\n")) {
      throw new IllegalArgumentException(source + ": the last line has no newline (the file was cut short?)");
    }
    String[] lines = text.substring(0, text.length() - 1).split("\n", -1);
    if (!lines[0].equals(HEADER)) {
      throw new IllegalArgumentException(source + " line 1: expected the header " + HEADER + ", got '"
          + clip(lines[0]) + "'");
    }
    List<Row> rows = new ArrayList<>(lines.length - 1);
    Set<String> seen = new HashSet<>();
    for (int i = 1; i < lines.length; i++) {
      String l = lines[i];
      String at = source + " line " + (i + 1) + ": ";
      String[] f = l.split(",", -1);
      if (f.length != 5) {
        throw new IllegalArgumentException(at + "expected 5 comma-separated fields (" + HEADER + "), got " + f.length
            + " in '" + clip(l) + "'");
      }
      if (runId != null && !f[0].equals(runId)) {
        throw new IllegalArgumentException(at + "expected run_id " + runId + ", got '" + clip(f[0]) + "'");
      }
      if (runId == null && !RUN_ID.matcher(f[0]).matches()) {
        throw new IllegalArgumentException(at + "expected a run_id of 12 hex digits, got '" + clip(f[0]) + "'");
      }
      if (!f[1].matches("\\d{1,9}")) {
        throw new IllegalArgumentException(at + "expected a non-negative integer epoch, got '" + clip(f[1]) + "'");
      }
      int epoch = Integer.parseInt(f[1]);
      if (!SPLITS.contains(f[2])) {
        throw new IllegalArgumentException(at + "expected split train, validation, test or model, got '" + clip(f[2])
            + "'");
      }
      if (!NAME.matcher(f[3]).matches()) {
        throw new IllegalArgumentException(at + "expected a metric name (a-z, 0-9, _), got '" + clip(f[3]) + "'");
      }
      double v = parseValue(f[4]);
      if (Double.isNaN(v)) {
        throw new IllegalArgumentException(at + "expected a number, inf or -inf as value, got '" + clip(f[4]) + "'");
      }
      if (!seen.add(f[0] + "," + epoch + "," + f[2] + "," + f[3])) {
        throw new IllegalArgumentException(at + (runId == null ? "run " + f[0] + " " : "") + "epoch " + epoch + " "
            + f[2] + " " + f[3] + " appears twice");
      }
      rows.add(new Row(f[0], epoch, f[2], f[3], v, l));
    }
    return rows;
  }

  /**
   * Reads a metrics.csv file: a run's ({@code runId} given) or a sweep's combined one ({@code runId} null), as
   * strictly as {@link #parse}.
   *
   * @throws IllegalArgumentException naming the file, the line and what was expected
   */
  public static List<Row> read(Path file, String runId) throws IOException {
    return parse(Files.readString(file, StandardCharsets.UTF_8), file.toString(), runId);
  }

  /** A value as {@link #format} writes it ("inf", "-inf" or a decimal); NaN for anything else. */
  public static double parseValue(String s) {
    if (s.equals("inf")) {
      return Double.POSITIVE_INFINITY;
    }
    if (s.equals("-inf")) {
      return Double.NEGATIVE_INFINITY;
    }
    if (!VALUE.matcher(s).matches()) {
      return Double.NaN;
    }
    return Double.parseDouble(s);
  }

  private static String clip(String s) {
    return s.length() <= 80 ? s : s.substring(0, 77) + "...";
  }
}
