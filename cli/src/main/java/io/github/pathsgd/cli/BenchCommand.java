package io.github.pathsgd.cli;

import io.github.pathsgd.bench.ConvNetSpec;
import io.github.pathsgd.bench.ConvStepBenchmark;
import io.github.pathsgd.bench.MachineTimings;
import io.github.pathsgd.bench.SizeSweep;
import io.github.pathsgd.bench.StepBenchmark;
import io.github.pathsgd.experiments.rundir.Provenance;
import io.github.pathsgd.experiments.rundir.RunWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code pathsgd bench}: the SGEMM peak and the training-step times, in one process; or a sweep over widths. */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Benchmark: SGEMM peak, training steps (SGD, Path-SGD), evaluation, PyTorch peer.",
      "Measures the OpenBLAS SGEMM peak (2048^3) and one training step (forward,",
      "loss, backward, update) for SGD and Path-SGD, as ms/step, samples/s and",
      "fraction of the FLOP-bound minimum (step FLOPs / peak).",
      "With --sizes: only the steps of IN-H-H-10 networks, for each width H, input",
      "width IN and thread count, and one table at the end: SGD and Path-SGD",
      "samples/s, the Path-SGD/SGD step ratio (median and quartiles over the",
      "rounds of the ratio of the two steps of a round) and, with --torch,",
      "PyTorch's SGD samples/s.",
      "Run it on an otherwise idle machine; each figure is a median after warm-up.",
      "SGD and Path-SGD run interleaved, one step of each per round.",
      "Warm-up rule: each optimizer runs at least --warmup-steps steps and",
      "--warmup-seconds seconds; the step minimum is waived after 5 s of warm-up",
      "(a large network's long loops reach the JIT's thresholds in its first",
      "steps). The JIT compiles code only after thousands of runs, and Path-SGD's",
      "κ kernels (incubating Vector API) are many times slower until C2 compiles",
      "them: a short warm-up makes Path-SGD look slow on small networks.",
      "Timed: at least --steps rounds and --min-seconds of each optimizer's steps.",
      "The output gives the steps and seconds of both phases and the drift (median",
      "of the first half of the timed steps over that of the second half).",
      "With --conv: the steps of conv nets (LayerNet; Path-SGD with p = 2 and κ",
      "through the layers' sweeps), for each thread count, and one table.",
      "With --residual: the same for the CIFAR-10 residual net.",
      "The first line names the OpenBLAS kernel in use and whether",
      "OPENBLAS_CORETYPE forced it."})
final class BenchCommand implements Callable<Integer> {
  /** The widths of {@code --sizes} given alone. */
  static final String DEFAULT_SIZES = "64,128,256,1000,4000";

  @Spec CommandSpec spec;

  @Option(names = "--threads", paramLabel = "N", split = ",", defaultValue = "0",
      description = "OpenBLAS threads (default 0 = all cores); with --sizes a list, e.g. 1,2 (rows for each)")
  List<Integer> threads;

  @Option(names = "--batch", defaultValue = "100", description = "batch size (default ${DEFAULT-VALUE})")
  int batch;

  @Option(names = "--arch", split = ";", defaultValue = "784-4000-4000-10;3072-4000-4000-10",
      description = "architectures, ';'-separated (default ${DEFAULT-VALUE}); not with --sizes")
  List<String> archs;

  @Option(names = "--sizes", paramLabel = "H", split = ",", arity = "0..1", fallbackValue = DEFAULT_SIZES,
      description = "sweep the hidden width H of IN-H-H-10 networks (alone: ${FALLBACK-VALUE})")
  List<Integer> sizes;

  @Option(names = "--conv", paramLabel = "SPEC", split = ";", arity = "0..1", fallbackValue = ConvNetSpec.CIFAR10,
      description = {"time conv-net steps instead: layer lists, ';'-separated, each optionally prefixed by its input",
        "shape CxHxW and ':' (default shape --shape), e.g. 1x28x28:conv(8,3,pad=1),avgpool(2),dense(32);",
        "alone: ${FALLBACK-VALUE}; the output layer (--classes units) is added"})
  List<String> conv;

  @Option(names = "--residual",
      description = {"time the CIFAR-10 residual net (" + ConvNetSpec.CIFAR10_RESIDUAL + ")",
        "as --conv does; with --torch against PyTorch's same nn.Module (bench/pytorch/torch_step.py)"})
  boolean residual;

  @Option(names = "--shape", paramLabel = "CxHxW", defaultValue = "3x32x32",
      description = "input shape of the --conv nets without their own (default ${DEFAULT-VALUE})")
  String shape;

