package io.github.pathsgd.cli;

import io.github.pathsgd.experiments.bench.StepBenchmark;
import io.github.pathsgd.experiments.results.Provenance;
import io.github.pathsgd.experiments.results.RunWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code pathsgd bench}: the SGEMM peak and the training-step times, in one process. */
@Command(name = "bench", mixinStandardHelpOptions = true,
    description = {"Benchmark: SGEMM peak, training steps (SGD, Path-SGD), evaluation, PyTorch peer.",
      "Measures the OpenBLAS SGEMM peak (2048^3) and one training step (forward, loss, backward, update)",
      "for SGD and Path-SGD, as ms/step, samples/s and fraction of the FLOP-bound minimum (step FLOPs / peak).",
      "Run it on an otherwise idle machine; each figure is a median after warm-up."})
final class BenchCommand implements Callable<Integer> {
  @Option(names = "--threads", defaultValue = "0", description = "OpenBLAS threads (default 0 = all cores)")
  int threads;

  @Option(names = "--batch", defaultValue = "100", description = "batch size (default ${DEFAULT-VALUE})")
  int batch;

  @Option(names = "--arch", split = ";", defaultValue = "784-4000-4000-10;3072-4000-4000-10",
      description = "architectures, ';'-separated (default ${DEFAULT-VALUE})")
  List<String> archs;

  @Option(names = "--steps", defaultValue = "20", description = "timed steps per measurement (default ${DEFAULT-VALUE})")
  int steps;

  @Option(names = "--json", paramLabel = "FILE", description = "also write the figures as JSON")
  Path json;

  @Option(names = "--torch", paramLabel = "SCRIPT", arity = "0..1", fallbackValue = "bench/pytorch/torch_step.py",
      description = {"also run the PyTorch peer (Debian python3-torch, /usr/bin/python3) on the same architectures,",
        "batch, steps and threads, and print our samples/s over PyTorch's (default script: ${FALLBACK-VALUE})"})
  Path torchScript;

  @Option(names = "--load", paramLabel = "NAME=DIR", split = ",",
      description = {"also time reading these datasets (train and test, as `train` reads them), e.g.",
        "mnist=../shared/data/mnist-convnetjs,cifar10=../shared/data/cifar10-jpeg; mnist-sample is always timed"})
  java.util.Map<String, Path> load;

  @Option(names = "--python", defaultValue = "/usr/bin/python3", description = "Python for --torch (default ${DEFAULT-VALUE})")
  String python;

  /** Times Datasets.load for mnist-sample and each --load entry: a first read and the best of two more. */
  private List<Map<String, Object>> loading() {
    java.util.Map<String, Path> sets = new LinkedHashMap<>();
    sets.put("mnist-sample", null);
    if (load != null) {
      sets.putAll(load);
    }
    List<Map<String, Object>> res = new ArrayList<>();
    for (var e : sets.entrySet()) {
      double first = 0;
      double best = Double.POSITIVE_INFINITY;
      int images = 0;
      for (int k = 0; k < 3; k++) {
        long t0 = System.nanoTime();
        io.github.pathsgd.data.DataSplits d = io.github.pathsgd.data.Datasets.load(
            io.github.pathsgd.data.DataRequest.of(e.getKey(), e.getValue()));
        double sec = (System.nanoTime() - t0) / 1e9;
        images = d.train().n() + d.test().n();
        if (k == 0) {
          first = sec;
        } else {
          best = Math.min(best, sec);
        }
      }
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("dataset", e.getKey());
      m.put("images", images);
      m.put("first_seconds", first);
      m.put("best_seconds", best);
      m.put("images_per_s", images / best);
      res.add(m);
      System.out.printf(java.util.Locale.ROOT, "reading %-14s %6d images (train + test, with SHA-256): first %.3f s,"
          + " best %.3f s (%.0f images/s)%n", e.getKey(), images, first, best, images / best);
    }
    return res;
  }

  /** Runs the PyTorch peer for each architecture and adds the samples/s ratio of the SGD step. */
  @SuppressWarnings("unchecked")
  private List<Map<String, Object>> torch(List<int[]> parsed, Map<String, Object> ours) {
    if (!java.nio.file.Files.isRegularFile(torchScript)) {
      throw new IllegalArgumentException("--torch: script " + torchScript + " not found");
    }
    List<Map<String, Object>> res = new ArrayList<>();
    int t = io.github.pathsgd.core.tensor.Blas.threads();
    for (int[] w : parsed) {
      String arch = java.util.Arrays.toString(w).replaceAll("[\\[\\] ]", "").replace(',', '-');
      try {
        Process p = new ProcessBuilder(python, torchScript.toString(), "--arch", arch, "--batch", String.valueOf(batch),
            "--steps", String.valueOf(steps), "--threads", String.valueOf(t)).redirectErrorStream(false).start();
        String stdout = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        String stderr = new String(p.getErrorStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
          throw new IllegalStateException("PyTorch peer failed (" + python + " " + torchScript + "): "
              + stderr.strip().replace('\n', ' '));
        }
        String line = stdout.strip().lines().reduce((a, b) -> b).orElse("{}");
        Map<String, Object> r = io.github.pathsgd.experiments.config.Configs.json().readValue(line, Map.class);
        double theirs = ((Number) r.get("samples_per_s")).doubleValue();
        for (Map<String, Object> e : (List<Map<String, Object>>) ours.get("steps")) {
          if (e.get("arch").equals(arch) && e.get("optimizer").equals("sgd")) {
            double mine = ((Number) e.get("samples_per_s")).doubleValue();
            r.put("pathsgd_samples_per_s", mine);
            r.put("ratio_pathsgd_over_pytorch", mine / theirs);
            System.out.printf(java.util.Locale.ROOT, "%-18s PyTorch %s (BLAS core %s): %.0f samples/s; pathsgd SGD %.0f"
                + " samples/s = %.2fx PyTorch%n", arch, r.get("torch"), r.get("blas_core"), theirs, mine, mine / theirs);
          }
        }
        res.add(r);
      } catch (java.io.IOException | InterruptedException e) {
        throw new IllegalStateException("cannot run the PyTorch peer: " + e.getMessage(), e);
      }
    }
    return res;
  }

  @Override
  public Integer call() {
    List<int[]> parsed = new ArrayList<>();
    for (String a : archs) {
      String[] parts = a.trim().split("-");
      int[] w = new int[parts.length];
      for (int i = 0; i < parts.length; i++) {
        try {
          w[i] = Integer.parseInt(parts[i]);
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException("--arch: expected widths like 784-4000-4000-10, got '" + a + "'");
        }
        if (w[i] <= 0 || parts.length < 2) {
          throw new IllegalArgumentException("--arch: widths must be positive integers, got '" + a + "'");
        }
      }
      parsed.add(w);
    }
    Map<String, Object> out = new LinkedHashMap<>(StepBenchmark.run(threads, batch, parsed, steps));
    out.put("data_loading", loading());
    if (torchScript != null) {
      out.put("pytorch", torch(parsed, out));
    }
    out.put("provenance", Provenance.machine());
    if (json != null) {
      RunWriter.writeJson(json, out);
      System.out.println("wrote " + json);
    }
    return 0;
  }
}
