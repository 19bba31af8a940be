package io.github.pathsgd.bench;

import io.github.pathsgd.core.nn.DenseChain;
import io.github.pathsgd.core.nn.Dropout;
import io.github.pathsgd.core.nn.Init;
import io.github.pathsgd.core.optim.Optimizer;
import io.github.pathsgd.core.optim.Optimizers;
import io.github.pathsgd.core.step.TrainStep;
import io.github.pathsgd.core.tensor.Blas;
import io.github.pathsgd.core.util.Rng;
import io.github.pathsgd.experiments.rundir.BlasKernel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Training-step benchmark: the SGEMM peak on a large square product, then the time of one full training step
 * (forward, softmax cross-entropy, backward, update) for SGD and Path-SGD, as a fraction of the FLOP-bound minimum
 * (step FLOPs / peak). Medians over timed repetitions after warm-up, all in one process.
 *
 * <p><b>Warm-up and timed steps</b> ({@link Plan}). The optimizers run interleaved, one step of each per round. The
 * warm-up lasts until every optimizer has run at least {@link Plan#warmupSeconds()} seconds of steps (default 1.5 s)
 * and at least {@link Plan#warmupSteps()} steps (default 200); the step minimum stops applying once an optimizer has
 * warmed up for {@link Plan#warmupStepsCapSeconds()} seconds (default 5 s). The rule exists because the JIT compiles
 * a method after it (or a loop in it) has run some thousands of times: on a small network (784-64-64-10, well under
 * a millisecond per step) a few warm-up steps leave Path-SGD's κ kernels, which use the incubating Vector API and are
 * many times slower until C2 compiles them, interpreted or in C1, and the Path-SGD step looked ~2 ms slower than the
 * SGD step, a cost that real training does not have after a few hundred steps. On a large network a step's long
 * loops reach the compile thresholds within the first steps, so time, not a step count, bounds its warm-up. Then the
 * timed rounds last until there are at least {@link Plan#steps()} of them and every optimizer has run at least
 * {@link Plan#minSeconds()} seconds of timed steps (default 1 s), so that a fast step is not judged on a few
 * milliseconds of data. {@link StepTimes#drift()} (the median of the first half of the timed steps over that of the
 * second half) shows whether the steps were still getting faster.
 */
public final class StepBenchmark {
  private StepBenchmark() {}

  /**
   * How long {@link #stepSeconds(int[], int, List, Plan)} warms up and how long it times; see the class comment for
   * the rule.
   *
   * @param warmupSteps warm-up steps each optimizer takes at least (unless {@code warmupStepsCapSeconds} comes first)
   * @param warmupSeconds seconds of warm-up steps each optimizer takes at least
   * @param warmupStepsCapSeconds once an optimizer has warmed up this long, {@code warmupSteps} no longer applies
   * @param steps timed rounds at least (one step of each optimizer per round)
   * @param minSeconds seconds of timed steps each optimizer takes at least
   */
  public record Plan(int warmupSteps, double warmupSeconds, double warmupStepsCapSeconds, int steps,
      double minSeconds) {
    /** The default {@link #warmupStepsCapSeconds}: 5 s. */
    public static final double WARMUP_STEPS_CAP_SECONDS = 5;

    /** The defaults of {@code pathsgd bench}: 200 steps and 1.5 s of warm-up (step minimum capped at 5 s), 1 s timed. */
    public static Plan defaults(int steps) {
      return new Plan(200, 1.5, WARMUP_STEPS_CAP_SECONDS, steps, 1.0);
    }

    /** Exactly {@code warmup} warm-up rounds and {@code steps} timed rounds. */
    public static Plan fixed(int warmup, int steps) {
      return new Plan(warmup, 0, Double.POSITIVE_INFINITY, steps, 0);
    }

    public Plan {
      if (warmupSteps < 0 || !(warmupSeconds >= 0) || !(warmupStepsCapSeconds >= 0) || steps < 1
          || !(minSeconds >= 0)) {
        throw new IllegalArgumentException("bench plan: warm-up steps and seconds must be >= 0, timed steps >= 1"
            + " and timed seconds >= 0");
      }
    }

    /** Whether the warm-up is over after {@code rounds} rounds in which optimizer j ran {@code seconds[j]}. */
    boolean warmedUp(int rounds, double[] seconds) {
      for (double t : seconds) {
        if (t < warmupSeconds || (rounds < warmupSteps && t < warmupStepsCapSeconds)) {
          return false;
        }
      }
      return true;
    }

    /** Whether {@code rounds} timed rounds in which optimizer j ran {@code seconds[j]} are enough. */
    boolean timedEnough(int rounds, double[] seconds) {
      if (rounds < steps) {
        return false;
      }
      for (double t : seconds) {
        if (t < minSeconds) {
          return false;
        }
      }
      return true;
    }

    /** The rule in words, for the output. */
    public String describe() {
      String cap = Double.isInfinite(warmupStepsCapSeconds) ? ""
          : String.format(Locale.ROOT, " (the step minimum waived after %s s of warm-up)", num(warmupStepsCapSeconds));
      return String.format(Locale.ROOT, "warm-up: each optimizer at least %d steps and %s s%s; timed: at least %d"
          + " rounds and %s s of each optimizer's steps", warmupSteps, num(warmupSeconds), cap, steps,
          num(minSeconds));
    }

    /** The plan as JSON fields. */
    public Map<String, Object> fields() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("warmup_min_steps", warmupSteps);
      m.put("warmup_min_seconds", warmupSeconds);
      m.put("warmup_steps_cap_seconds", Double.isInfinite(warmupStepsCapSeconds) ? null : warmupStepsCapSeconds);
      m.put("timed_min_steps", steps);
      m.put("timed_min_seconds", minSeconds);
      m.put("rule", describe());
      return m;
    }

    private static String num(double v) {
      return v == Math.rint(v) && Math.abs(v) < 1e9 ? String.valueOf((long) v) : String.valueOf(v);
    }
  }

  /** FLOPs of one step: forward 2·B·Σ in·out, weight gradients the same, input gradients for every layer but the first. */
  public static double stepFlops(int[] widths, int B) {
    double f = 0;
    for (int l = 0; l + 1 < widths.length; l++) {
      double mac = (double) widths[l] * widths[l + 1] * B;
      f += 2 * mac; // forward
      f += 2 * mac; // weight gradient
      if (l > 0) {
        f += 2 * mac; // input gradient
      }
    }
    return f;
  }

  /** Median seconds per training step, after exactly {@code warmup} warm-up steps. */
  public static double stepSeconds(int[] widths, int B, Optimizer opt, int warmup, int steps) {
    return stepSeconds(widths, B, List.of(opt), Plan.fixed(warmup, steps)).seconds()[0];
  }

  /** {@link #stepSeconds(int[], int, List, Plan)} with exactly {@code warmup} warm-up and {@code steps} timed rounds. */
  public static StepTimes stepSeconds(int[] widths, int B, List<Optimizer> opts, int warmup, int steps) {
    return stepSeconds(widths, B, opts, Plan.fixed(warmup, steps));
  }

  /**
   * Median seconds per training step of each optimizer, measured <em>interleaved</em>: each round runs one step of
   * every optimizer (each on its own network), so a noisy neighbour or a clock change hits all of them alike and the
   * ratios stay meaningful on a shared machine. The order within a round alternates (forward on even rounds,
   * reversed on odd ones), so no optimizer always runs right after the same one; and the ratio of each optimizer's
   * step to the first optimizer's step in the same round is kept, so {@link StepTimes#pairedRatio} compares steps
   * taken milliseconds apart. The rounds are warm-up rounds until {@code plan} says the warm-up is over, then timed
   * rounds until it says there are enough (see the class comment).
   */
  public static StepTimes stepSeconds(int[] widths, int B, List<Optimizer> opts, Plan plan) {
    DenseChain lay = new DenseChain(widths);
    int k = opts.size();
    TrainStep[] steps = new TrainStep[k];
    Rng r = new Rng(2);
    int[] labels = new int[B];
    for (int i = 0; i < B; i++) {
      labels[i] = r.nextInt(widths[widths.length - 1]);
    }
    for (int j = 0; j < k; j++) {
      steps[j] = new TrainStep(Init.balanced(lay, new Rng(1)), opts.get(j), B);
      Rng x = new Rng(3);
      for (int i = 0; i < B * widths[0]; i++) {
        steps[j].workspace().input().set(i, x.nextFloat());
      }
    }
    List<Runnable> run = new ArrayList<>();
    for (TrainStep st : steps) {
      run.add(() -> st.run(B, labels, Dropout.NONE, null));
    }
    return interleaved(run, plan);
  }

  /**
   * The timing loop of {@link #stepSeconds(int[], int, List, Plan)} for any steps (one per optimizer or network):
   * rounds of one call of each, in alternating order, warm-up then timed rounds as {@code plan} says; the ratios are
   * to the first step's time in the same round.
   */
  public static StepTimes interleaved(List<Runnable> steps, Plan plan) {
    int k = steps.size();
    double[] warmSeconds = new double[k];
    int warmRounds = 0;
    double[][] times = new double[k][Math.max(16, plan.steps())];
    double[] timedSeconds = new double[k];
    int n = 0;
    boolean warming = !plan.warmedUp(0, warmSeconds);
    long gc0 = MachineTimings.gcMillis();
    long wall0 = System.nanoTime();
    double[] round = new double[k];
    double[] roundCpu = new double[k];
    double[][] cpu = new double[k][times[0].length];
    java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
    boolean cpuTimes = mx.isCurrentThreadCpuTimeSupported();
    for (int s = 0; ; s++) {
      for (int q = 0; q < k; q++) {
        int j = s % 2 == 0 ? q : k - 1 - q;
        long c0 = cpuTimes ? mx.getCurrentThreadCpuTime() : 0;
        long t0 = System.nanoTime();
        steps.get(j).run();
        round[j] = (System.nanoTime() - t0) / 1e9;
        roundCpu[j] = cpuTimes ? (mx.getCurrentThreadCpuTime() - c0) / 1e9 : Double.NaN;
      }
      if (warming) {
        warmRounds++;
        for (int j = 0; j < k; j++) {
          warmSeconds[j] += round[j];
        }
        if (plan.warmedUp(warmRounds, warmSeconds)) {
          warming = false;
          gc0 = MachineTimings.gcMillis();
          wall0 = System.nanoTime();
        }
        continue;
      }
      if (n == times[0].length) {
        for (int j = 0; j < k; j++) {
          times[j] = Arrays.copyOf(times[j], 2 * n);
          cpu[j] = Arrays.copyOf(cpu[j], 2 * n);
        }
      }
      for (int j = 0; j < k; j++) {
        times[j][n] = round[j];
        cpu[j][n] = roundCpu[j];
        timedSeconds[j] += round[j];
      }
      n++;
      if (plan.timedEnough(n, timedSeconds)) {
        break;
      }
    }
    double gcFraction = (MachineTimings.gcMillis() - gc0) / 1e3 / ((System.nanoTime() - wall0) / 1e9);
    double[] out = new double[k];
    double[] drift = new double[k];
    double[][] ratio = new double[k][3];
    double[][] cpuRatio = new double[k][3];
    for (int j = 0; j < k; j++) {
      double[] tj = Arrays.copyOf(times[j], n);
      out[j] = quantile(tj, 0.5);
      drift[j] = n < 2 ? Double.NaN
          : quantile(Arrays.copyOfRange(tj, 0, n / 2), 0.5) / quantile(Arrays.copyOfRange(tj, n / 2, n), 0.5);
      double[] rj = new double[n];
      for (int i = 0; i < n; i++) {
        rj[i] = times[j][i] / times[0][i];
      }
      ratio[j] = new double[] {quantile(rj, 0.25), quantile(rj, 0.5), quantile(rj, 0.75)};
      double[] cj = new double[n];
      for (int i = 0; i < n; i++) {
        cj[i] = cpu[j][i] / cpu[0][i];
      }
      cpuRatio[j] = new double[] {quantile(cj, 0.25), quantile(cj, 0.5), quantile(cj, 0.75)};
    }
    return new StepTimes(out, ratio, gcFraction, warmRounds, warmSeconds, n, timedSeconds, drift, cpuRatio);
  }

  /**
   * Median seconds per step of each optimizer, the paired step ratios, GC time / wall time over all the timed steps,
   * and how long the warm-up and the timed phase were.
   *
   * @param seconds one median per optimizer, in the order given
   * @param pairedRatio per optimizer, the quartiles {25%, 50%, 75%} over the rounds of (its step / the first
   *     optimizer's step in the same round); {1, 1, 1} for the first
   * @param warmupSteps warm-up rounds (each optimizer took this many warm-up steps)
   * @param warmupSeconds per optimizer, the seconds of its warm-up steps
   * @param timedSteps timed rounds (each optimizer took this many timed steps; the medians are over them)
   * @param timedSeconds per optimizer, the seconds of its timed steps
   * @param drift per optimizer, the median of the first half of its timed steps over the median of the second half
   *     (about 1 when the warm-up was long enough, above 1 when the steps were still getting faster; NaN for fewer
   *     than two timed steps)
   * @param cpuPairedRatio like {@code pairedRatio}, of the calling thread's CPU time (ThreadMXBean) instead of wall
   *     time: with one OpenBLAS thread the calling thread does all of a step's work, so this ratio does not see the
   *     time a loaded machine keeps the thread waiting (with more threads it leaves out OpenBLAS's workers); NaN
   *     where the JVM has no thread CPU time
   */
  public record StepTimes(double[] seconds, double[][] pairedRatio, double gcFraction, int warmupSteps,
      double[] warmupSeconds, int timedSteps, double[] timedSeconds, double[] drift, double[][] cpuPairedRatio) {}

  /** The q-quantile of v (linear interpolation between order statistics); v is not modified. */
  static double quantile(double[] v, double q) {
    double[] a = v.clone();
    java.util.Arrays.sort(a);
    if (a.length == 0) {
      return Double.NaN;
    }
    double pos = q * (a.length - 1);
    int lo = (int) Math.floor(pos);
    int hi = Math.min(a.length - 1, lo + 1);
    return a[lo] + (pos - lo) * (a[hi] - a[lo]);
  }

  static double median(List<Double> v) {
    return quantile(v.stream().mapToDouble(Double::doubleValue).toArray(), 0.5);
  }

  /** {@link #run(int, int, List, Plan)} with {@link Plan#defaults}{@code (steps)}. */
  public static Map<String, Object> run(int threads, int batch, List<int[]> archs, int steps) {
    return run(threads, batch, archs, Plan.defaults(steps));
  }

  /**
   * Prints the OpenBLAS kernel line ({@link BlasKernel}) and the warm-up and timing rule, and returns them as JSON
   * fields: {@code blas_kernel} (the provenance kernel fields and the line) and {@code timing} ({@link Plan#fields}).
   */
  public static Map<String, Object> header(Plan plan) {
    BlasKernel.Info kernel = BlasKernel.get();
    System.out.println(kernel.describe());
    System.out.println("Step times: " + plan.describe() + "; optimizers interleaved, one step of each per round.");
    Map<String, Object> k = new LinkedHashMap<>(kernel.fields());
    k.put("line", kernel.describe());
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("blas_kernel", k);
    out.put("timing", plan.fields());
    return out;
  }

  /** Runs the benchmark and returns the figures (also printed). */
  public static Map<String, Object> run(int threads, int batch, List<int[]> archs, Plan plan) {
    Blas.setThreads(threads);
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("threads", Blas.threads());
    out.put("openblas_thread_timeout", Blas.threadTimeout());
    out.putAll(header(plan));
    double peak = MachineTimings.sgemmGflops(2048, 3);
    out.put("sgemm_peak_gflops", peak);
    System.out.printf(java.util.Locale.ROOT, "SGEMM 2048^3: %.1f GFLOP/s (%d threads, %s)%n", peak, Blas.threads(),
        Blas.threadTimeout());
    List<Map<String, Object>> entries = new ArrayList<>();
    for (int[] w : archs) {
      double flops = stepFlops(w, batch);
      Map<String, Double> byOpt = new LinkedHashMap<>();
      List<String> names = List.of("sgd", "path-sgd");
      StepTimes times = stepSeconds(w, batch, List.of(Optimizers.sgd(0.01), Optimizers.pathSgd(0.01, 2)), plan);
      System.out.println(timingLine(SizeSweep.archString(w), times));
      for (int j = 0; j < names.size(); j++) {
        String name = names.get(j);
        double s = times.seconds()[j];
        byOpt.put(name, s);
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("arch", SizeSweep.archString(w));
        e.put("optimizer", name);
        e.put("batch", batch);
        e.put("gflop_per_step", flops / 1e9);
        e.put("ms_per_step", s * 1e3);
        e.put("samples_per_s", batch / s);
        e.put("fraction_of_peak", flops / s / 1e9 / peak);
        e.put("gc_fraction", times.gcFraction());
        e.put("warmup_steps", times.warmupSteps());
        e.put("warmup_seconds", times.warmupSeconds()[j]);
        e.put("timed_steps", times.timedSteps());
        e.put("timed_seconds", times.timedSeconds()[j]);
        e.put("drift", finiteOrNull(times.drift()[j]));
        entries.add(e);
        System.out.printf(java.util.Locale.ROOT, "%-18s %-8s batch %d: %.1f ms/step, %.0f samples/s, %.1f%% of the"
            + " first SGEMM probe (%.2f GFLOP/step)%n", SizeSweep.archString(w), name, batch, s * 1e3, batch / s,
            100 * flops / s / 1e9 / peak, flops / 1e9);
      }
      double overhead = byOpt.get("path-sgd") / byOpt.get("sgd") - 1;
      double[] pr = times.pairedRatio()[1];
      System.out.printf(java.util.Locale.ROOT, "%-18s Path-SGD step / SGD step = %.3f (overhead %+.1f%%): median of the"
          + " %d paired rounds, quartiles %.3f-%.3f; ratio of the medians %.3f%n", SizeSweep.archString(w), pr[1],
          100 * (pr[1] - 1), times.timedSteps(), pr[0], pr[2], 1 + overhead);
      out.put("path_sgd_overhead_" + SizeSweep.archString(w), pr[1] - 1);
      out.put("path_sgd_overhead_quartiles_" + SizeSweep.archString(w), List.of(pr[0] - 1, pr[2] - 1));
      out.put("path_sgd_overhead_ratio_of_medians_" + SizeSweep.archString(w), overhead);
      List<Map<String, Object>> shapes = new ArrayList<>();
      for (int l = 0; l + 1 < w.length; l++) {
        int in = w[l];
        int o = w[l + 1];
        shapes.add(MachineTimings.shape("layer" + l + " forward  X(B,in)·Wᵀ", false, true, batch, o, in));
        shapes.add(MachineTimings.shape("layer" + l + " weight grad dZᵀ·X", true, false, o, in, batch));
        if (l > 0) {
          shapes.add(MachineTimings.shape("layer" + l + " input grad dZ·W", false, false, batch, in, o));
        }
      }
      out.put("gemm_shapes_" + SizeSweep.archString(w), shapes);
      double ev = MachineTimings.evalSeconds(w, 10000);
      out.put("eval_10000_seconds_" + SizeSweep.archString(w), ev);
      System.out.printf(java.util.Locale.ROOT, "%-18s evaluation of 10,000 images: %.3f s%n", SizeSweep.archString(w), ev);
    }
    // The peak is probed again at the end and the higher median is the peak: on a shared machine a single probe can
    // land in a slow period and inflate every fraction of it.
    double peakEnd = MachineTimings.sgemmGflops(2048, 3);
    double best = Math.max(peak, peakEnd);
    System.out.printf(java.util.Locale.ROOT, "SGEMM 2048^3 again: %.1f GFLOP/s; peak used for the fractions: %.1f%n",
        peakEnd, best);
    out.put("sgemm_peak_gflops", best);
    out.put("sgemm_probes_gflops", List.of(peak, peakEnd));
    for (Map<String, Object> e : entries) {
      double ms = (Double) e.get("ms_per_step");
      double gflop = (Double) e.get("gflop_per_step");
      e.put("fraction_of_peak", gflop / (ms / 1e3) / best);
      System.out.printf(java.util.Locale.ROOT, "%-18s %-8s %.1f ms/step = %.1f%% of the %.1f GFLOP/s peak%n",
          e.get("arch"), e.get("optimizer"), ms, 100 * gflop / (ms / 1e3) / best, best);
    }
    out.put("steps", entries);
    out.put("peak_rss_mib", MachineTimings.peakRssMiB());
    return out;
  }

  /** "ARCH warm-up N steps (SGD x s, Path-SGD y s), timed M rounds (...); drift ..." for the two optimizers. */
  static String timingLine(String arch, StepTimes t) {
    boolean faster = false;
    for (double d : t.drift()) {
      faster |= d > DRIFT_WARNING;
    }
    return String.format(Locale.ROOT, "%-18s warm-up %d steps (SGD %.2f s, Path-SGD %.2f s), timed %d rounds (SGD %.2f"
        + " s, Path-SGD %.2f s); drift (first-half / second-half median) SGD %.3f, Path-SGD %.3f%s", arch,
        t.warmupSteps(), t.warmupSeconds()[0], t.warmupSeconds()[1], t.timedSteps(), t.timedSeconds()[0],
        t.timedSeconds()[1], t.drift()[0], t.drift()[1],
        faster ? " (the steps were still getting faster: warm up longer)" : "");
  }

  /** A drift above this is reported as steps still getting faster. */
  /**
   * A row's {@code sgd_} and {@code path_sgd_} {@code ms_per_step} and {@code samples_per_s} from the median step
   * seconds (SGD, Path-SGD); samples/s is computed from the recorded ms, so the two fields agree exactly.
   */
  static void putStepRates(Map<String, Object> row, int batch, double[] seconds) {
    String[] name = {"sgd", "path_sgd"};
    for (int i = 0; i < name.length; i++) {
      double ms = seconds[i] * 1e3;
      row.put(name[i] + "_ms_per_step", ms);
      row.put(name[i] + "_samples_per_s", batch / (ms / 1e3));
    }
  }

  static final double DRIFT_WARNING = 1.10;

  static Double finiteOrNull(double v) {
    return Double.isFinite(v) ? v : null;
  }
}
