package io.github.pathsgd.bench;

import io.github.pathsgd.core.rnn.GradClip;
import io.github.pathsgd.core.rnn.RnnCell;
import io.github.pathsgd.core.rnn.RnnGeometry;
import io.github.pathsgd.core.rnn.RnnInit;
import io.github.pathsgd.core.rnn.RnnKappa;
import io.github.pathsgd.core.rnn.RnnLayout;
import io.github.pathsgd.core.rnn.RnnPathSgd;
import io.github.pathsgd.core.tensor.Blas;
import io.github.pathsgd.core.tensor.Tensor;
import io.github.pathsgd.core.util.Rng;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Times one training step of the ReLU RNN of {@code core.rnn} (issue 25): H hidden units, the adding problem's shape
 * (2 inputs per step, 1 output, mean squared error), IRNN's init, on a fixed random batch. Five steps, interleaved and
 * timed by {@link StepBenchmark#interleaved} (paired rounds, medians): SGD (forward, BPTT, clipping at norm 1, θ −=
 * η·g); Path-SGD with κ^(1) (the same gradient, then κ^(1) by {@link RnnGeometry}, then θ −= η·g/κ); Path-SGD with
 * κ^(1) + κ^(2); and the two κ passes alone. The ratios are per round against SGD (median and quartiles), so they are
 * measured in one run; the "cpu" ratios use the thread's CPU time instead of wall time (with one OpenBLAS thread
 * every GEMM runs on the calling thread), which a loaded machine disturbs less.
 *
 * <p>Usage: {@code java -cp bench/target/benchmarks.jar io.github.pathsgd.bench.RnnStepBenchmark [threads [warmup
 * [steps [H [T,B ...]]]]]}, defaults 1 thread, 2 warm-up rounds, 8 timed rounds, H = 100, and (T, B) = (100, 16),
 * (100, 100), (784, 16), (784, 100). bench/pytorch/torch_rnn_step.py times PyTorch's {@code nn.RNN} on the same
 * sizes.
 */
public final class RnnStepBenchmark {
  private RnnStepBenchmark() {}

  /** The learning rate of every step: small, so the weights stay near IRNN's init over the run. */
  static final double LR = 1e-6;

  /** One network, batch and the three steps' shared buffers. */
  static final class Bench {
    final RnnLayout layout;
    final RnnCell cell;
    final RnnGeometry geo;
    final Tensor params;
    final Tensor grads;
    final Tensor x;
    final Tensor y;
    final Tensor dy;
    final float[] target;
    final int batch;

    Bench(int hidden, int steps, int batch) {
      this.layout = new RnnLayout(2, hidden, 1);
      this.cell = new RnnCell(layout, steps, batch);
      this.geo = new RnnGeometry(layout, steps, 2);
      this.params = RnnInit.toTensor(RnnInit.irnn(layout, new Rng(1)));
      this.grads = new Tensor(layout.size());
      this.x = new Tensor(batch * steps * 2);
      this.y = new Tensor(batch);
      this.dy = new Tensor(batch);
      this.batch = batch;
      Rng r = new Rng(2);
      for (int i = 0; i < x.size(); i++) {
        x.set(i, r.nextFloat());
      }
      target = new float[batch];
      for (int i = 0; i < batch; i++) {
        target[i] = 2 * r.nextFloat();
      }
    }

    /** Forward, MSE gradient, BPTT and clipping at norm 1. */
    void gradient() {
      cell.forward(x, 0, batch, params, y);
      for (int i = 0; i < batch; i++) {
        dy.set(i, (y.get(i) - target[i]) / batch);
      }
      grads.fill(0f);
      cell.backward(dy, params, grads);
      GradClip.clipByNorm(grads, 0, layout.size(), 1.0);
    }

    void sgd() {
      gradient();
      Blas.saxpy(layout.size(), (float) -LR, grads, 0, params, 0);
    }

    void path(boolean second) {
      gradient();
      RnnKappa k = geo.kappa(params.buffer(), 0, second);
      RnnPathSgd.step(params, 0, grads, 0, k, second, LR, 0, null, 0);
    }
  }

