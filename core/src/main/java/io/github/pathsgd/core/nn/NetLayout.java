package io.github.pathsgd.core.nn;

import java.util.List;

/**
 * The parameter layout of a {@link LayerNet}: its layers, in order, over one parameter vector of {@link #size()}
 * floats, and the {@link DenseChain} when the network takes the fast path. It is what the optimizer states and
 * checkpoints need to know of a network's parameter vector: its size, and a description that two networks share
 * exactly when their parameters mean the same.
 *
 * <p>A layout with a dense chain is described by its widths: two such layouts are equal when their widths are, and its
 * {@link #toString()} is the chain's ({@code 784-100-10}). Any other layout is described by its layers: equal when
 * their kinds, shapes and offsets are ({@code dense[784->100@0+78500],...}). A layout of each kind is never equal to
 * one of the other.
 */
public final class NetLayout {
  private final List<Layer> layers;
  private final int size;
  private final DenseChain chain;
  private final String text;

  /** {@code layers} over {@code size} floats; {@code chain}: the fast path's descriptor of them, or null. */
  NetLayout(List<Layer> layers, int size, DenseChain chain) {
    this.layers = List.copyOf(layers);
    this.size = size;
    this.chain = chain;
    if (chain != null) {
      this.text = chain.toString();
    } else {
      StringBuilder sb = new StringBuilder();
      for (Layer l : layers) {
        sb.append(sb.length() == 0 ? "" : ",").append(describe(l));
      }
      this.text = sb.toString();
    }
  }

  /** The layout of the fully connected network of {@code chain} ({@link LayerNet#dense}). */
  public static NetLayout dense(DenseChain chain) {
    return new NetLayout(List.of(Dense.of(chain)), chain.size(), chain);
  }

  /** The layout of the fully connected network of widths n_0..n_L. */
  public static NetLayout dense(int... widths) {
    return dense(new DenseChain(widths));
  }

  /** A layer in words: its kind, in → out widths and parameter range. */
  private static String describe(Layer l) {
    return l.kind() + "[" + l.in() + "->" + l.out() + "@" + l.paramOffset() + "+" + l.paramSize() + "]";
  }

  /** Total parameter count. */
  public int size() {
    return size;
  }

  /** The layers over the parameter vector, in order (their {@link Layer#paramSlices()} tile it). */
  public List<Layer> sequence() {
    return layers;
  }

  /**
   * The widths and offsets of the chain of dense layers when the network takes the fast path: the folded GEMM step
   * ({@link LayerNet#fusedBackward}) and κ of rank one per layer ({@code geometry.Kappa}); null for a network whose κ
   * is per parameter ({@code geometry.LayerKappa}).
   */
  public DenseChain denseChain() {
    return chain;
  }

  /**
   * The layout field a checkpoint writes: the widths n_0..n_L of a {@link #denseChain()}, else {0, {@link #size()}}
   * (the form checkpoints have always had, so that old files load).
   */
  public int[] checkpointWidths() {
    return chain != null ? chain.widths() : new int[] {0, size};
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof NetLayout l && (chain == null ? l.chain == null && l.size == size && l.text.equals(text)
        : chain.equals(l.chain));
  }

  @Override
  public int hashCode() {
    return chain != null ? chain.hashCode() : text.hashCode();
  }

  @Override
  public String toString() {
    return text;
  }
}
