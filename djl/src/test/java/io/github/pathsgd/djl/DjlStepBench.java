package io.github.pathsgd.djl;

import ai.djl.Model;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.EasyTrain;
import ai.djl.training.Trainer;
import ai.djl.training.dataset.ArrayDataset;
import ai.djl.training.dataset.Batch;
import io.github.pathsgd.core.nn.DenseChain;
import io.github.pathsgd.core.nn.Dropout;
import io.github.pathsgd.core.nn.Init;
import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.core.optim.Optimizers;
import io.github.pathsgd.core.step.TrainStep;
import io.github.pathsgd.core.tensor.Blas;
import io.github.pathsgd.core.util.Rng;
import java.util.Arrays;
import java.util.Locale;

/**
 * Not a test (no timing is asserted anywhere): the Path-SGD step inside DJL against DJL's own SGD step, on one
 * machine in one run, for 784-H-H-10 at batch 100. Interleaved rounds of {@code steps} steps each; the median
 * milliseconds per step of each kind, the ratio, the host time {@link PathSgdListener} spent moving weights and
 * gradients between DJL and pathsgd and computing κ, and pathsgd's own Path-SGD step for reference.
 *
 * <pre>
 *   java -Dai.djl.offline=true -Dai.djl.pytorch.num_threads=T -Dai.djl.pytorch.num_interop_threads=1 \
 *       -cp ... io.github.pathsgd.djl.DjlStepBench H T [steps] [rounds]
 * </pre>
 */
public final class DjlStepBench {
  private DjlStepBench() {}

  public static void main(String[] args) throws Exception {
    int h = Integer.parseInt(args[0]);
    int threads = Integer.parseInt(args[1]);
    int steps = args.length > 2 ? Integer.parseInt(args[2]) : 10;
    int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 5;
    Blas.setThreads(threads);
    int b = 100;
    float[] x = Fixtures.inputs(b * steps, 784, 1);
    int[] y = Fixtures.labels(b * steps, 10, 1);
    double[] sgd = new double[rounds];
    double[] path = new double[rounds];
    double[] own = new double[rounds];
    PathSgdListener listener = PathSgdListener.of(2);
    try (Model ms = Model.newInstance("sgd"); Trainer ts = trainer(ms, h, b);
        Model mp = Model.newInstance("path"); Trainer tp = trainer(mp, h, b, listener)) {
      ArrayDataset ds = dataset(ts.getManager(), x, y, b);
      ArrayDataset dp = dataset(tp.getManager(), x, y, b);
      DenseChain lay = new DenseChain(784, h, h, 10);
      LayerNet net = Init.balanced(lay, new Rng(1));
      TrainStep step = new TrainStep(net, Optimizers.pathSgd(1e-4, 2), b);
      run(ts, ds); // warm-up round of each
      run(tp, dp);
      double move0 = listener.moveSeconds();
      double kappa0 = listener.kappaSeconds();
      long steps0 = listener.steps();
      pathsgd(step, x, y, b, steps);
      for (int r = 0; r < rounds; r++) {
        sgd[r] = run(ts, ds) / steps;
        path[r] = run(tp, dp) / steps;
        own[r] = pathsgd(step, x, y, b, steps) / steps;
      }
      long n = listener.steps() - steps0;
      double move = (listener.moveSeconds() - move0) / n * 1e3;
      double kappa = (listener.kappaSeconds() - kappa0) / n * 1e3;
      double ms1 = median(sgd) * 1e3;
      double mp1 = median(path) * 1e3;
      System.out.printf(Locale.ROOT, "784-%d-%d-10 threads %d: djl sgd %.1f ms/step, djl path-sgd %.1f ms/step "
          + "(ratio %.2f); of the path-sgd step: moving %.1f ms (%.0f%%), kappa and division %.1f ms (%.0f%%); "
          + "pathsgd's own path-sgd step %.1f ms (openblas %s)%n", h, h, threads, ms1, mp1, mp1 / ms1, move,
          100 * move / mp1, kappa, 100 * kappa / mp1, median(own) * 1e3, Blas.coreName());
    }
  }

  static Trainer trainer(Model m, int h, int b, PathSgdListener... l) {
    SequentialBlock block = new SequentialBlock().add(Linear.builder().setUnits(h).build())
        .add(Activation.reluBlock()).add(Linear.builder().setUnits(h).build()).add(Activation.reluBlock())
        .add(Linear.builder().setUnits(10).build());
    return Fixtures.trainer(m, block, new Shape(784), b, 1e-4f, 0f, l);
  }

  static ArrayDataset dataset(NDManager m, float[] x, int[] y, int b) {
    float[] yf = new float[y.length];
    for (int i = 0; i < y.length; i++) {
      yf[i] = y[i];
    }
    return new ArrayDataset.Builder().setData(m.create(x, new Shape(y.length, 784))).optLabels(m.create(yf))
        .setSampling(b, false).build();
  }

  /** Seconds spent in trainBatch + step over one pass of the data set (batching outside the clock). */
  static double run(Trainer t, ArrayDataset ds) throws Exception {
    long total = 0;
    for (Batch batch : t.iterateDataset(ds)) {
      long t0 = System.nanoTime();
      EasyTrain.trainBatch(t, batch);
      t.step();
      total += System.nanoTime() - t0;
      batch.close();
    }
    return total / 1e9;
  }

  static double pathsgd(TrainStep step, float[] x, int[] y, int b, int steps) {
    long total = 0;
    for (int k = 0; k < steps; k++) {
      step.workspace().input().copyFrom(x, k * b * 784, 0, b * 784);
      long t0 = System.nanoTime();
      step.run(b, y, k * b, Dropout.NONE, null);
      total += System.nanoTime() - t0;
    }
    return total / 1e9;
  }

  static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s[s.length / 2];
  }
}
