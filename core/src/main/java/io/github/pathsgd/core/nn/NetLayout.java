package io.github.pathsgd.core.nn;

/**
 * What the optimizer states and checkpoints need to know of a network's parameter vector: its size, and a
 * description that two networks share exactly when their parameters mean the same. {@link ParamLayout} (fully connected
 * networks, whose Path-SGD folds into the GEMMs) and {@link LayerLayout} (any sequence of {@link Layer}s) implement it.
 */
public interface NetLayout {
  /** Total parameter count. */
  int size();
}
