package io.github.pathsgd.bench;

import io.github.pathsgd.core.nn.Dropout;
import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.core.nn.Network;
import io.github.pathsgd.core.optim.Optimizer;
import io.github.pathsgd.core.optim.Optimizers;
import io.github.pathsgd.core.step.TrainStep;
import io.github.pathsgd.core.tensor.Blas;
import io.github.pathsgd.core.tensor.Tensor;
import io.github.pathsgd.core.util.Rng;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The conv-net step benchmark of {@code pathsgd bench --conv}: one SGD step and one Path-SGD step (p = 2) of a {@link
 * LayerNet}, interleaved and timed by {@link StepBenchmark#interleaved} (the warm-up rule and paired rounds of the MLP
 * benchmark).
 *
 * <p>The steps. SGD: {@link LayerNet#lossAndGradient} (forward, softmax cross-entropy, backward), then {@code θ −= η·g}.
 * Path-SGD: the same gradient, κ of every parameter by {@code LayerKappa} (γ sweeps through the layers over
 * |θ|², a batch of one, in double), then {@code θ −= η·g/κ}: what the Path-SGD optimizer does with p = 2 and no
 * momentum. Both are the library's own training step, {@link TrainStep} with {@code Optimizers.sgd} and {@code
 * Optimizers.pathSgd} (a network of layers is never folded), on the workspace's fixed batch.
 */
public final class ConvStepBenchmark {
  private ConvStepBenchmark() {}

  /** One training step on a fixed batch, and the parameters it updates. */
  public interface Step extends Runnable {
    Tensor params();
  }

  /** The learning rate of both steps (small: the weights stay near their initialization over the run). */
  static final double LR = 1e-4;

  /** A network, its gradient buffer and a fixed random batch. */
  static final class Net {
    final LayerNet net;
    final Network.Workspace ws;
    final Tensor grads;
    final int[] labels;
    final int batch;

    Net(ConvNetSpec spec, int batch) {
      this.net = new LayerNet(spec.layers(), spec.init(new Rng(1)));
      this.ws = net.workspace(batch);
      this.grads = new Tensor(spec.paramCount());
      this.batch = batch;
      Rng x = new Rng(3);
      for (int i = 0; i < batch * spec.inputSize(); i++) {
        ws.input().set(i, x.nextFloat());
      }
      Rng r = new Rng(2);
      labels = new int[batch];
      for (int i = 0; i < batch; i++) {
        labels[i] = r.nextInt(spec.classes());
      }
    }

    void gradient() {
      net.lossAndGradient(ws, batch, labels, 0, grads, 1f, null);
    }
  }

  /**
   * A training step of the library ({@link TrainStep} over the {@link LayerNet}, unfused: gradient, then the
   * optimizer's update), on the fixed batch of {@link Net}.
   */
  private static final class LayerNetStep implements Step {
    private final Net n;
    private final TrainStep step;

    LayerNetStep(ConvNetSpec spec, int batch, boolean path) {
      this.n = new Net(spec, batch);
      Optimizer opt = path ? Optimizers.pathSgd(LR, 2) : Optimizers.sgd(LR);
      this.step = new TrainStep(n.net, opt, n.ws, opt.init(n.net.layout()), false);
    }

    @Override
    public Tensor params() {
      return n.net.params();
    }

    @Override
    public void run() {
      step.run(n.batch, n.labels, Dropout.NONE, null);
    }
  }

  /** The SGD step: gradient, then θ −= η·g ({@code Optimizers.sgd}). */
  public static Step sgd(ConvNetSpec spec, int batch) {
    return new LayerNetStep(spec, batch, false);
  }

  /** The Path-SGD step (p = 2, {@code Optimizers.pathSgd}): gradient, κ through the layers' sweeps, θ −= η·g/κ. */
  public static Step pathSgd(ConvNetSpec spec, int batch) {
    return new LayerNetStep(spec, batch, true);
  }

  /**
   * One row of the conv table: SGD and Path-SGD steps of {@code spec} at {@code threads} OpenBLAS threads, timed by
   * {@code plan}; prints a progress line. Fields: threads, spec, shape, classes, batch, params, gflop_per_step,
   * sgd_ms_per_step, sgd_samples_per_s, path_sgd_ms_per_step, path_sgd_samples_per_s, ratio_median, ratio_q25,
   * ratio_q75, ratio_of_medians, cpu_ratio_median, cpu_ratio_q25, cpu_ratio_q75 (the paired ratio of thread CPU times,
   * meaningful at 1 thread), warm-up and timed steps and seconds, drift_sgd, drift_path_sgd, gc_fraction.
   */
  public static Map<String, Object> row(ConvNetSpec spec, int batch, int threads, StepBenchmark.Plan plan) {
    Blas.setThreads(threads);
    // separate networks (and layer objects with their own buffers) for the two steps
    ConvNetSpec a = ConvNetSpec.parse(spec.text(), spec.shape(), spec.classes());
    ConvNetSpec b = ConvNetSpec.parse(spec.text(), spec.shape(), spec.classes());
    StepBenchmark.StepTimes t = StepBenchmark.interleaved(List.of(sgd(a, batch), pathSgd(b, batch)), plan);
    double[] pr = t.pairedRatio()[1];
    Map<String, Object> row = new LinkedHashMap<>();
    row.put("threads", Blas.threads());
    row.put("spec", spec.text());
    row.put("shape", spec.shape());
    row.put("classes", spec.classes());
    row.put("batch", batch);
    row.put("params", spec.paramCount());
    row.put("gflop_per_step", spec.stepFlops(batch) / 1e9);
    StepBenchmark.putStepRates(row, batch, t.seconds());
    row.put("ratio_median", pr[1]);
    row.put("ratio_q25", pr[0]);
    row.put("ratio_q75", pr[2]);
    row.put("ratio_of_medians", t.seconds()[1] / t.seconds()[0]);
    double[] cr = t.cpuPairedRatio()[1];
    row.put("cpu_ratio_median", StepBenchmark.finiteOrNull(cr[1]));
    row.put("cpu_ratio_q25", StepBenchmark.finiteOrNull(cr[0]));
    row.put("cpu_ratio_q75", StepBenchmark.finiteOrNull(cr[2]));
    row.put("warmup_steps", t.warmupSteps());
    row.put("warmup_seconds_sgd", t.warmupSeconds()[0]);
    row.put("warmup_seconds_path_sgd", t.warmupSeconds()[1]);
    row.put("timed_steps", t.timedSteps());
    row.put("timed_seconds_sgd", t.timedSeconds()[0]);
    row.put("timed_seconds_path_sgd", t.timedSeconds()[1]);
    row.put("drift_sgd", StepBenchmark.finiteOrNull(t.drift()[0]));
    row.put("drift_path_sgd", StepBenchmark.finiteOrNull(t.drift()[1]));
    row.put("gc_fraction", t.gcFraction());
    System.out.printf(Locale.ROOT, "%d thread%s %s %s: SGD %.2f ms/step, Path-SGD %.2f ms/step, Path-SGD / SGD %.3f"
        + " (%.3f-%.3f)%n", Blas.threads(), Blas.threads() == 1 ? " " : "s", spec.shape(), spec.text(),
        t.seconds()[0] * 1e3, t.seconds()[1] * 1e3, pr[1], pr[0], pr[2]);
    System.out.println("          " + StepBenchmark.timingLine(spec.shape(), t));
    return row;
  }

