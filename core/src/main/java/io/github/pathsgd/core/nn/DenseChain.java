package io.github.pathsgd.core.nn;

import java.util.Arrays;

/**
 * The descriptor of a chain of dense layers: its widths and where each layer's parameters sit in the one flat float32
 * vector. It is what {@link NetLayout#denseChain()} returns for a network that takes the fast path (the folded GEMM
 * step of {@link LayerNet#fusedBackward} and κ of rank one per layer), and what {@link LayerNet#dense} builds a
 * network from; it is not a layout itself.
 *
 * <p>A network with widths {@code n_0, ..., n_L} has L layers. Layer l (0-based) maps width {@code n_l} to
 * {@code n_{l+1}}: its weight W_l is (n_{l+1}, n_l) row-major ("out x in", as PyTorch's {@code nn.Linear}) and its bias
 * b_l is (n_{l+1}). The flat order is W_0, b_0, W_1, b_1, ... Parameters, gradients and every optimizer buffer share
 * this layout, so an elementwise optimizer is one loop and a checkpoint is one array.
 */
public final class DenseChain {
  /**
   * The most floats one buffer may hold: every parameter, gradient and activation buffer is one direct
   * {@code ByteBuffer}, whose capacity is an int count of bytes, so at most (2^31 - 1) / 4 = 536,870,911 floats.
   */
  public static final int MAX_PARAMS = Integer.MAX_VALUE / Float.BYTES;

  private final int[] widths;
  private final int[] wOff;
  private final int[] bOff;
  private final int total;

  public DenseChain(int... widths) {
    if (widths.length < 2) {
      throw new IllegalArgumentException("a network needs at least an input and an output width, got "
          + Arrays.toString(widths));
    }
    for (int i = 0; i < widths.length; i++) {
      if (widths[i] <= 0) {
        throw new IllegalArgumentException("width " + i + " must be a positive integer, got " + widths[i]);
      }
    }
    this.widths = widths.clone();
    int layers = widths.length - 1;
    wOff = new int[layers];
    bOff = new int[layers];
    // each layer's count fits a long (below 2^62), their sum may not: summed exactly
    java.math.BigInteger need = java.math.BigInteger.ZERO;
    for (int l = 0; l < layers; l++) {
      need = need.add(java.math.BigInteger.valueOf((long) widths[l + 1] * widths[l] + widths[l + 1]));
    }
    if (need.compareTo(java.math.BigInteger.valueOf(MAX_PARAMS)) > 0) {
      throw new IllegalArgumentException("network " + text(widths) + " has " + need + " parameters, more than the "
          + MAX_PARAMS + " one float32 buffer can hold (a direct buffer has at most 2^31 - 1 bytes); use smaller "
          + "hidden widths");
    }
    long off = 0;
    for (int l = 0; l < layers; l++) {
      wOff[l] = (int) off;
      off += (long) widths[l + 1] * widths[l];
      bOff[l] = (int) off;
      off += widths[l + 1];
    }
    total = (int) off;
  }

  /**
   * The chain that {@code layers} are, or null: every layer declares itself fully connected ({@link
   * Layer#fullyConnected()}), consecutive layers agree in width, each is followed by a ReLU except the last, and the
   * parameters lie in the order W_0, b_0, W_1, b_1, ... from offset 0. This is the one test that selects the fast
   * path ({@link NetLayout}).
   */
  static DenseChain of(java.util.List<Layer> layers) {
    int L = layers.size();
    int[] w = new int[L + 1];
    for (int k = 0; k < L; k++) {
      Layer l = layers.get(k);
      if (!l.fullyConnected() || l.relu() != (k < L - 1) || (k > 0 && w[k] != l.in())) {
        return null;
      }
      w[k] = l.in();
      w[k + 1] = l.out();
    }
    if (L == 0) {
      return null;
    }
    DenseChain chain = new DenseChain(w);
    for (int k = 0; k < L; k++) {
      if (layers.get(k).paramOffset() != chain.weightOffset(k) || layers.get(k).paramSize() != chain.weightSize(k)
          + chain.out(k)) {
        return null;
      }
    }
    return chain;
  }

  /** The widths n_0..n_L (a copy). */
  public int[] widths() {
    return widths.clone();
  }

  public int width(int i) {
    return widths[i];
  }

  /** Number of weight layers L. */
  public int layers() {
    return widths.length - 1;
  }

  public int inputs() {
    return widths[0];
  }

  public int outputs() {
    return widths[widths.length - 1];
  }

  /** fan-in of layer l = n_l. */
  public int in(int l) {
    return widths[l];
  }

  /** fan-out of layer l = n_{l+1}. */
  public int out(int l) {
    return widths[l + 1];
  }

  public int weightOffset(int l) {
    return wOff[l];
  }

  public int biasOffset(int l) {
    return bOff[l];
  }

  public int weightSize(int l) {
    return widths[l + 1] * widths[l];
  }

  /** Total parameter count. */
  public int size() {
    return total;
  }

  /** The widest layer, input and output included. */
  public int maxWidth() {
    int m = 0;
    for (int w : widths) {
      m = Math.max(m, w);
    }
    return m;
  }

  /**
   * Refuses a batch whose activations do not fit one buffer: a workspace holds {@code batch x width} floats per
   * layer, at most {@link #MAX_PARAMS}.
   *
   * @throws IllegalArgumentException naming the batch, the widest layer and the largest batch that fits
   */
  public void requireBatch(int batch) {
    if (batch <= 0) {
      throw new IllegalArgumentException("batch size must be positive, got " + batch);
    }
    long need = (long) batch * maxWidth();
    if (need > MAX_PARAMS) {
      throw new IllegalArgumentException("a batch of " + batch + " rows through network " + this + " needs "
          + need + " floats for its widest layer (" + maxWidth() + " units), more than the " + MAX_PARAMS
          + " one float32 buffer can hold; use a batch of at most " + MAX_PARAMS / maxWidth()
          + " or smaller widths");
    }
  }

  /** Number of hidden units (all layers except input and output). */
  public int hiddenUnits() {
    int h = 0;
    for (int i = 1; i < widths.length - 1; i++) {
      h += widths[i];
    }
    return h;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof DenseChain p && Arrays.equals(widths, p.widths);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(widths);
  }

  @Override
  public String toString() {
    return text(widths);
  }

  private static String text(int[] widths) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < widths.length; i++) {
      sb.append(i == 0 ? "" : "-").append(widths[i]);
    }
    return sb.toString();
  }
}
