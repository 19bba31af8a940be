package io.github.pathsgd.core.nn;

import io.github.pathsgd.core.tensor.Tensor;
import io.github.pathsgd.core.util.Rng;
import java.util.List;

/**
 * A feed-forward network trained with softmax cross-entropy over one flat parameter vector: what the training step,
 * the trainer and the evaluation need of it. {@link LayerNet} (any sequence of layers: dense, convolutions, pooling,
 * residual blocks, run on its {@link Graph}) is its one implementation; callers never ask what it holds: the folded
 * step is there when {@link NetLayout#denseChain()} is.
 */
public interface Network {
  /** The parameter layout (optimizer states and checkpoints follow it). */
  NetLayout layout();

  /** The parameters (not a copy). */
  Tensor params();

  /** The layers, in order. */
  List<Layer> layers();

  /**
   * The spec the network was built from, which model files record ({@link LayerNet#spec()}); null for a network
   * described by its {@link NetLayout#denseChain()} widths alone ({@link LayerNet#dense}) or built by hand.
   */
  default LayerSpec spec() {
    return null;
  }

  /** The input shape (C, H, W) the network was built for, which model files record with its {@link #spec()}; or null. */
  default int[] inputShape() {
    return null;
  }

  /** Input width (features per row). */
  int inputs();

  /** Output width (logits per row, one per class). */
  int outputs();

  /** A deep copy. */
  Network copy();

  /** Activation buffers for batches of up to {@code maxBatch} rows. */
  Workspace workspace(int maxBatch);

  /**
   * Forward on the first B rows of {@code ws.input()}: the inputs are dropped first when {@code dropout.active()} and
   * {@code dropout.inputRetain() < 1}, the hidden layers use {@code dropout.hiddenRetain()} (masks from {@code rng});
   * returns the logits (B, outputs) of the workspace.
   */
  Tensor forward(Workspace ws, int B, Dropout dropout, Rng rng);

  /**
   * The rest of {@link #lossAndGradient} after its {@link #forward}: the loss of the activations that the forward pass
   * left in {@code ws} (same batch, labels and dropout) and dL/dθ of the mean cross-entropy into {@code grads}.
   */
  StepStats gradientAfterForward(Workspace ws, int B, int[] labels, int yOff, Tensor grads, Dropout dropout);

  /**
   * Forward and backward on the first B rows of {@code ws.input()} with labels {@code labels[yOff..yOff+B)}: writes
   * dL/dθ of the mean cross-entropy into {@code grads}; returns the mean loss and the error count.
   */
  default StepStats lossAndGradient(Workspace ws, int B, int[] labels, int yOff, Tensor grads, Dropout dropout,
      Rng rng) {
    forward(ws, B, dropout, rng);
    return gradientAfterForward(ws, B, labels, yOff, grads, dropout);
  }

  /**
   * The backward pass with the update folded into the weight-gradient GEMMs, after {@link #forward}: only a network
   * whose {@link NetLayout#denseChain()} is not null has it ({@link LayerNet#fusedBackward}); the others refuse.
   */
  default StepStats fusedBackward(Workspace ws, int B, int[] labels, int yOff, Dropout dropout, FoldedStep f) {
    throw new UnsupportedOperationException("network " + layout() + " has no folded step (not a chain of dense "
        + "layers)");
  }

  /** Evaluation without dropout: the summed loss and the error count over the first B rows. */
  StepStats evaluate(Workspace ws, int B, int[] labels, int yOff);

  /**
   * The activation and error buffers of one network for a maximum batch, one per layer boundary (index 0 the input,
   * the last the logits), allocated once and reused every step; the scratch of the ops that need it, and the folded
   * step's where the network takes the fast path. Scratch lives here, never in the network or its ops.
   */
  final class Workspace {
    final Tensor[] acts;
    final Tensor[] deltas;
    final double[] lossOut = new double[2];
    private final int maxBatch;
    final Tensor tmp; // an op's input error before it is added into a shared node's: (maxBatch, widest such input)
    final Tensor scratch; // folded step only: (maxBatch, widest non-output layer), else null
    final float[] biasSum;
    final float[] scaleTmp;
    private float[] blockTmp; // (maxBatch, widest layer) on the heap, made on the first fused Path-SGD step
    Tensor[][] opIns; // a graph's: the activations and errors each op reads and adds into (views, made once)
    Tensor[][] opDins;
    Layer.Scratch[] opScratch; // a graph's: op k's step scratch ({@link Op#scratch}), made once, or null
    Loss loss = Loss.SOFTMAX_CROSS_ENTROPY; // issue 25: a network of layers reads its loss here (Graph)

    /**
     * Buffers for activations of {@code widths[k]} units per row at boundary k, for batches of at most {@code
     * maxBatch} rows; {@code tmpWidth}: the width of the ops' shared scratch ({@link #tmp}, none when 0); {@code
     * folded}: with the scratch of the folded step ({@link LayerNet#fusedBackward}).
     */
    Workspace(int[] widths, int maxBatch, int tmpWidth, boolean folded) {
      if (maxBatch < 1) {
        throw new IllegalArgumentException("batch size must be positive, got " + maxBatch);
      }
      this.maxBatch = maxBatch;
      int L = widths.length - 1;
      acts = new Tensor[L + 1];
      deltas = new Tensor[L + 1];
      for (int k = 0; k <= L; k++) {
        acts[k] = new Tensor(Math.multiplyExact(maxBatch, widths[k]));
        deltas[k] = k == 0 ? null : new Tensor(Math.multiplyExact(maxBatch, widths[k]));
      }
      tmp = tmpWidth > 0 ? new Tensor(Math.multiplyExact(maxBatch, tmpWidth)) : null;
      if (folded) {
        int maxWidth = 1;
        for (int i = 0; i < L; i++) {
          maxWidth = Math.max(maxWidth, widths[i]);
        }
        scratch = new Tensor(Math.multiplyExact(maxBatch, maxWidth));
        biasSum = new float[Math.max(maxWidth, widths[L])];
        scaleTmp = new float[Math.max(maxWidth, widths[L])];
      } else {
        scratch = null;
        biasSum = null;
        scaleTmp = null;
      }
    }

    float[] blockTmp() {
      if (blockTmp == null) {
        blockTmp = new float[maxBatch * scaleTmp.length];
      }
      return blockTmp;
    }

    /**
     * Sets the loss a network of layers ({@link Graph}) applies to its output in this workspace (default softmax
     * cross-entropy). The folded step of a dense chain (a network whose {@link
     * NetLayout#denseChain()} is not null) does not read it (always cross-entropy): a caller with another loss must
     * hold a network built from layers (the trainer refuses a regression data set on a dense chain).
     */
    public Workspace loss(Loss l) {
      this.loss = java.util.Objects.requireNonNull(l, "loss");
      return this;
    }

    /** The input batch buffer (maxBatch, inputs): fill its first B rows before a pass. */
    public Tensor input() {
      return acts[0];
    }

    /** The largest batch the workspace holds. */
    public int maxBatch() {
      return maxBatch;
    }

    /** The output (logits) buffer of the last forward pass. */
    public Tensor logits() {
      return acts[acts.length - 1];
    }

    /** The stored activations at boundary i (0 = input, last = logits), for inspection. */
    public Tensor activation(int i) {
      return acts[i];
    }

    void check(int B) {
      if (B <= 0 || B > maxBatch) {
        throw new IllegalArgumentException("batch of " + B + " rows does not fit a workspace for " + maxBatch);
      }
    }
  }
}