  @Option(names = "--classes", defaultValue = "10", description = "outputs of the --conv nets (default ${DEFAULT-VALUE})")
  int classes;

  @Option(names = "--input", paramLabel = "IN", split = ",", defaultValue = "784",
      description = "input widths of the --sizes networks, e.g. 784,3072 (default ${DEFAULT-VALUE})")
  List<Integer> inputs;

  @Option(names = "--steps", defaultValue = "20",
      description = "timed rounds at least (one step of each optimizer per round; default ${DEFAULT-VALUE})")
  int steps;

  @Option(names = "--min-seconds", defaultValue = "1.0",
      description = "seconds of timed steps per optimizer at least (default ${DEFAULT-VALUE})")
  double minSeconds;

  @Option(names = "--warmup-steps", defaultValue = "200",
      description = "warm-up steps per optimizer at least, waived after 5 s of warm-up (default ${DEFAULT-VALUE})")
  int warmupSteps;

  @Option(names = "--warmup-seconds", defaultValue = "1.5",
      description = "seconds of warm-up steps per optimizer at least (default ${DEFAULT-VALUE})")
  double warmupSeconds;

  @Option(names = "--json", paramLabel = "FILE", description = "also write the figures as JSON")
  Path json;

  @Option(names = "--torch", paramLabel = "SCRIPT", arity = "0..1", fallbackValue = "bench/pytorch/torch_step.py",
      description = {"also run the PyTorch peer (Debian python3-torch, /usr/bin/python3) on the same architectures,",
        "batch and threads, with the same warm-up and timing rule applied to its own steps,",
        "and print our samples/s over PyTorch's; it times",
        "PyTorch's SGD step only (default script: ${FALLBACK-VALUE})"})
  Path torchScript;

  @Option(names = "--load", paramLabel = "NAME=DIR", split = ",",
      description = {"also time reading these datasets (train and test, as `train` reads them), e.g.",
        "mnist=../shared/data/mnist-convnetjs,cifar10=../shared/data/cifar10-jpeg; mnist-sample is always timed",
        "(not with --sizes)"})
  java.util.Map<String, Path> load;

  @Option(names = "--python", defaultValue = "/usr/bin/python3", description = "Python for --torch (default ${DEFAULT-VALUE})")
  String python;

  /** The warm-up and timing rule of the options. */
  StepBenchmark.Plan plan() {
    return new StepBenchmark.Plan(warmupSteps, warmupSeconds, StepBenchmark.Plan.WARMUP_STEPS_CAP_SECONDS, steps,
        minSeconds);
  }

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

  /**
   * Runs the PyTorch peer once with the same warm-up and timing rule as ours (at least {@code --warmup-steps} steps and
   * {@code --warmup-seconds}, the step minimum waived after the cap; then at least {@code --steps} steps and {@code
   * --min-seconds}), measured on its own steps: {@code torch_step.py --arch ARCH --batch B --threads T --warmup W
   * --warmup-seconds S --warmup-cap-seconds C --steps N --min-seconds M} (its default optimizer, plain SGD). Handing
   * it our step counts instead would make a slower peer run for minutes on small networks. Returns its JSON line.
   */
  private Map<String, Object> peer(String arch, int threadCount) {
    return peer(List.of("--arch", arch), threadCount);
  }

