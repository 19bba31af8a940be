package io.github.pathsgd.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import ai.djl.training.Trainer;
import ai.djl.training.listener.TrainingListener;
import ai.djl.training.listener.TrainingListenerAdapter;
import java.nio.FloatBuffer;
import java.util.List;

/**
 * Path-SGD inside DJL's own training loop: a {@link TrainingListener} whose {@code onTrainingBatch} (which {@code
 * EasyTrain.fit} calls after the backward pass and before {@code trainer.step()}) divides every gradient by κ, in
 * place, so that the trainer's optimizer then applies the path-normalized gradient. With DJL's {@code Sgd} (and its
 * momentum) that is pathsgd's {@code path-sgd} optimizer, chain(path_normalize(p), trace(μ), scale(−η)).
 *
 * <p>Why a listener and not an {@code Optimizer}: DJL calls {@code Optimizer.update(id, weight, grad)} once per
 * parameter with no hook before the first, while κ of every parameter needs every weight of the model; the listener
 * sees the whole model at the one point where all gradients are final and none is applied, and it leaves the choice of
 * optimizer (momentum, learning-rate schedule) to the user. κ is computed once per step on the host, in double through
 * pathsgd's path sweeps, with pathsgd's range handling (κ stored as float mantissa and exponent, floored coordinates
 * counted): the weights are copied out, the gradients copied out, divided and written back into the gradient arrays.
 *
 * <p>A custom loop that calls {@code trainer.step()} itself must call {@link #apply()} (or notify the listeners)
 * before it. One device only: the gradients of other device copies are not normalized (refused). DJL's weight decay,
 * applied inside {@code Sgd}'s step, is not path-normalized.
 */
public final class PathSgdListener extends TrainingListenerAdapter {
  private final double p;
  private DjlNetwork net;
  private PathsgdGraph.Normalizer normalizer;
  private List<Parameter> params;
  private int[] offsets;
  private long steps;
  private long moveNanos;
  private long kappaNanos;

  private PathSgdListener(DjlNetwork net, double p) {
    this.p = p;
    if (net != null) {
      bind(net);
    }
  }

  private void bind(DjlNetwork n) {
    this.net = n;
    this.normalizer = n.graph().normalizer(p);
    this.params = n.parameters();
    this.offsets = n.offsets();
  }

  /** Path-SGD with the ℓp path regularizer's geometry (p = 2 is the paper's default; p ≥ 1, or ∞) for {@code net}. */
  public static PathSgdListener of(DjlNetwork net, double p) {
    return new PathSgdListener(net, p);
  }

  /**
   * Path-SGD for the trainer's model, described ({@link DjlNetwork#of(ai.djl.nn.Block)}) at the first batch, when the
   * trainer has initialized it: the listener to put in the {@code DefaultTrainingConfig}.
   */
  public static PathSgdListener of(double p) {
    return new PathSgdListener(null, p);
  }

  /** The description of the model, once known (null before the first batch of {@link #of(double)}). */
  public DjlNetwork network() {
    return net;
  }

  @Override
  public void onTrainingBatch(Trainer trainer, BatchData batchData) {
    if (trainer.getDevices().length != 1) {
      throw new IllegalStateException("djl: Path-SGD runs on one device; the trainer has "
          + trainer.getDevices().length);
    }
    if (net == null) {
      bind(DjlNetwork.of(trainer.getModel().getBlock()));
    }
    apply();
  }

  /**
   * Divides the gradient of every parameter of the model by κ of the current weights, in place: call after the
   * backward pass and before {@code trainer.step()}.
   */
  public void apply() {
    if (net == null) {
      throw new IllegalStateException("djl: Path-SGD does not know the model before its first batch");
    }
    long t0 = System.nanoTime();
    net.pullWeights();
    FloatBuffer u = normalizer.updates();
    for (int i = 0; i < params.size(); i++) {
      try (NDArray g = params.get(i).getArray().getGradient()) {
        DjlNetwork.copyIn(g, u, offsets[i]);
      }
    }
    long t1 = System.nanoTime();
    normalizer.apply();
    long t2 = System.nanoTime();
    for (int i = 0; i < params.size(); i++) {
      try (NDArray g = params.get(i).getArray().getGradient()) {
        DjlNetwork.copyOut(u, offsets[i], g);
      }
    }
    long t3 = System.nanoTime();
    moveNanos += (t1 - t0) + (t3 - t2);
    kappaNanos += t2 - t1;
    steps++;
  }

  /** Coordinates whose κ was floored, or that got no update, at the last step. */
  public long clamped() {
    return normalizer.clamped();
  }

  /** Steps normalized so far. */
  public long steps() {
    return steps;
  }

  /** Host time spent copying weights and gradients between DJL and pathsgd, in seconds, over all steps. */
  public double moveSeconds() {
    return moveNanos / 1e9;
  }

  /** Host time spent computing κ and dividing, in seconds, over all steps. */
  public double kappaSeconds() {
    return kappaNanos / 1e9;
  }
}