  /**
   * The mean CPU time of the whole process per SGD step, in ms (every thread: OpenBLAS's, the JIT's, the
   * collector's), over at least {@code n} more steps and at least 1 s of CPU time (the JVM reads the process's CPU
   * time in coarse ticks): the step's cost with the time other processes took from the cores left out, the measure
   * of torch_rnn_step.py's {@code cpu_ms_per_step} ({@code time.process_time}).
   */
  static double sgdCpuMs(Bench b, int n) {
    var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
        .getOperatingSystemMXBean();
    long c0 = os.getProcessCpuTime();
    int k = 0;
    while (k < n || os.getProcessCpuTime() - c0 < 1_000_000_000L) {
      b.sgd();
      k++;
    }
    return (os.getProcessCpuTime() - c0) / 1e6 / k;
  }

  public static void main(String[] args) {
    int threads = args.length > 0 ? Integer.parseInt(args[0]) : 1;
    int warmup = args.length > 1 ? Integer.parseInt(args[1]) : 2;
    int steps = args.length > 2 ? Integer.parseInt(args[2]) : 8;
    int hidden = args.length > 3 ? Integer.parseInt(args[3]) : 100;
    List<int[]> sizes = new ArrayList<>();
    for (int i = 4; i < args.length; i++) {
      String[] tb = args[i].split(",");
      sizes.add(new int[] {Integer.parseInt(tb[0]), Integer.parseInt(tb[1])});
    }
    if (sizes.isEmpty()) {
      sizes = List.of(new int[] {100, 16}, new int[] {100, 100}, new int[] {784, 16}, new int[] {784, 100});
    }
    Blas.setThreads(threads);
    System.out.println("# " + Blas.describe() + "; H=" + hidden + ", 2 inputs, 1 output; " + warmup + " warm-up and "
        + steps + " timed rounds; ratios: median [quartiles] of per-round time / SGD's");
    System.out.println("T\tB\tSGD ms\tPath κ1 ms\tPath κ1+κ2 ms\tκ1 pass ms\tκ1+κ2 pass ms\tκ1/SGD\tκ1+κ2/SGD"
        + "\tκ1/SGD cpu\tκ1+κ2/SGD cpu\tκ1 pass/SGD cpu\tκ1+κ2 pass/SGD cpu\tSGD process cpu ms");
    for (int[] tb : sizes) {
      Bench sgd = new Bench(hidden, tb[0], tb[1]);
      Bench p1 = new Bench(hidden, tb[0], tb[1]);
      Bench p2 = new Bench(hidden, tb[0], tb[1]);
      Bench k = new Bench(hidden, tb[0], tb[1]);
      List<Runnable> runs = List.of(sgd::sgd, () -> p1.path(false), () -> p2.path(true),
          () -> k.geo.kappa(k.params.buffer(), 0, false), () -> k.geo.kappa(k.params.buffer(), 0, true));
      StepBenchmark.StepTimes t = StepBenchmark.interleaved(runs, StepBenchmark.Plan.fixed(warmup, steps));
      double[] s = t.seconds();
      double[][] r = t.pairedRatio();
      double[][] c = t.cpuPairedRatio();
      System.out.println(String.format(Locale.ROOT, "%d\t%d\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.3f [%.3f, %.3f]\t"
          + "%.3f [%.3f, %.3f]\t%.3f [%.3f, %.3f]\t%.3f [%.3f, %.3f]\t%.3f\t%.3f\t%.2f", tb[0], tb[1], s[0] * 1e3,
          s[1] * 1e3, s[2] * 1e3, s[3] * 1e3, s[4] * 1e3, r[1][1], r[1][0], r[1][2], r[2][1], r[2][0], r[2][2],
          c[1][1], c[1][0], c[1][2], c[2][1], c[2][0], c[2][2], c[3][1], c[4][1], sgdCpuMs(sgd, steps)));
    }
  }
}
