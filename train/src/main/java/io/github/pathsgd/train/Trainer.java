package io.github.pathsgd.train;

import io.github.pathsgd.core.geometry.ModelNorms;
import io.github.pathsgd.core.nn.Dropout;
import io.github.pathsgd.core.nn.Loss;
import io.github.pathsgd.core.nn.Network;
import io.github.pathsgd.core.nn.StepStats;
import io.github.pathsgd.core.optim.OptState;
import io.github.pathsgd.core.optim.Optimizer;
import io.github.pathsgd.core.step.TrainStep;
import io.github.pathsgd.core.util.Rng;
import io.github.pathsgd.data.Dataset;
import io.github.pathsgd.train.checkpoint.Checkpoint;
import io.github.pathsgd.train.history.EpochRecord;
import io.github.pathsgd.train.history.RunResult;
import io.github.pathsgd.train.listener.CheckpointListener;
import io.github.pathsgd.train.listener.DivergenceCheck;
import io.github.pathsgd.train.listener.Listeners;
import io.github.pathsgd.train.listener.Stop;
import io.github.pathsgd.train.listener.StopRules;
import io.github.pathsgd.train.listener.TrainingListener;
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
 * <p>The last, partial mini-batch of an epoch is used (its gradient is its own mean).
 *
 * <p>Divergence: a step whose loss is NaN or infinite stops the run with status {@code diverged}, and so does a loss
 * that explodes without becoming NaN: a mini-batch loss or an epoch's training loss above the divergence bound
 * {@code divergenceFactor × max(L0, ln K)}, where L0 is the training loss of the initial network (epoch 0) and ln K
 * the loss of a uniform guess over the network's K outputs (so that a near-perfect initial network does not make the
 * bound tiny). A factor of 0 turns the bound off.
 *
 * <p>Resuming: the stop rules are applied to the last checkpointed epoch before anything else, so a run killed after
 * its last checkpoint but before its summary ends with the stop reason the uninterrupted run reported.
 *
 * <p>Step budget ({@link Options#maxSteps} K &gt; 0): the run stops, status completed, after its K-th optimizer step
 * (counted over all epochs), or at the epoch budget if that comes first. When step K ends an epoch, that epoch is
 * recorded, checkpointed and stop-checked as any other. When it falls inside epoch e, the steps of e taken so far are
 * a partial epoch: it is evaluated and recorded as epoch e (its train loss/error a clean pass over the training set,
 * or with running train evaluation the mean over the mini-batches taken; its seconds those of its steps) and counted
 * in {@code epochsCompleted}, but not checkpointed (a run killed before its summary resumes from epoch e − 1 and takes
 * the same steps again).
 *
 * <p>Norms ({@link Options#recordNorms}): each record, epoch 0 included, gets the network's {@link ModelNorms} after
 * the epoch, and their wall time.
 */
public final class Trainer {
  /**
   * Options of the loop itself.
   *
   * @param divergenceFactor the divergence bound's factor (see the class comment); 0 = no bound, only NaN and
   *     infinity
   * @param recordNorms whether each epoch's record gets the network's {@link ModelNorms}
   * @param maxSteps the step budget: the run stops after this many optimizer steps in all (0 = none; see the class
   *     comment)
   */
  public record Options(int batchSize, int epochs, Dropout dropout, long seed, double stopTrainLoss,
      boolean stopAtZeroTrainError, boolean fullTrainEval, int evalBatch, double divergenceFactor,
      boolean recordNorms, long maxSteps) {
    /** The default divergence factor: a training loss 1000 times the initial one ends a run as diverged. */
    public static final double DEFAULT_DIVERGENCE_FACTOR = 1000;

    public Options {
      if (batchSize < 1 || epochs < 1 || evalBatch < 1) {
        throw new IllegalArgumentException("batch size, epochs and eval batch must be positive");
      }
      if (!(divergenceFactor >= 0) || Double.isInfinite(divergenceFactor)) {
        throw new IllegalArgumentException("divergence factor must be finite and >= 0, got " + divergenceFactor);
      }
      if (maxSteps < 0) {
        throw new IllegalArgumentException("step budget must be >= 0 (0 = none), got " + maxSteps);
      }
    }

    /** Options without norms and without a step budget. */
    public Options(int batchSize, int epochs, Dropout dropout, long seed, double stopTrainLoss,
        boolean stopAtZeroTrainError, boolean fullTrainEval, int evalBatch, double divergenceFactor) {
      this(batchSize, epochs, dropout, seed, stopTrainLoss, stopAtZeroTrainError, fullTrainEval, evalBatch,
          divergenceFactor, false, 0);
    }

    /** Options with the default divergence factor ({@link #DEFAULT_DIVERGENCE_FACTOR}). */
    public Options(int batchSize, int epochs, Dropout dropout, long seed, double stopTrainLoss,
        boolean stopAtZeroTrainError, boolean fullTrainEval, int evalBatch) {
      this(batchSize, epochs, dropout, seed, stopTrainLoss, stopAtZeroTrainError, fullTrainEval, evalBatch,
          DEFAULT_DIVERGENCE_FACTOR);
    }
  }

  private final Network net;
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
  public Trainer(Network net, Optimizer optimizer, Dataset train, Dataset validation, Dataset test, Options opt,
      String configHash) {
    if (train.dim() != net.inputs()) {
      throw new IllegalArgumentException("network expects " + net.inputs() + " inputs, dataset "
          + train.name() + " has " + train.dim() + " features");
    }
    if (train.regression() && (net.layout().denseChain() != null || net.outputs() != 1)) {
      throw new IllegalArgumentException("dataset " + train.name() + " has real targets (regression, mean squared "
          + "error): expected a network of layers (--layers) with 1 output, got " + (net.layout().denseChain() != null
              ? "a fully connected network (--hidden), which trains with softmax cross-entropy only" : net.outputs()
              + " outputs"));
    }
    if (train.numClasses() > net.outputs()) {
      throw new IllegalArgumentException("network has " + net.outputs() + " outputs, dataset "
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

  /**
   * The network: one with a dense chain (folded steps where the optimizer allows) or any other network of layers
   * (unfused).
   */
  public Network network() {
    return net;
  }

  public OptState optimizerState() {
    return state;
  }

  /**
   * Trains from scratch, or resumes from {@code checkpoint} when that file exists; a checkpoint that is damaged or
   * not this run's (config hash, layout, epoch budget, steps per epoch, optimizer state) is refused with an {@link
   * UncheckedIOException} naming the file, never resumed. The loop's own rules are listeners after {@code listener}:
   * the {@link DivergenceCheck}, the {@link CheckpointListener} (when {@code checkpoint} is not null) and the {@link
   * StopRules}, asked in that order after each epoch.
   */
  public RunResult run(TrainingListener listener, Path checkpoint) {
    List<EpochRecord> history = new ArrayList<>();
    int startEpoch = resume(checkpoint, history);
    Rng root = new Rng(opt.seed());
    int n = train.n();
    int B = Math.min(opt.batchSize(), n);
    int steps = stepsPerEpoch();
    DivergenceCheck divergence = new DivergenceCheck(opt.divergenceFactor(), net.outputs());
    StopRules stopRules = new StopRules(opt.stopTrainLoss(), opt.stopAtZeroTrainError());
    TrainingListener checkpoints = checkpoint == null ? TrainingListener.NONE
        : new CheckpointListener(checkpoint, e -> new Checkpoint(configHash, Checkpoint.widths(net.layout()), e, steps,
            net.params().toArray(), state.export(), history), listener);
    TrainingListener all = Listeners.compose(listener, divergence, checkpoints, stopRules);
    if (!history.isEmpty()) {
      all.onResume(List.copyOf(history));
    }
    all.onStart(startEpoch, opt.epochs(), steps);
    if (history.isEmpty()) {
      long t0 = System.nanoTime();
      EpochRecord r0 = withNorms(withEval(evaluateAll(0, Double.NaN, 0, 0), (System.nanoTime() - t0) / 1e9));
      history.add(r0);
      all.onEpoch(r0);
      Stop stop = divergence.afterEpoch(r0); // epoch 0: no checkpoint, no stop rule
      if (stop != null) {
        return new RunResult(stop.status(), stop.reason(), 0, history, net);
      }
    } else {
      // a resumed run: the last checkpointed epoch may already have met a stop rule (killed before its summary)
      EpochRecord last = history.get(history.size() - 1);
      Stop stop = opt.maxSteps() > 0 && (long) last.epoch() * steps >= opt.maxSteps() ? stepBudget(last.epoch(), steps,
          steps) : stopRules.afterEpoch(last);
      if (stop != null) {
        return new RunResult(stop.status(), stop.reason(), last.epoch(), history, net);
      }
    }
    TrainStep step = new TrainStep(net, optimizer, net.workspace(B), state, true);
    Network.Workspace ws = step.workspace();
    int[] order = new int[n];
    int[] labels = new int[B];
    float[] targets = train.regression() ? new float[B] : null; // the batch's real targets, read by the MSE loss
    if (targets != null) {
      ws.loss(Loss.mse(targets));
    }
    int d = train.dim();
    float[] x = train.x();
    int[] y = train.y();
    int epoch = startEpoch - 1;
    Stop stop = null;
    for (int e = startEpoch; e <= opt.epochs() && stop == null; e++) {
      Rng shuffle = root.split("shuffle/" + e);
      Rng dropRng = root.split("dropout/" + e);
      for (int i = 0; i < n; i++) {
        order[i] = i;
      }
      shuffle.shuffle(order);
      long t0 = System.nanoTime();
      double lossSum = 0;
      long errSum = 0;
      long seen = 0;
      int taken = 0;
      for (int s = 0; s < steps && stop == null; s++) {
        int from = s * B;
        int rows = Math.min(B, n - from);
        for (int b = 0; b < rows; b++) {
          int idx = order[from + b];
          ws.input().copyFrom(x, idx * d, b * d, d);
          labels[b] = y[idx];
          if (targets != null) {
            targets[b] = train.targets()[idx];
          }
        }
        StepStats st = step.run(rows, labels, opt.dropout(), dropRng);
        stop = all.afterStep(e, s + 1, steps, st.loss());
        if (stop == null) {
          lossSum += st.loss() * rows;
          errSum += st.errors();
          seen += rows;
          taken = s + 1;
          all.onStep(e, s + 1, st.loss());
          if (opt.maxSteps() > 0 && (long) (e - 1) * steps + s + 1 >= opt.maxSteps()) {
            break; // the step budget: this epoch ends here (partial unless this was its last step)
          }
        }
      }
      double seconds = (System.nanoTime() - t0) / 1e9;
      if (stop != null) {
        break;
      }
      epoch = e;
      long t1 = System.nanoTime();
      EpochRecord r = withNorms(withEval(evaluateAll(e, lossSum / seen, (double) errSum / seen, seconds),
          (System.nanoTime() - t1) / 1e9));
      history.add(r);
      all.onEpoch(r);
      if (taken < steps) { // a partial epoch at the step budget: no checkpoint, no stop rule but divergence
        stop = divergence.afterEpoch(r);
        if (stop == null) {
          stop = stepBudget(e, taken, steps);
        }
        break;
      }
      stop = all.afterEpoch(r);
      if (stop == null && opt.maxSteps() > 0 && (long) e * steps >= opt.maxSteps()) {
        stop = stepBudget(e, steps, steps);
      }
    }
    return stop == null ? new RunResult(RunResult.COMPLETED, "epoch budget of " + opt.epochs() + " reached", epoch,
        history, net) : new RunResult(stop.status(), stop.reason(), epoch, history, net);
  }

  private Stop stepBudget(int epoch, int taken, int steps) {
    return new Stop(RunResult.COMPLETED, "step budget of " + opt.maxSteps() + " steps reached"
        + (taken < steps ? " in epoch " + epoch + " (a partial epoch: " + taken + " of its " + steps + " steps)"
            : " at the end of epoch " + epoch));
  }

  private EpochRecord withNorms(EpochRecord r) {
    if (!opt.recordNorms()) {
      return r;
    }
    long t0 = System.nanoTime();
    ModelNorms n = ModelNorms.of(net);
    return r.withNorms(n, (System.nanoTime() - t0) / 1e9);
  }

  /** Restores the network, the optimizer state and {@code history} from the checkpoint, if any; the first epoch. */
  private int resume(Path checkpoint, List<EpochRecord> history) {
    if (checkpoint == null || !Files.exists(checkpoint)) {
      return 1;
    }
    try {
      // refuses (naming the file and how to start over) anything but an intact checkpoint of this very run
      Checkpoint c = Checkpoint.readForResume(checkpoint, configHash, net.layout(), opt.epochs(), stepsPerEpoch(),
          state.export());
      net.params().copyFrom(c.params(), 0, 0, c.params().length);
      state.restore(c.optState());
      history.addAll(c.history());
      return c.epoch() + 1;
    } catch (IOException e) {
      throw new UncheckedIOException(e.getMessage(), e);
    }
  }

  /** Mini-batches per epoch (the last one may be partial). */
  private int stepsPerEpoch() {
    int b = Math.min(opt.batchSize(), train.n());
    return (train.n() + b - 1) / b;
  }

  private static EpochRecord withEval(EpochRecord r, double evalSeconds) {
    return new EpochRecord(r.epoch(), r.trainLoss(), r.trainError(), r.validationLoss(), r.validationError(),
        r.testLoss(), r.testError(), r.seconds(), evalSeconds, r.kappaClamped(), r.norms(), r.normSeconds());
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
        state.clamped());
  }

  /**
   * Mean loss and error fraction of {@code net} on {@code data}, without dropout: cross-entropy and the fraction
   * misclassified, or for a regression set ({@link Dataset#regression()}) the mean squared error and the fraction of
   * rows with |y − t| ≥ {@link Loss#REGRESSION_TOLERANCE}.
   */
  public static double[] evaluate(Network net, Dataset data, int evalBatch) {
    int n = data.n();
    if (n == 0) {
      return new double[] {Double.NaN, Double.NaN};
    }
    int B = Math.min(evalBatch, n);
    Network.Workspace ws = net.workspace(B);
    if (data.regression()) {
      ws.loss(Loss.mse(data.targets()));
    }
    int d = data.dim();
    double loss = 0;
    long errors = 0;
    for (int from = 0; from < n; from += B) {
      int rows = Math.min(B, n - from);
      ws.input().copyFrom(data.x(), from * d, 0, rows * d);
      StepStats s = net.evaluate(ws, rows, data.y(), from);
      loss += s.loss();
      errors += s.errors();
    }
    return new double[] {loss / n, (double) errors / n};
  }
}
