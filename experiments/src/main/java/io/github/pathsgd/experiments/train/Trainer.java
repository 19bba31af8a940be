package io.github.pathsgd.experiments.train;

import io.github.pathsgd.core.nn.Dropout;
import io.github.pathsgd.core.nn.Mlp;
import io.github.pathsgd.core.optim.OptState;
import io.github.pathsgd.core.optim.Optimizer;
import io.github.pathsgd.core.tensor.Tensor;
import io.github.pathsgd.core.util.Rng;
import io.github.pathsgd.data.Dataset;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The training loop: epochs of shuffled mini-batches, an evaluation after each epoch, stopping rules, divergence
 * detection and end-of-epoch checkpoints.
 *
 * <p>Randomness: epoch e's shuffle is drawn from {@code root.split("shuffle/" + e)} and its dropout masks from {@code
 * root.split("dropout/" + e)}, where root is {@code new Rng(seed)}. Two runs with the same seed therefore see the same
 * batches and masks, whatever their initialization or optimizer (what the rescaling-invariance experiments need), and
 * a resumed run continues exactly.
 *
 * <p>The last, partial mini-batch of an epoch is used (its gradient is its own mean). A step whose loss is NaN or
 * infinite stops the run with status {@code diverged}.
 */
public final class Trainer {
  /** Options of the loop itself. */
  public record Options(int batchSize, int epochs, Dropout dropout, long seed, double stopTrainLoss,
      boolean stopAtZeroTrainError, boolean fullTrainEval, int evalBatch) {
    public Options {
      if (batchSize < 1 || epochs < 1 || evalBatch < 1) {
        throw new IllegalArgumentException("batch size, epochs and eval batch must be positive");
      }
    }
  }

  private final Mlp net;
  private final Optimizer optimizer;
  private final OptState state;
  private final Dataset train;
  private final Dataset validation;
  private final Dataset test;
  private final Options opt;
  private final String configHash;

  /**
   * @param validation may be null
   * @param test may be null
   * @param configHash identifies the run in checkpoints; a checkpoint of another config is refused, never resumed
   */
  public Trainer(Mlp net, Optimizer optimizer, Dataset train, Dataset validation, Dataset test, Options opt,
      String configHash) {
    if (train.dim() != net.layout().inputs()) {
      throw new IllegalArgumentException("network expects " + net.layout().inputs() + " inputs, dataset "
          + train.name() + " has " + train.dim() + " features");
    }
    if (train.numClasses() > net.layout().outputs()) {
      throw new IllegalArgumentException("network has " + net.layout().outputs() + " outputs, dataset "
          + train.name() + " has " + train.numClasses() + " classes");
    }
    this.net = net;
    this.optimizer = optimizer;
    this.state = optimizer.init(net.layout());
    this.train = train;
    this.validation = validation;
    this.test = test;
    this.opt = opt;
    this.configHash = configHash;
  }

  public Mlp network() {
    return net;
  }

  public OptState optimizerState() {
    return state;
  }

