package io.github.pathsgd.experiments.bench;

import io.github.pathsgd.core.nn.Dropout;
import io.github.pathsgd.core.nn.Init;
import io.github.pathsgd.core.nn.Mlp;
import io.github.pathsgd.core.nn.ParamLayout;
import io.github.pathsgd.core.optim.OptState;
import io.github.pathsgd.core.optim.Optimizer;
import io.github.pathsgd.core.optim.Optimizers;
import io.github.pathsgd.core.optim.PathOptimizers;
import io.github.pathsgd.core.tensor.Blas;
import io.github.pathsgd.core.tensor.Tensor;
import io.github.pathsgd.core.util.Rng;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Training-step benchmark: the SGEMM peak on a large square product, then the time of one full training step
 * (forward, softmax cross-entropy, backward, update) for SGD and Path-SGD, as a fraction of the FLOP-bound minimum
 * (step FLOPs / peak). Medians over timed repetitions after warm-up, all in one process.
 */
public final class StepBenchmark {
  private StepBenchmark() {}

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

  /** Median GFLOP/s of C = A·B for n×n matrices. */
  public static double sgemmGflops(int n, double seconds) {
    Tensor a = random(n * n, 1);
    Tensor b = random(n * n, 2);
    Tensor c = new Tensor(n * n);
    List<Double> times = new ArrayList<>();
    long end = System.nanoTime() + (long) (seconds * 1e9);
    for (int i = 0; i < 2; i++) {
      Blas.sgemm(false, false, n, n, n, 1f, a, 0, b, 0, 0f, c, 0);
    }
    while (System.nanoTime() < end || times.size() < 5) {
      long t0 = System.nanoTime();
      Blas.sgemm(false, false, n, n, n, 1f, a, 0, b, 0, 0f, c, 0);
      times.add((System.nanoTime() - t0) / 1e9);
    }
    return 2.0 * n * n * n / median(times) / 1e9;
  }

  /** Median seconds per training step. */
  public static double stepSeconds(int[] widths, int B, Optimizer opt, int warmup, int steps) {
    return stepSeconds(widths, B, List.of(opt), warmup, steps).seconds()[0];
  }

  /**
   * Median seconds per training step of each optimizer, measured <em>interleaved</em>: each round runs one step of
   * every optimizer (each on its own network), so a noisy neighbour or a clock change hits all of them alike and the
   * ratios stay meaningful on a shared machine. The order within a round alternates (forward on even rounds,
   * reversed on odd ones), so no optimizer always runs right after the same one; and the ratio of each optimizer's
   * step to the first optimizer's step in the same round is kept, so {@link StepTimes#pairedRatio} compares steps
   * taken milliseconds apart.
   */
  public static StepTimes stepSeconds(int[] widths, int B, List<Optimizer> opts, int warmup, int steps) {
    ParamLayout lay = new ParamLayout(widths);
    int k = opts.size();
    Mlp[] nets = new Mlp[k];
    Mlp.Workspace[] wss = new Mlp.Workspace[k];
    OptState[] states = new OptState[k];
    Tensor grads = new Tensor(lay.size());
    Rng r = new Rng(2);
    int[] labels = new int[B];
    for (int i = 0; i < B; i++) {
      labels[i] = r.nextInt(widths[widths.length - 1]);
    }
    for (int j = 0; j < k; j++) {
      nets[j] = Init.balanced(lay, new Rng(1));
      wss[j] = nets[j].workspace(B);
      Rng x = new Rng(3);
      for (int i = 0; i < B * widths[0]; i++) {
        wss[j].input().set(i, x.nextFloat());
      }
      states[j] = opts.get(j).init(lay);
    }
    double[][] times = new double[k][steps];
    long gc0 = 0;
    long wall0 = 0;
    double[] round = new double[k];
    for (int s = 0; s < warmup + steps; s++) {
      if (s == warmup) {
        gc0 = gcMillis();
        wall0 = System.nanoTime();
      }
      for (int q = 0; q < k; q++) {
        int j = s % 2 == 0 ? q : k - 1 - q;
        long t0 = System.nanoTime();
        opts.get(j).trainStep(nets[j], wss[j], B, labels, 0, grads, states[j], Dropout.NONE, null);
        round[j] = (System.nanoTime() - t0) / 1e9;
      }
      if (s >= warmup) {
        for (int j = 0; j < k; j++) {
          times[j][s - warmup] = round[j];
        }
      }
    }
    double gcFraction = (gcMillis() - gc0) / 1e3 / ((System.nanoTime() - wall0) / 1e9);
    double[] out = new double[k];
    double[][] ratio = new double[k][3];
    for (int j = 0; j < k; j++) {
      out[j] = quantile(times[j], 0.5);
      double[] rj = new double[steps];
      for (int i = 0; i < steps; i++) {
        rj[i] = times[j][i] / times[0][i];
      }
      ratio[j] = new double[] {quantile(rj, 0.25), quantile(rj, 0.5), quantile(rj, 0.75)};
    }
    return new StepTimes(out, ratio, gcFraction);
  }