  /** {@link #peer(String, int)} for the net that {@code net} (the script's arguments) names. */
  @SuppressWarnings("unchecked")
  private Map<String, Object> peer(List<String> net, int threadCount) {
    try {
      List<String> cmd = new ArrayList<>(List.of(python, torchScript.toString()));
      cmd.addAll(net);
      cmd.addAll(List.of("--batch", String.valueOf(batch),
          "--steps", String.valueOf(steps), "--min-seconds", String.valueOf(minSeconds), "--warmup",
          String.valueOf(warmupSteps), "--warmup-seconds", String.valueOf(warmupSeconds), "--warmup-cap-seconds",
          String.valueOf(StepBenchmark.Plan.WARMUP_STEPS_CAP_SECONDS), "--threads", String.valueOf(threadCount)));
      Process p = new ProcessBuilder(cmd).redirectErrorStream(false).start();
      p.getOutputStream().close();
      // stderr is drained alongside stdout, so that neither pipe can fill up and stall the peer
      java.util.concurrent.CompletableFuture<String> err = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
        try {
          return new String(p.getErrorStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        } catch (java.io.IOException e) {
          return "";
        }
      });
      String stdout = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
      String stderr = err.join();
      if (p.waitFor() != 0) {
        throw new IllegalStateException("PyTorch peer failed (" + python + " " + torchScript + "): "
            + stderr.strip().replace('\n', ' '));
      }
      String line = stdout.strip().lines().reduce((a, b) -> b).orElse("{}");
      return io.github.pathsgd.experiments.config.Configs.json().readValue(line, Map.class);
    } catch (java.io.IOException e) {
      throw new IllegalStateException("cannot run the PyTorch peer: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while running the PyTorch peer", e);
    }
  }

  private void checkTorchScript() {
    if (!java.nio.file.Files.isRegularFile(torchScript)) {
      throw new IllegalArgumentException("--torch: script " + torchScript + " not found");
    }
  }

  /** Runs the PyTorch peer for each architecture and adds the samples/s ratio of the SGD step. */
  @SuppressWarnings("unchecked")
  private List<Map<String, Object>> torch(List<int[]> parsed, Map<String, Object> ours) {
    checkTorchScript();
    List<Map<String, Object>> res = new ArrayList<>();
    int t = io.github.pathsgd.core.tensor.Blas.threads();
    for (int[] w : parsed) {
      String arch = SizeSweep.archString(w);
      for (Map<String, Object> e : (List<Map<String, Object>>) ours.get("steps")) {
        if (e.get("arch").equals(arch) && e.get("optimizer").equals("sgd")) {
          Map<String, Object> r = peer(arch, t);
          double theirs = ((Number) r.get("samples_per_s")).doubleValue();
          double mine = ((Number) e.get("samples_per_s")).doubleValue();
          r.put("pathsgd_samples_per_s", mine);
          r.put("ratio_pathsgd_over_pytorch", mine / theirs);
          System.out.printf(java.util.Locale.ROOT, "%-18s PyTorch %s (BLAS core %s): %.0f samples/s; pathsgd SGD %.0f"
              + " samples/s = %.2fx PyTorch%n", arch, r.get("torch"), r.get("blas_core"), theirs, mine, mine / theirs);
          res.add(r);
        }
      }
    }
    return res;
  }

  /** {@code --sizes}: one row per thread count, input width and hidden width, then the table. */
  private Map<String, Object> sweep() {
    if (spec.commandLine().getParseResult().hasMatchedOption("--arch")) {
      throw new IllegalArgumentException("--arch and --sizes: give one of them");
    }
    if (load != null) {
      throw new IllegalArgumentException("--load times data loading, which --sizes leaves out: drop one of them");
    }
    for (int h : sizes) {
      if (h <= 0) {
        throw new IllegalArgumentException("--sizes: widths must be positive, got " + h);
      }
    }
    for (int in : inputs) {
      if (in <= 0) {
        throw new IllegalArgumentException("--input: widths must be positive, got " + in);
      }
    }
    if (torchScript != null) {
      checkTorchScript();
    }
    StepBenchmark.Plan plan = plan();
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("batch", batch);
    out.put("threads", threads);
    out.put("inputs", inputs);
    out.put("sizes", sizes);
    out.put("openblas_thread_timeout", io.github.pathsgd.core.tensor.Blas.threadTimeout());
    out.putAll(StepBenchmark.header(plan));
    List<Map<String, Object>> rows = new ArrayList<>();
    List<Map<String, Object>> peers = new ArrayList<>();
    for (int t : threads) {
      for (int in : inputs) {
        for (int h : sizes) {
          int[] w = SizeSweep.sweepArch(in, h);
          Map<String, Object> row = SizeSweep.sweepRow(w, batch, t, plan);
          if (torchScript != null) {
            Map<String, Object> r = peer((String) row.get("arch"), ((Number) row.get("threads")).intValue());
            double theirs = ((Number) r.get("samples_per_s")).doubleValue();
            row.put("pytorch_sgd_samples_per_s", theirs);
            row.put("pytorch_sgd_ms_per_step", r.get("ms_per_step"));
            row.put("pytorch_optimizer", r.get("optimizer"));
            row.put("pytorch_version", r.get("torch"));
            row.put("pytorch_blas_core", r.get("blas_core"));
            row.put("ratio_sgd_over_pytorch", ((Number) row.get("sgd_samples_per_s")).doubleValue() / theirs);
            peers.add(r);
            System.out.printf(java.util.Locale.ROOT, "          PyTorch %s (BLAS core %s) SGD: %.0f samples/s%n",
                r.get("torch"), r.get("blas_core"), theirs);
          }
          rows.add(row);
        }
      }
    }
    System.out.println();
    System.out.print(SizeSweep.table(rows, batch, plan));
    out.put("size_sweep", rows);
    if (torchScript != null) {
      out.put("pytorch", peers);
    }
    out.put("peak_rss_mib", MachineTimings.peakRssMiB());
    return out;
  }

  /** {@code --conv}: one row per thread count and net, then the table. */
  private Map<String, Object> convs() {
    for (String opt : List.of("--arch", "--sizes", "--input", "--load")) {
      if (spec.commandLine().getParseResult().hasMatchedOption(opt)) {
        throw new IllegalArgumentException(opt + " and --conv: give one of them");
      }
    }
    if (batch < 1) {
      throw new IllegalArgumentException("--batch: must be positive, got " + batch);
    }
    List<ConvNetSpec> nets = new ArrayList<>();
    for (String c : conv) {
      String text = c.strip();
      String shp = shape;
      int colon = text.indexOf(':');
      if (colon >= 0) {
        shp = text.substring(0, colon).strip();
        text = text.substring(colon + 1).strip();
      }
      nets.add(ConvNetSpec.parse(text, shp, classes));
    }
    if (torchScript != null) {
      checkTorchScript();
    }
    StepBenchmark.Plan plan = plan();
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("batch", batch);
    out.put("threads", threads);
    out.put("openblas_thread_timeout", io.github.pathsgd.core.tensor.Blas.threadTimeout());
    out.putAll(StepBenchmark.header(plan));
    List<Map<String, Object>> rows = new ArrayList<>();
    List<Map<String, Object>> peers = new ArrayList<>();
    for (int t : threads) {
      for (ConvNetSpec net : nets) {
        Map<String, Object> row = ConvStepBenchmark.row(net, batch, t, plan);
        if (torchScript != null) {
          // the canonical text (lower case, defaults left out), which the PyTorch script's small parser reads
          String canonical = io.github.pathsgd.core.nn.LayerSpec.parse(net.text()).toString();
          Map<String, Object> r = peer(List.of("--layers", canonical, "--shape", net.shape(), "--classes",
              String.valueOf(net.classes())), ((Number) row.get("threads")).intValue());
          double theirs = ((Number) r.get("samples_per_s")).doubleValue();
          row.put("pytorch_sgd_samples_per_s", theirs);
          row.put("pytorch_sgd_ms_per_step", r.get("ms_per_step"));
          row.put("pytorch_version", r.get("torch"));
          row.put("pytorch_blas_core", r.get("blas_core"));
          row.put("pytorch_mkldnn", r.get("mkldnn"));
          row.put("ratio_sgd_over_pytorch", ((Number) row.get("sgd_samples_per_s")).doubleValue() / theirs);
          peers.add(r);
          System.out.printf(java.util.Locale.ROOT, "          PyTorch %s (BLAS core %s, oneDNN %s) SGD: %.0f"
              + " samples/s%n", r.get("torch"), r.get("blas_core"), r.get("mkldnn"), theirs);
        }
        rows.add(row);
      }
    }
    System.out.println();
    System.out.print(ConvStepBenchmark.table(rows, batch, plan));
    out.put("conv", rows);
    if (torchScript != null) {
      out.put("pytorch", peers);
    }
    out.put("peak_rss_mib", MachineTimings.peakRssMiB());
    return out;
  }

  @Override
  public Integer call() {
    if (json != null) {
      try {
        io.github.pathsgd.train.io.OutputTarget.of(json); // before the benchmark, not after it
      } catch (io.github.pathsgd.train.io.OutputTarget.Refused e) {
        throw new io.github.pathsgd.train.io.OutputTarget.Refused("--json: " + e.getMessage());
      }
    }
    for (int t : threads) {
      if (t < 0) {
        throw new IllegalArgumentException("--threads: must be >= 0 (0 = all cores), got " + t);
      }
    }
    Map<String, Object> out;
    if (residual) {
      if (conv != null) {
        throw new IllegalArgumentException("--residual and --conv: give one of them (--conv takes res(...) blocks)");
      }
      conv = List.of(ConvNetSpec.CIFAR10_RESIDUAL);
    }
    if (conv != null) {
      out = convs();
    } else if (sizes != null) {
      out = sweep();
    } else {
      if (threads.size() != 1) {
        throw new IllegalArgumentException("--threads: a list (" + threads + ") needs --sizes or --conv; give one"
            + " count");
      }
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
      out = new LinkedHashMap<>(StepBenchmark.run(threads.get(0), batch, parsed, plan()));
      out.put("data_loading", loading());
      if (torchScript != null) {
        out.put("pytorch", torch(parsed, out));
      }
    }
    out.put("provenance", Provenance.machine());
    if (json != null) {
      RunWriter.writeJson(json, out);
      System.out.println("wrote " + json);
    }
    return 0;
  }
}
