package io.github.pathsgd.bench;

import io.github.pathsgd.core.optim.Optimizers;
import io.github.pathsgd.core.tensor.Blas;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The size sweep of {@code pathsgd bench --sweep}: SGD against Path-SGD over hidden widths, and its table. */
public final class SizeSweep {
  private SizeSweep() {}

  /** The two-hidden-layer network of the size sweep: {@code input}-{@code hidden}-{@code hidden}-10. */
  public static int[] sweepArch(int input, int hidden) {
    return new int[] {input, hidden, hidden, 10};
  }

  /**
   * One row of the size sweep: SGD and Path-SGD on {@code widths} at {@code threads} OpenBLAS threads (also the
   * threads of Path-SGD's κ pass), timed by {@code plan}; prints a progress line. The row's fields: threads, arch,
   * input, hidden, batch, sgd_ms_per_step, sgd_samples_per_s, path_sgd_ms_per_step, path_sgd_samples_per_s,
   * ratio_median, ratio_q25, ratio_q75 (the paired Path-SGD step / SGD step, {@link
   * StepBenchmark.StepTimes#pairedRatio}),
   * ratio_of_medians, warmup_steps, warmup_seconds_sgd, warmup_seconds_path_sgd, timed_steps, timed_seconds_sgd,
   * timed_seconds_path_sgd, drift_sgd, drift_path_sgd and gc_fraction.
   */
  public static Map<String, Object> sweepRow(int[] widths, int batch, int threads, StepBenchmark.Plan plan) {
    Blas.setThreads(threads);
    StepBenchmark.StepTimes t = StepBenchmark.stepSeconds(widths, batch,
        List.of(Optimizers.sgd(0.01), Optimizers.pathSgd(0.01, 2)), plan);
    double[] pr = t.pairedRatio()[1];
    Map<String, Object> row = new LinkedHashMap<>();
    row.put("threads", Blas.threads());
    row.put("arch", archString(widths));
    row.put("input", widths[0]);
    row.put("hidden", widths[1]);
    row.put("batch", batch);
    StepBenchmark.putStepRates(row, batch, t.seconds());
    row.put("ratio_median", pr[1]);
    row.put("ratio_q25", pr[0]);
    row.put("ratio_q75", pr[2]);
    row.put("ratio_of_medians", t.seconds()[1] / t.seconds()[0]);
    row.put("warmup_steps", t.warmupSteps());
    row.put("warmup_seconds_sgd", t.warmupSeconds()[0]);
    row.put("warmup_seconds_path_sgd", t.warmupSeconds()[1]);
    row.put("timed_steps", t.timedSteps());
    row.put("timed_seconds_sgd", t.timedSeconds()[0]);
    row.put("timed_seconds_path_sgd", t.timedSeconds()[1]);
    row.put("drift_sgd", StepBenchmark.finiteOrNull(t.drift()[0]));
    row.put("drift_path_sgd", StepBenchmark.finiteOrNull(t.drift()[1]));
    row.put("gc_fraction", t.gcFraction());
    System.out.printf(Locale.ROOT, "%d thread%s %-18s SGD %.3f ms/step, Path-SGD %.3f ms/step, Path-SGD / SGD %.3f"
        + " (%.3f-%.3f)%n", Blas.threads(), Blas.threads() == 1 ? " " : "s", archString(widths), t.seconds()[0] * 1e3,
        t.seconds()[1] * 1e3, pr[1], pr[0], pr[2]);
    System.out.println("          " + StepBenchmark.timingLine(archString(widths), t));
    return row;
  }

  /**
   * The size sweep's table: one line per row of {@link #sweepRow} (in the order given), with a PyTorch column when
   * some row has {@code pytorch_sgd_samples_per_s}, a trailing "*" on rows whose steps were still getting faster
   * (drift above {@link StepBenchmark#DRIFT_WARNING}), and the notes that say what the columns are.
   */
  public static String table(List<Map<String, Object>> rows, int batch, StepBenchmark.Plan plan) {
    boolean torch = rows.stream().anyMatch(r -> r.get("pytorch_sgd_samples_per_s") != null);
    StringBuilder b = new StringBuilder();
    b.append(String.format(Locale.ROOT, "Size sweep, batch %d: %s%n", batch, plan.describe()));
    b.append(String.format(Locale.ROOT, "%7s  %-16s %14s %19s %24s", "threads", "arch", "SGD samples/s",
        "Path-SGD samples/s", "Path-SGD/SGD step (IQR)"));
    b.append(torch ? String.format(Locale.ROOT, " %22s%n", "PyTorch SGD samples/s") : String.format("%n"));
    boolean drifting = false;
    for (Map<String, Object> r : rows) {
      String ratio = String.format(Locale.ROOT, "%.3f (%.3f-%.3f)", num(r, "ratio_median"), num(r, "ratio_q25"),
          num(r, "ratio_q75"));
      b.append(String.format(Locale.ROOT, "%7d  %-16s %14.0f %19.0f %24s", ((Number) r.get("threads")).intValue(),
          r.get("arch"), num(r, "sgd_samples_per_s"), num(r, "path_sgd_samples_per_s"), ratio));
      if (torch) {
        Object p = r.get("pytorch_sgd_samples_per_s");
        b.append(p == null ? String.format(Locale.ROOT, " %22s", "-")
            : String.format(Locale.ROOT, " %22.0f", ((Number) p).doubleValue()));
      }
      boolean faster = stillFaster(r);
      drifting |= faster;
      b.append(faster ? "  *" : "").append(String.format("%n"));
    }
    b.append(String.format("Path-SGD/SGD step: the median over the timed rounds of (Path-SGD step / SGD step in the same"
        + " round), with its quartiles.%n"));
    if (drifting) {
      b.append(String.format(Locale.ROOT, "*: the steps were still getting faster (drift above %.2f): warm up longer.%n",
          StepBenchmark.DRIFT_WARNING));
    }
    if (torch) {
      b.append(String.format("PyTorch SGD: bench/pytorch/torch_step.py, PyTorch's own training step with a plain SGD"
          + " update (no Path-SGD),%n  the same architecture, batch and threads, and the same warm-up and timing rule"
          + " applied to its own steps.%n"));
    }
    return b.toString();
  }

  /** Whether a row's drift_sgd or drift_path_sgd is above {@link StepBenchmark#DRIFT_WARNING}. */
  private static boolean stillFaster(Map<String, Object> r) {
    for (String key : List.of("drift_sgd", "drift_path_sgd")) {
      if (r.get(key) instanceof Number d && d.doubleValue() > StepBenchmark.DRIFT_WARNING) {
        return true;
      }
    }
    return false;
  }

  private static double num(Map<String, Object> r, String key) {
    return ((Number) r.get(key)).doubleValue();
  }

  /** "784-4000-4000-10". */
  public static String archString(int[] w) {
    return Arrays.toString(w).replaceAll("[\\[\\] ]", "").replace(',', '-');
  }
}