  /**
   * Median seconds per step of each optimizer, the paired step ratios, and GC time / wall time over all the timed
   * steps.
   *
   * @param seconds one median per optimizer, in the order given
   * @param pairedRatio per optimizer, the quartiles {25%, 50%, 75%} over the rounds of (its step / the first
   *     optimizer's step in the same round); {1, 1, 1} for the first
   */
  public record StepTimes(double[] seconds, double[][] pairedRatio, double gcFraction) {}

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

  static long gcMillis() {
    long t = 0;
    for (var gc : java.lang.management.ManagementFactory.getGarbageCollectorMXBeans()) {
      t += Math.max(0, gc.getCollectionTime());
    }
    return t;
  }

  /** GFLOP/s of one GEMM shape (median). */
  public static double gemmGflops(boolean ta, boolean tb, int m, int n, int k, int reps) {
    Tensor a = random(m * k, 1);
    Tensor b = random(k * n, 2);
    Tensor c = new Tensor(m * n);
    List<Double> times = new ArrayList<>();
    for (int i = 0; i < reps + 3; i++) {
      long t0 = System.nanoTime();
      Blas.sgemm(ta, tb, m, n, k, 1f, a, 0, b, 0, 0f, c, 0);
      if (i >= 3) {
        times.add((System.nanoTime() - t0) / 1e9);
      }
    }
    return 2.0 * m * n * k / median(times) / 1e9;
  }