  /**
   * The conv table: one line per row (threads, input shape, spec, SGD and Path-SGD samples/s, the paired Path-SGD/SGD
   * step ratio with its quartiles, and PyTorch's SGD samples/s when a row has {@code pytorch_sgd_samples_per_s}), a
   * "*" on rows whose steps were still getting faster, and the notes on the columns.
   */
  public static String table(List<Map<String, Object>> rows, int batch, StepBenchmark.Plan plan) {
    boolean torch = rows.stream().anyMatch(r -> r.get("pytorch_sgd_samples_per_s") != null);
    StringBuilder b = new StringBuilder();
    b.append(String.format(Locale.ROOT, "Conv nets, batch %d: %s%n", batch, plan.describe()));
    b.append(String.format(Locale.ROOT, "%7s  %-8s %-62s %9s %10s %24s %24s", "threads", "input", "layers", "SGD /s",
        "Path-SGD /s", "Path-SGD/SGD step (IQR)", "CPU-time ratio (IQR)"));
    b.append(torch ? String.format(Locale.ROOT, " %12s %9s%n", "PyTorch /s", "SGD/torch") : String.format("%n"));
    boolean drifting = false;
    for (Map<String, Object> r : rows) {
      String ratio = String.format(Locale.ROOT, "%.3f (%.3f-%.3f)", num(r, "ratio_median"), num(r, "ratio_q25"),
          num(r, "ratio_q75"));
      String cpu = ((Number) r.get("threads")).intValue() != 1 || r.get("cpu_ratio_median") == null ? "-"
          : String.format(Locale.ROOT, "%.3f (%.3f-%.3f)", num(r, "cpu_ratio_median"), num(r, "cpu_ratio_q25"),
              num(r, "cpu_ratio_q75"));
      b.append(String.format(Locale.ROOT, "%7d  %-8s %-62s %9.0f %10.0f %24s %24s",
          ((Number) r.get("threads")).intValue(), r.get("shape"), r.get("spec"), num(r, "sgd_samples_per_s"),
          num(r, "path_sgd_samples_per_s"), ratio, cpu));
      if (torch) {
        Object p = r.get("pytorch_sgd_samples_per_s");
        b.append(p == null ? String.format(Locale.ROOT, " %12s %9s", "-", "-")
            : String.format(Locale.ROOT, " %12.0f %9.2f", ((Number) p).doubleValue(),
                num(r, "sgd_samples_per_s") / ((Number) p).doubleValue()));
      }
      boolean faster = false;
      for (String key : List.of("drift_sgd", "drift_path_sgd")) {
        faster |= r.get(key) instanceof Number d && d.doubleValue() > StepBenchmark.DRIFT_WARNING;
      }
      drifting |= faster;
      b.append(faster ? "  *" : "").append(String.format("%n"));
    }
    b.append(String.format("Samples/s of one step at the batch size (median over the timed steps). Path-SGD/SGD step:"
        + " the median over the timed rounds of%n  (Path-SGD step / SGD step in the same round), with its quartiles."
        + " The output layer (one unit per class) follows the layers given.%n  CPU-time ratio (1 thread only): the same"
        + " median and quartiles of the calling thread's CPU time per step, which a loaded machine does not inflate.%n"));
    if (drifting) {
      b.append(String.format(Locale.ROOT, "*: the steps were still getting faster (drift above %.2f): warm up longer.%n",
          StepBenchmark.DRIFT_WARNING));
    }
    if (torch) {
      b.append(String.format("PyTorch: bench/pytorch/torch_step.py --layers, nn.Sequential of Conv2d/ReLU/MaxPool2d/"
          + "AvgPool2d/Flatten/Linear, plain SGD step,%n  the same net, batch and threads, and the same warm-up and"
          + " timing rule applied to its own steps.%n"));
    }
    return b.toString();
  }

  private static double num(Map<String, Object> r, String key) {
    return ((Number) r.get(key)).doubleValue();
  }
}