  /**
   * Trains from scratch, or resumes from {@code checkpoint} when that file exists; a checkpoint that is damaged or
   * not this run's (config hash, layout, epoch budget, steps per epoch, optimizer state) is refused with an {@link
   * UncheckedIOException} naming the file, never resumed.
   */
  public RunResult run(TrainingListener listener, Path checkpoint) {
    List<EpochRecord> history = new ArrayList<>();
    int startEpoch = 1;
    if (checkpoint != null && Files.exists(checkpoint)) {
      try {
        // refuses (naming the file and how to start over) anything but an intact checkpoint of this very run
        Checkpoint c = Checkpoint.readForResume(checkpoint, configHash, net.layout(), opt.epochs(), stepsPerEpoch(),
            state.export());
        net.params().copyFrom(c.params(), 0, 0, c.params().length);
        state.restore(c.optState());
        history.addAll(c.history());
        startEpoch = c.epoch() + 1;
      } catch (IOException e) {
        throw new UncheckedIOException(e.getMessage(), e);
      }
    }
    Rng root = new Rng(opt.seed());
    int n = train.n();
    int B = Math.min(opt.batchSize(), n);
    int steps = (n + B - 1) / B;
    if (!history.isEmpty()) {
      listener.onResume(List.copyOf(history));
    }
    listener.onStart(startEpoch, opt.epochs(), steps);
    if (history.isEmpty()) {
      long t0 = System.nanoTime();
      EpochRecord r0 = evaluateAll(0, Double.NaN, 0, 0);
      r0 = withEval(r0, (System.nanoTime() - t0) / 1e9);
      history.add(r0);
      listener.onEpoch(r0);
      if (!Double.isFinite(r0.trainLoss())) {
        return new RunResult(RunResult.DIVERGED, "non-finite loss at initialization", 0, history, net);
      }
    }
    Mlp.Workspace ws = net.workspace(B);
    Tensor grads = new Tensor(net.layout().size());
    int[] order = new int[n];
    int[] labels = new int[B];
    int d = train.dim();
    float[] x = train.x();
    int[] y = train.y();
    int epoch = startEpoch - 1;
    String status = RunResult.COMPLETED;
    String reason = "epoch budget of " + opt.epochs() + " reached";
    for (int e = startEpoch; e <= opt.epochs(); e++) {
      Rng shuffle = root.split("shuffle/" + e);
      Rng dropRng = root.split("dropout/" + e);
      for (int i = 0; i < n; i++) {
        order[i] = i;
      }
      shuffle.shuffle(order);
      long t0 = System.nanoTime();
      double lossSum = 0;
      long errSum = 0;
      boolean diverged = false;
      for (int s = 0; s < steps; s++) {
        int from = s * B;
        int rows = Math.min(B, n - from);
        for (int b = 0; b < rows; b++) {
          int idx = order[from + b];
          ws.input().copyFrom(x, idx * d, b * d, d);
          labels[b] = y[idx];
        }
        Mlp.StepStats st = optimizer.trainStep(net, ws, rows, labels, 0, grads, state, opt.dropout(), dropRng);
        if (!Double.isFinite(st.loss())) {
          status = RunResult.DIVERGED;
          reason = "training loss became " + st.loss() + " at epoch " + e + ", step " + (s + 1) + " of " + steps;
          diverged = true;
          break;
        }
        lossSum += st.loss() * rows;
        errSum += st.errors();
        listener.onStep(e, s + 1, st.loss());
      }
      double seconds = (System.nanoTime() - t0) / 1e9;
      if (diverged) {
        break;
      }
      epoch = e;
      long t1 = System.nanoTime();
      EpochRecord r = evaluateAll(e, lossSum / n, (double) errSum / n, seconds);
      r = withEval(r, (System.nanoTime() - t1) / 1e9);
      history.add(r);
      listener.onEpoch(r);
      if (!Double.isFinite(r.trainLoss())) {
        status = RunResult.DIVERGED;
        reason = "training loss became " + r.trainLoss() + " after epoch " + e;
        break;
      }
      if (checkpoint != null) {
        new Checkpoint(configHash, net.layout().widths(), e, steps, net.params().toArray(), state.export(), history)
            .write(checkpoint);
        listener.onCheckpoint(e);
      }
      if (opt.stopTrainLoss() > 0 && r.trainLoss() < opt.stopTrainLoss()) {
        reason = "training loss " + r.trainLoss() + " fell below " + opt.stopTrainLoss() + " after epoch " + e;
        break;
      }
      if (opt.stopAtZeroTrainError() && r.trainError() == 0) {
        reason = "training error reached 0 after epoch " + e;
        break;
      }
    }
    if (epoch == opt.epochs() && startEpoch > opt.epochs()) {
      reason = "already complete (resumed from a checkpoint of the last epoch)";
    }
    return new RunResult(status, reason, epoch, history, net);
  }

  /** Mini-batches per epoch (the last one may be partial). */
  private int stepsPerEpoch() {
    int b = Math.min(opt.batchSize(), train.n());
    return (train.n() + b - 1) / b;
  }

  private static EpochRecord withEval(EpochRecord r, double evalSeconds) {
    return new EpochRecord(r.epoch(), r.trainLoss(), r.trainError(), r.validationLoss(), r.validationError(),
        r.testLoss(), r.testError(), r.seconds(), evalSeconds, r.kappaClamped());
  }

  private EpochRecord evaluateAll(int epoch, double runningLoss, double runningError, double seconds) {
    double trainLoss = runningLoss;
    double trainError = runningError;
    if (opt.fullTrainEval() || epoch == 0) {
      double[] t = evaluate(net, train, opt.evalBatch());
      trainLoss = t[0];
      trainError = t[1];
    }
    double[] v = validation == null ? new double[] {Double.NaN, Double.NaN} : evaluate(net, validation, opt.evalBatch());
    double[] t = test == null ? new double[] {Double.NaN, Double.NaN} : evaluate(net, test, opt.evalBatch());
    return new EpochRecord(epoch, trainLoss, trainError, v[0], v[1], t[0], t[1], seconds, 0,
        state.children().isEmpty() ? 0 : clamped(state));
  }

  private static double clamped(OptState s) {
    double c = s.scalar("clamped", 0);
    for (OptState ch : s.children()) {
      c += clamped(ch);
    }
    return c;
  }

  /** Mean loss and error fraction of {@code net} on {@code data}, without dropout. */
  public static double[] evaluate(Mlp net, Dataset data, int evalBatch) {
    int n = data.n();
    if (n == 0) {
      return new double[] {Double.NaN, Double.NaN};
    }
    int B = Math.min(evalBatch, n);
    Mlp.Workspace ws = net.workspace(B);
    int d = data.dim();
    double loss = 0;
    long errors = 0;
    for (int from = 0; from < n; from += B) {
      int rows = Math.min(B, n - from);
      ws.input().copyFrom(data.x(), from * d, 0, rows * d);
      Mlp.StepStats s = net.evaluate(ws, rows, data.y(), from);
      loss += s.loss();
      errors += s.errors();
    }
    return new double[] {loss / n, (double) errors / n};
  }
}
