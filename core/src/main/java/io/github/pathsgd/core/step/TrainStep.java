package io.github.pathsgd.core.step;

import io.github.pathsgd.core.nn.DenseChain;
import io.github.pathsgd.core.nn.Dropout;
import io.github.pathsgd.core.nn.FoldedStep;
import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.core.nn.Network;
import io.github.pathsgd.core.nn.StepStats;
import io.github.pathsgd.core.optim.Foldable;
import io.github.pathsgd.core.optim.OptState;
import io.github.pathsgd.core.optim.Optimizer;
import io.github.pathsgd.core.tensor.Blas;
import io.github.pathsgd.core.tensor.Tensor;
import io.github.pathsgd.core.util.Rng;

/**
 * One training step of a network with an optimizer, allocation-free after the first: it owns the activation
 * workspace, the optimizer state, the gradient buffer (made on the first unfused step) and the fold scratch.
 *
 * <p>When the network's layout is a chain of dense layers ({@link io.github.pathsgd.core.nn.NetLayout#denseChain()}),
 * the optimizer's transform is {@link Foldable} and {@link Foldable#prepare}
 * accepts the step, the update is folded into the weight-gradient GEMMs ({@link Network#fusedBackward}, as {@link LayerNet#fusedStep}; no gradient buffer);
 * otherwise {@link Network#lossAndGradient}, then {@link Optimizer#step}. A {@code prepare} that reads the parameters
 * (Path-SGD's κ pass) runs after the forward pass, where the forward GEMMs have just brought the weights into this
 * core's cache; the result is the same as running it first, bit for bit. A network of layers ({@link
 * io.github.pathsgd.core.nn.LayerNet}: convolutions, pooling) always takes the unfused step. Both give the same parameters up to float rounding and advance the
 * state the same way. A step whose loss is not finite leaves the parameters and the step counts untouched.
 *
 * <pre>
 *   TrainStep step = new TrainStep(net, Optimizers.pathSgd(0.01, 2), 100);
 *   step.workspace().input().copyFrom(x, 0, 0, 100 * 784);
 *   StepStats s = step.run(100, labels, Dropout.NONE, null);
 * </pre>
 */
public final class TrainStep {
  private final Network net;
  private final Optimizer optimizer;
  private final Network.Workspace ws;
  private final OptState state;
  private final Foldable<?> foldable;
  private final FoldedStep fold;
  private Tensor grads;
  private final PrepareWorker.Task prepareTask; // a prepare that reads the parameters (null: none), run after forward
  private boolean overlap = OVERLAP_DEFAULT;

  /** A step for batches of up to {@code maxBatch} rows, with a fresh optimizer state; folded where possible. */
  public TrainStep(Network net, Optimizer optimizer, int maxBatch) {
    this(net, optimizer, net.workspace(maxBatch), optimizer.init(net.layout()), true);
  }

  /**
   * A step over an existing workspace and state (a trainer that checkpoints the state keeps it).
   *
   * @param fold whether to fold the update into the GEMMs when the transform allows it (false: always unfused)
   */
  public TrainStep(Network net, Optimizer optimizer, Network.Workspace ws, OptState state, boolean fold) {
    if (!state.layout().equals(net.layout())) {
      throw new IllegalArgumentException("optimizer state of layout " + state.layout() + " for network "
          + net.layout());
    }
    this.net = net;
    this.optimizer = optimizer;
    this.ws = ws;
    this.state = state;
    DenseChain chain = net.layout().denseChain(); // the folded step runs on a chain of dense layers
    this.foldable = fold && chain != null && optimizer.transform() instanceof Foldable<?> f ? f : null;
    this.fold = foldable == null ? null : new FoldedStep(chain);
    if (foldable != null && foldable.preparesOnParameters()) {
      Foldable<?> fd = foldable;
      FoldedStep fs = this.fold;
      Tensor params = net.params();
      this.prepareTask = () -> fd.prepareUnchecked(state, params, fs);
    } else {
      this.prepareTask = null;
    }
  }

  /**
   * Whether a folded step can run the fold's {@code prepare} (Path-SGD's κ pass) on a second thread during the forward
   * pass: OpenBLAS has at least two threads and the machine two cores. The overlap is off unless asked for ({@link
   * #overlap(boolean)}, or {@code -Dpathsgd.overlap=true} for every step): measured on the project's 2-vCPU machine it
   * made the 2-thread Path-SGD step slower (the κ thread takes a core from OpenBLAS's second GEMM thread;
   * docs/performance.md). The result is the same either way, bit for bit.
   */
  public static boolean overlapEnabled() {
    return Blas.threads() >= 2 && Runtime.getRuntime().availableProcessors() >= 2;
  }

