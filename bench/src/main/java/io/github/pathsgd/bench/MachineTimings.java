package io.github.pathsgd.bench;

import io.github.pathsgd.core.nn.DenseChain;
import io.github.pathsgd.core.nn.Init;
import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.core.tensor.Blas;
import io.github.pathsgd.core.tensor.Tensor;
import io.github.pathsgd.core.util.Rng;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** What the machine does outside a training step: GEMM rates, an evaluation pass, the peak RSS, GC time. */
public final class MachineTimings {
  private MachineTimings() {}

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
    return 2.0 * n * n * n / StepBenchmark.median(times) / 1e9;
  }

  static long gcMillis() {
    long t = 0;
    for (var gc : java.lang.management.ManagementFactory.getGarbageCollectorMXBeans()) {
      t += Math.max(0, gc.getCollectionTime());
    }
    return t;
  }

  /** GFLOP/s of one GEMM shape (StepBenchmark.median). */
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
    return 2.0 * m * n * k / StepBenchmark.median(times) / 1e9;
  }

  /** Seconds to evaluate {@code n} random images (forward, loss, errors) in batches of 1000. */
  public static double evalSeconds(int[] widths, int n) {
    LayerNet net = Init.balanced(new DenseChain(widths), new Rng(1));
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
    io.github.pathsgd.train.Trainer.evaluate(net, d, 1000); // warm-up
    List<Double> times = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      long t0 = System.nanoTime();
      io.github.pathsgd.train.Trainer.evaluate(net, d, 1000);
      times.add((System.nanoTime() - t0) / 1e9);
    }
    return StepBenchmark.median(times);
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

  static Map<String, Object> shape(String name, boolean ta, boolean tb, int m, int n, int k) {
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
}