  /** Seconds to evaluate {@code n} random images (forward, loss, errors) in batches of 1000. */
  public static double evalSeconds(int[] widths, int n) {
    Mlp net = Init.balanced(new ParamLayout(widths), new Rng(1));
    Rng r = new Rng(3);
    float[] x = new float[n * widths[0]];
    for (int i = 0; i < x.length; i++) {
      x[i] = r.nextFloat();
    }
    int[] y = new int[n];
    for (int i = 0; i < n; i++) {
      y[i] = r.nextInt(widths[widths.length - 1]);
    }
    io.github.pathsgd.data.Dataset d = new io.github.pathsgd.data.Dataset("random", x, y, n, 1, 1, widths[0],
        widths[widths.length - 1]);
    io.github.pathsgd.experiments.train.Trainer.evaluate(net, d, 1000); // warm-up
    List<Double> times = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      long t0 = System.nanoTime();
      io.github.pathsgd.experiments.train.Trainer.evaluate(net, d, 1000);
      times.add((System.nanoTime() - t0) / 1e9);
    }
    return median(times);
  }

  /** Peak resident set size of this process in MiB (VmHWM), or NaN off Linux. */
  public static double peakRssMiB() {
    try {
      for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status"))) {
        if (line.startsWith("VmHWM:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
        }
      }
    } catch (java.io.IOException | RuntimeException e) {
      return Double.NaN;
    }
    return Double.NaN;
  }

  private static Map<String, Object> shape(String name, boolean ta, boolean tb, int m, int n, int k) {
    double g = gemmGflops(ta, tb, m, n, k, 10);
    Map<String, Object> e = new LinkedHashMap<>();
    e.put("shape", name);
    e.put("m", m);
    e.put("n", n);
    e.put("k", k);
    e.put("gflops", g);
    System.out.printf(java.util.Locale.ROOT, "  GEMM %-28s m=%d n=%d k=%d: %.1f GFLOP/s%n", name, m, n, k, g);
    return e;
  }

  /** A tensor of {@code n} floats uniform in [-0.5, 0.5), from a seeded stream. */
  public static Tensor random(int n, long seed) {
    Tensor t = new Tensor(n);
    Rng r = new Rng(seed);
    for (int i = 0; i < n; i++) {
      t.set(i, r.nextFloat() - 0.5f);
    }
    return t;
  }

  static double median(List<Double> v) {
    return quantile(v.stream().mapToDouble(Double::doubleValue).toArray(), 0.5);
  }

  /** Runs the benchmark and returns the figures (also printed). */
  public static Map<String, Object> run(int threads, int batch, List<int[]> archs, int steps) {
    Blas.setThreads(threads);
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("threads", Blas.threads());
    out.put("openblas_thread_timeout", Blas.threadTimeout());
    double peak = sgemmGflops(2048, 3);
    out.put("sgemm_peak_gflops", peak);
    System.out.printf(java.util.Locale.ROOT, "SGEMM 2048^3: %.1f GFLOP/s (%d threads, %s)%n", peak, Blas.threads(),
        Blas.threadTimeout());
    List<Map<String, Object>> entries = new ArrayList<>();
    for (int[] w : archs) {
      double flops = stepFlops(w, batch);
      Map<String, Double> byOpt = new LinkedHashMap<>();
      List<String> names = List.of("sgd", "path-sgd");
      StepTimes times = stepSeconds(w, batch, List.of(Optimizers.sgd(0.01), PathOptimizers.pathSgd(0.01, 2)), 5,
          steps);
      for (int j = 0; j < names.size(); j++) {
        String name = names.get(j);
        double s = times.seconds()[j];
        byOpt.put(name, s);
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("arch", archString(w));
        e.put("optimizer", name);
        e.put("batch", batch);
        e.put("gflop_per_step", flops / 1e9);
        e.put("ms_per_step", s * 1e3);
        e.put("samples_per_s", batch / s);
        e.put("fraction_of_peak", flops / s / 1e9 / peak);
        e.put("gc_fraction", times.gcFraction());
        entries.add(e);
        System.out.printf(java.util.Locale.ROOT, "%-18s %-8s batch %d: %.1f ms/step, %.0f samples/s, %.1f%% of the"
            + " first SGEMM probe (%.2f GFLOP/step)%n", archString(w), name, batch, s * 1e3, batch / s,
            100 * flops / s / 1e9 / peak, flops / 1e9);
      }
      double overhead = byOpt.get("path-sgd") / byOpt.get("sgd") - 1;
      double[] pr = times.pairedRatio()[1];
      System.out.printf(java.util.Locale.ROOT, "%-18s Path-SGD step / SGD step = %.3f (overhead %+.1f%%): median of the"
          + " %d paired rounds, quartiles %.3f-%.3f; ratio of the medians %.3f%n", archString(w), pr[1],
          100 * (pr[1] - 1), steps, pr[0], pr[2], 1 + overhead);
      out.put("path_sgd_overhead_" + archString(w), pr[1] - 1);
      out.put("path_sgd_overhead_quartiles_" + archString(w), List.of(pr[0] - 1, pr[2] - 1));
      out.put("path_sgd_overhead_ratio_of_medians_" + archString(w), overhead);
      List<Map<String, Object>> shapes = new ArrayList<>();
      for (int l = 0; l + 1 < w.length; l++) {
        int in = w[l];
        int o = w[l + 1];
        shapes.add(shape("layer" + l + " forward  X(B,in)·Wᵀ", false, true, batch, o, in));
        shapes.add(shape("layer" + l + " weight grad dZᵀ·X", true, false, o, in, batch));
        if (l > 0) {
          shapes.add(shape("layer" + l + " input grad dZ·W", false, false, batch, in, o));
        }
      }
      out.put("gemm_shapes_" + archString(w), shapes);
      double ev = evalSeconds(w, 10000);
      out.put("eval_10000_seconds_" + archString(w), ev);
      System.out.printf(java.util.Locale.ROOT, "%-18s evaluation of 10,000 images: %.3f s%n", archString(w), ev);
    }
    // The peak is probed again at the end and the higher median is the peak: on a shared machine a single probe can
    // land in a slow period and inflate every fraction of it.
    double peakEnd = sgemmGflops(2048, 3);
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
    out.put("peak_rss_mib", peakRssMiB());
    return out;
  }

  static String archString(int[] w) {
    return Arrays.toString(w).replaceAll("[\\[\\] ]", "").replace(',', '-');
  }

  public static void main(String[] args) {
    int threads = args.length > 0 ? Integer.parseInt(args[0]) : 0;
    run(threads, 100, List.of(new int[] {784, 4000, 4000, 10}), 20);
  }
}
