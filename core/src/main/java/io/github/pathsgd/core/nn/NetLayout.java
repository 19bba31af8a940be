package io.github.pathsgd.core.nn;

/**
 * What the optimizer states and checkpoints need to know of a network's parameter vector: its size, and a
 * description that two networks share exactly when their parameters mean the same. {@link ParamLayout} (fully connected
 * networks, whose Path-SGD folds into the GEMMs) and {@link LayerLayout} (any sequence of {@link Layer}s) implement it;
 * callers never ask which: they ask {@link #denseChain()} for the fast path and {@link #checkpointWidths()} for the
 * checkpoint's layout field.
 */
public interface NetLayout {
  /** Total parameter count. */
  int size();

  /** The layers over the parameter vector, in order (their {@link Layer#paramSlices()} tile it). */
  java.util.List<Layer> sequence();

  /**
   * The widths and offsets of a chain of dense layers, when the network is one that takes the fast path: the folded
   * GEMM step ({@link Mlp#fusedBackward}) and κ of rank one per layer ({@code geometry.Kappa}); null for a network
   * whose κ is per parameter ({@code geometry.LayerKappa}).
   */
  default ParamLayout denseChain() {
    return null;
  }

  /**
   * The layout field a checkpoint writes: the widths n_0..n_L of a {@link #denseChain()}, else {0, {@link #size()}}
   * (the form checkpoints have always had, so that old files load).
   */
  default int[] checkpointWidths() {
    return new int[] {0, size()};
  }
}
