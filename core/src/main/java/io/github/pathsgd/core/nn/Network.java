package io.github.pathsgd.core.nn;

import io.github.pathsgd.core.tensor.Tensor;
import io.github.pathsgd.core.util.Rng;
import java.util.List;

/**
 * A feed-forward network trained with softmax cross-entropy over one flat parameter vector: what the training step,
 * the trainer and the evaluation need of it. {@link Mlp} (fully connected, with the folded step) and {@link LayerNet}
 * (any sequence of layers: convolutions, pooling, dense) implement it.
 */
public interface Network {
  /** The parameter layout (optimizer states and checkpoints follow it). */
  NetLayout layout();

  /** The parameters (not a copy). */
  Tensor params();

  /** The layers, in order. */
  List<Layer> layers();

  /** Input width (features per row). */
  int inputs();

  /** Output width (logits per row, one per class). */
  int outputs();

  /** A deep copy. */
  Network copy();

  /** Activation buffers for batches of up to {@code maxBatch} rows. */
  Workspace workspace(int maxBatch);

  /**
   * Forward and backward on the first B rows of {@code ws.input()} with labels {@code labels[yOff..yOff+B)}: writes
   * dL/dθ of the mean cross-entropy into {@code grads}; returns the mean loss and the error count.
   */
  Mlp.StepStats lossAndGradient(Workspace ws, int B, int[] labels, int yOff, Tensor grads, Dropout dropout, Rng rng);

  /** Evaluation without dropout: the summed loss and the error count over the first B rows. */
  Mlp.StepStats evaluate(Workspace ws, int B, int[] labels, int yOff);

  /** The buffers of one network for a maximum batch. */
  interface Workspace {
    /** The input batch buffer (maxBatch, inputs): fill its first B rows before a pass. */
    Tensor input();

    /** The largest batch the workspace holds. */
    int maxBatch();
  }
}