  /**
   * Turns the overlapped κ pass of this step on (where {@link #overlapEnabled} allows it) or off (the default); the
   * parameters come out the same either way.
   */
  public TrainStep overlap(boolean on) {
    overlap = on;
    return this;
  }

  /** The system property that turns the overlapped κ pass on for every step ({@code -Dpathsgd.overlap=true}). */
  public static final String OVERLAP_PROPERTY = "pathsgd.overlap";

  private static final boolean OVERLAP_DEFAULT = "true".equals(System.getProperty(OVERLAP_PROPERTY));

  /** Never folded: the reference for the folded step. */
  public static TrainStep unfused(Network net, Optimizer optimizer, int maxBatch) {
    return new TrainStep(net, optimizer, net.workspace(maxBatch), optimizer.init(net.layout()), false);
  }

  public Network network() {
    return net;
  }

  public Optimizer optimizer() {
    return optimizer;
  }

  /** The workspace: fill the first B rows of {@code workspace().input()} before {@link #run}. */
  public Network.Workspace workspace() {
    return ws;
  }

  public OptState state() {
    return state;
  }

  /** Whether steps are folded when the transform's {@code prepare} accepts them. */
  public boolean folds() {
    return foldable != null;
  }

  /** One step on the first B rows of the workspace input with labels {@code labels[0..B)}. */
  public StepStats run(int B, int[] labels, Dropout dropout, Rng rng) {
    return run(B, labels, 0, dropout, rng);
  }

  /** One step on the first B rows of the workspace input with labels {@code labels[yOff..yOff+B)}. */
  public StepStats run(int B, int[] labels, int yOff, Dropout dropout, Rng rng) {
    if (prepareTask != null && overlap && overlapEnabled()) {
      return runOverlapped(B, labels, yOff, dropout, rng);
    }
    if (prepareTask != null) {
      // a prepare that reads the parameters (Path-SGD's κ pass) runs after the forward pass: the forward GEMMs have
      // just read every weight, so the pass finds them in this core's cache instead of split between the cores that
      // wrote them in the previous step's update (docs/performance.md); the same arithmetic, bit for bit
      fold.reset();
      net.forward(ws, B, dropout, rng);
      return afterForward(B, labels, yOff, dropout, foldable.prepareUnchecked(state, net.params(), fold));
    }
    if (foldable != null) {
      fold.reset();
      if (foldable.prepareUnchecked(state, net.params(), fold)) {
        net.forward(ws, B, dropout, rng);
        StepStats st = net.fusedBackward(ws, B, labels, yOff, dropout, fold);
        if (Double.isFinite(st.loss())) {
          foldable.commitUnchecked(state);
        }
        return st;
      }
    }
    if (grads == null) {
      grads = new Tensor(net.layout().size());
    }
    StepStats st = net.lossAndGradient(ws, B, labels, yOff, grads, dropout, rng);
    if (Double.isFinite(st.loss())) {
      optimizer.step(net.params(), grads, state);
    }
    return st;
  }

  /**
   * The folded step with {@code prepare} on the worker thread while this thread runs the forward pass; then the folded
   * backward pass, or, when {@code prepare} refuses, the unfused gradient of the same forward pass (same dropout masks)
   * and the optimizer's step: the same arithmetic as {@link #run} on one thread.
   */
  private StepStats runOverlapped(int B, int[] labels, int yOff, Dropout dropout, Rng rng) {
    fold.reset();
    PrepareWorker worker = PrepareWorker.forCurrentThread();
    worker.submit(prepareTask);
    try {
      net.forward(ws, B, dropout, rng);
    } catch (RuntimeException | Error e) {
      worker.await(); // never leave the worker running on the state
      throw e;
    }
    return afterForward(B, labels, yOff, dropout, worker.await());
  }

  private StepStats afterForward(int B, int[] labels, int yOff, Dropout dropout, boolean prepared) {
    if (prepared) {
      StepStats st = net.fusedBackward(ws, B, labels, yOff, dropout, fold);
      if (Double.isFinite(st.loss())) {
        foldable.commitUnchecked(state);
      }
      return st;
    }
    if (grads == null) {
      grads = new Tensor(net.layout().size());
    }
    StepStats st = net.gradientAfterForward(ws, B, labels, yOff, grads, dropout);
    if (Double.isFinite(st.loss())) {
      optimizer.step(net.params(), grads, state);
    }
    return st;
  }
}
